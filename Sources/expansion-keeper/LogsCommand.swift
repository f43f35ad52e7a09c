import ArgumentParser
import EthereumABI
import EthereumCore
import Foundation
import JSONRPC

/// `expansion-keeper logs` — the operator's `cast logs`: every log of the given contracts over any block
/// range, one JSON object per line in chain order, decoded when it matches a given event.
/// Fetching is `JSONRPC.LogScanner` (adaptive ranges, failover, retries); decoding is `EthereumABI`.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Fetch the logs of contracts over any block range; one JSON object per line, in chain order.",
        discussion: """
            Each line has blockNumber, blockHash, transactionHash, transactionIndex, logIndex (integers), \
            address (EIP-55), topics and data; a log matching an --event signature or an event of an --abi file \
            also has event (its name) and args (name -> canonical value, as `abi decode-log` prints them). \
            Ranges adapt to the provider's limits; retries, failovers and refusals are reported on stderr. \
            A range that cannot be fetched is an error naming it (exit status 1): the lines already printed \
            cover every block before it, so --from-block <its first block> resumes.
            """)

    @Option(name: .customLong("rpc"), help: "A JSON-RPC endpoint URL (repeat for failover; the first is the primary).")
    var rpc: [String] = []

    @Option(name: .customLong("address"), help: "A contract address (repeat for several).")
    var addresses: [String] = []

    @Option(name: .customLong("event"), help: "An event signature to decode, e.g. 'Transfer(address indexed from,address indexed to,uint256 value)' (repeat).")
    var events: [String] = []

    @Option(name: .customLong("abi"), help: "A JSON-ABI file whose events are decoded (repeat).")
    var abiFiles: [String] = []

    @Option(name: .customLong("from-block"), help: "The first block (decimal or 0x hex).")
    var fromBlock: String

    @Option(name: .customLong("to-block"), help: "The last block (decimal, 0x hex, or 'latest').")
    var toBlock: String

    @Option(name: .customLong("max-range"), help: "The most blocks asked for in one eth_getLogs request (default 10000).")
    var maxRange: UInt64?

    @Option(name: .customLong("connect-timeout"), help: "Seconds to establish a connection (default 5).")
    var connectTimeout: Double?

    @Option(name: .customLong("request-timeout"), help: "Seconds for a whole request (default 30).")
    var requestTimeout: Double?

    @Option(name: .customLong("retries"), help: "Retries of a failed request, across endpoints (default 6).")
    var retries: Int?

    @Option(name: .customLong("rate-limit"), help: "Most requests per second over all endpoints (default 0 = unlimited).")
    var rateLimit: Double?

    @Flag(name: .customLong("verify-block-hashes"), help: "Check logs against canonical block hashes (one more batched request per chunk with logs).")
    var verifyBlockHashes = false

    @Flag(name: .customLong("quiet"), help: "No progress lines on stderr (trouble is still reported).")
    var quiet = false

    func run() async throws {
        let decoder = try reporting { try LogDecoder(signatures: events, abiFiles: abiFiles) }
        let filter = LogFilter(addresses: try addresses.map { a in try reporting("--address \(a)") { try Address(a) } })
        guard !rpc.isEmpty else { throw CLIError("give at least one --rpc URL") }
        guard !filter.addresses.isEmpty else { throw CLIError("give at least one --address") }
        let from = try Self.blockNumber(fromBlock, flag: "--from-block")
        var settings = RPCSettings()
        if let connectTimeout { settings.transport.connectTimeout = connectTimeout }
        if let requestTimeout { settings.transport.requestTimeout = requestTimeout }
        // A long scan's calls are bounded by --request-timeout and --retries; --rpc-timeout bounds them only when given.
        settings.callDeadline = ExpansionKeeper.rpcTimeoutGiven
        settings.giveUpAfterDeadline = settings.callDeadline != nil
        if let retries { settings.maxRetries = retries }
        if let rateLimit { settings.requestsPerSecond = rateLimit }
        var scan = LogScanSettings()
        scan.verifyBlockHashes = verifyBlockHashes
        if let maxRange {
            guard maxRange >= 1 else { throw CLIError("--max-range must be at least 1") }
            scan.maxRange = maxRange
            scan.initialRange = min(scan.initialRange, maxRange)
        }
        let stderr = StandardError()
        let client = try reporting { try RPCClient(urls: rpc, settings: settings, observer: { event in
            switch event {
            case let .retry(method, attempt, endpoint, error, delay):
                stderr.line("retry \(attempt) of \(method) on \(endpoint) in \(String(format: "%.2f", delay)) s: \(error)")
            case let .failover(fromName, to):
                stderr.line("failover: \(fromName) -> \(to)")
            case let .endpointDisabled(endpoint, reason):
                stderr.line("endpoint \(endpoint) disabled: \(reason)")
            }
        }) }
        defer { client.shutdown() }
        do {
            let chain = try await client.verifyChainID()
            let to: UInt64
            if toBlock == "latest" { to = try await client.blockNumber() } else { to = try Self.blockNumber(toBlock, flag: "--to-block") }
            guard from <= to else { throw CLIError("--from-block \(from) is after --to-block \(to)") }
            if !quiet { stderr.line("chain \(chain): logs of \(filter.addresses.count) address(es), blocks \(from)-\(to)") }
            let scanner = LogScanner(client: client, filter: filter, settings: scan)
            let out = StandardOutput()
            defer { out.flush() }  // on an error too: the lines printed cover every block before the failed range
            var lastProgress = ContinuousClock.now
            var total = 0
            let quiet = self.quiet
            let stats = try await scanner.scan(from: from, to: to, onRefusal: { r in
                stderr.line("provider refused blocks \(r.from)-\(r.to) (\(r.error)); next range \(r.nextRange) blocks")
            }) { range, logs in
                var text = ""
                for log in logs { decoder.appendLine(log, to: &text) }
                out.write(text)
                total += logs.count
                if !quiet, lastProgress.duration(to: .now) > .seconds(1) || range.upperBound == to {
                    lastProgress = .now
                    let done = Double(range.upperBound - from + 1) / Double(to - from + 1) * 100
                    stderr.line("blocks \(from)-\(range.upperBound) done (\(String(format: "%.1f", done))%), \(total) logs")
                }
            }
            let r = client.stats
            if !quiet {
                stderr.line("\(stats.logs) logs from blocks \(from)-\(to): \(stats.requests) eth_getLogs requests, \(stats.refusals) refused "
                            + "(\(stats.suggestedRangesUsed) suggested ranges used), \(r.retries) retries, \(r.failovers) failovers")
            }
        } catch let error as RPCError {
            throw CLIError(error.description)
        }
    }

    static func blockNumber(_ text: String, flag: String) throws -> UInt64 {
        let value = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        guard let value else { throw CLIError("\(flag) \"\(text.prefix(40))\" is not a block number") }
        return value
    }
}

/// Matches logs to the given events and renders the output lines.
struct LogDecoder {
    /// Candidate events by topic0 (several events may share one, e.g. ERC-20 and ERC-721 Transfer).
    private var byTopic: [Bytes32: [ABIEvent]] = [:]

    init(signatures: [String], abiFiles: [String]) throws {
        var all: [ABIEvent] = []
        for s in signatures { all.append(try reporting("--event \(s)") { try ABIEvent(signature: s) }) }
        for path in abiFiles {
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("--abi \(path): cannot read the file") }
            let contract = try reporting("--abi \(path)") { try ABIContract(json: String(decoding: data, as: UTF8.self)) }
            all += contract.events
        }
        for e in all where !e.anonymous {
            if byTopic[e.topic0]?.contains(e) != true { byTopic[e.topic0, default: []].append(e) }
        }
    }

    /// Appends one JSON line for `log` (with `event`/`args` when a candidate event decodes it).
    func appendLine(_ log: RawLog, to out: inout String) {
        out += "{\"blockNumber\":\(log.blockNumber),\"blockHash\":\"\(log.blockHash.hexString)\",\"transactionHash\":\"\(log.transactionHash.hexString)\""
        out += ",\"transactionIndex\":\(log.transactionIndex),\"logIndex\":\(log.logIndex),\"address\":\"\(log.address.checksummed)\",\"topics\":["
        for (i, t) in log.topics.enumerated() { out += (i > 0 ? ",\"" : "\"") + t.hexString + "\"" }
        out += "],\"data\":\"" + Hex.encode(log.data) + "\""
        if let topic0 = log.topics.first, let candidates = byTopic[topic0] {
            for event in candidates {
                guard let args = try? event.decode(topics: log.topics, data: log.data) else { continue }
                out += ",\"event\":\"" + event.name + "\",\"args\":" + ABIValue.canonicalJSON(args)
                break
            }
        }
        out += "}\n"
    }
}

/// Buffered stdout for the log lines.
final class StandardOutput {
    private var buffer: [UInt8] = []
    func write(_ text: String) {
        buffer += text.utf8
        if buffer.count > 1 << 16 { flush() }
    }
    func flush() {
        buffer.withUnsafeBufferPointer { p in
            var offset = 0
            while offset < p.count {
                let n = Foundation.write(1, p.baseAddress! + offset, p.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Progress and trouble lines on stderr (callable from any thread).
final class StandardError: @unchecked Sendable {
    private let lock = NSLock()
    func line(_ text: String) {
        lock.withLock { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }
}
