import EthereumCore

/// How `LogScanner` sizes its `eth_getLogs` ranges (AIMD: additive increase, multiplicative decrease).
public struct LogScanSettings: Sendable, Equatable {
    /// Blocks in the first request.
    public var initialRange: UInt64 = 1000
    /// Never ask for more blocks than this in one request (`logs --max-range`).
    public var maxRange: UInt64 = 10_000
    /// Blocks added to the range after each successful request.
    public var additiveIncrease: UInt64 = 500
    /// The range is multiplied by this after a refusal that names no usable range (0 < f < 1).
    public var decreaseFactor: Double = 0.5
    /// Check each log's block hash against the canonical block header (one batched request per chunk
    /// that has logs) and refetch a chunk answered from another fork.
    public var verifyBlockHashes = false
    /// Refetches of one chunk after a fork mismatch or an inconsistent answer, before giving up.
    public var maxRefetches = 3

    /// The defaults listed in the README.
    public init() {}

    func validate() throws(RPCError) {
        if initialRange < 1 || maxRange < 1 { throw .invalidArgument(what: "log ranges must be at least 1 block") }
        if !(decreaseFactor > 0 && decreaseFactor < 1) { throw .invalidArgument(what: "decreaseFactor must be between 0 and 1") }
    }
}

/// What a scan did.
public struct LogScanStats: Sendable, Equatable {
    /// `eth_getLogs` calls made (refused ones included; transport retries are in `RPCClient.stats`).
    public var requests = 0
    /// Calls the provider refused as too large.
    public var refusals = 0
    /// Refusals whose suggested range was used as the next range.
    public var suggestedRangesUsed = 0
    /// Chunks fetched again after a fork mismatch or an inconsistent answer.
    public var refetches = 0
    /// Logs delivered.
    public var logs = 0
    /// The range size in force at the end of the scan (what the provider tolerated).
    public var finalRange: UInt64 = 0

    /// Zeroed counters.
    public init() {}
}

/// Fetches the logs of any block range, in (block, log index) order, with no gap and no duplicate:
/// chunks are disjoint and contiguous, each is delivered whole (checked to lie in its range, sorted,
/// free of repeated (block, logIndex)) before the next starts, and a chunk that cannot be fetched
/// after retries and range reductions stops the scan with `.rangeFailed` naming it — never a gap.
public struct LogScanner: Sendable {
    /// The client requests go through.
    public let client: RPCClient
    /// Which logs are fetched.
    public let filter: LogFilter
    /// Range sizing.
    public let settings: LogScanSettings

    /// A scanner of `filter` over `client`.
    public init(client: RPCClient, filter: LogFilter, settings: LogScanSettings = LogScanSettings()) {
        self.client = client; self.filter = filter; self.settings = settings
    }

    /// One refusal the scanner handled, reported to `onRefusal` (the CLI prints it to stderr).
    public struct Refusal: Sendable {
        /// The refused range (inclusive).
        public var from: UInt64, to: UInt64
        /// The provider's answer.
        public var error: RPCError
        /// The span, in blocks, tried next.
        public var nextRange: UInt64
    }

    /// Scans `from...to`, calling `onChunk` with each completed chunk (inclusive range) and its logs.
    /// After `onChunk(a...b)` returns, every log of blocks `from...b` has been delivered exactly once,
    /// so a caller may persist `b + 1` as its cursor.
    @discardableResult
    public func scan(from: UInt64, to: UInt64,
                     onRefusal: (@Sendable (Refusal) -> Void)? = nil,
                     onChunk: (ClosedRange<UInt64>, [RawLog]) async throws -> Void) async throws -> LogScanStats {
        try settings.validate()
        guard from <= to else { throw RPCError.invalidArgument(what: "from-block \(from) is after to-block \(to)") }
        var stats = LogScanStats()
        var cursor = from
        var range = min(settings.initialRange, settings.maxRange)
        var ceiling = settings.maxRange  // lowered when a provider states its block limit
        // After a result-count refusal, growth stops just below the refused size for a while
        // (the density of logs rarely changes at once); after `probeAfter` successes it probes again.
        var refusedSize: UInt64?
        var successes = 0
        let probeAfter = 8
        while true {
            let span = to - cursor  // blocks left minus one (no overflow even at UInt64.max)
            let end = cursor + min(range - 1, span)
            var logs: [RawLog]
            do {
                stats.requests += 1
                logs = try await fetchChecked(cursor, end, &stats)
            } catch {
                if case .cancelled = error { throw error }
                guard let limit = LogRangeLimit(error) else {
                    throw RPCError.rangeFailed(from: cursor, to: end, reason: error.description)
                }
                stats.refusals += 1
                let asked = end - cursor + 1
                var next: UInt64
                if let s = limit.suggested, s.lowerBound == cursor, s.upperBound < end {
                    next = s.upperBound - cursor + 1
                    stats.suggestedRangesUsed += 1
                } else if limit.kind == .blockRange, let max = limit.maxBlocks, max < asked {
                    next = max
                } else {
                    next = UInt64(Double(asked) * settings.decreaseFactor)
                }
                next = Swift.max(1, Swift.min(next, asked - 1 == 0 ? 1 : asked - 1))
                if asked == 1 {
                    throw RPCError.rangeFailed(from: cursor, to: end, reason: "the provider refuses even a one-block range: \(error.description)")
                }
                if limit.kind == .blockRange { ceiling = Swift.min(ceiling, limit.maxBlocks ?? (asked - 1)) }
                else {
                    // A suggested range is the provider's own maximum from here: stay at it for a while.
                    let refused = limit.suggested != nil && next < asked ? next + 1 : asked
                    refusedSize = Swift.min(refusedSize ?? refused, refused)
                    successes = 0
                }
                range = next
                onRefusal?(Refusal(from: cursor, to: end, error: error, nextRange: next))
                continue
            }
            stats.logs += logs.count
            try await onChunk(cursor...end, logs)
            if end == to { break }
            cursor = end + 1
            successes += 1
            if successes >= probeAfter { refusedSize = nil }
            let grown = range.addingReportingOverflow(settings.additiveIncrease)
            let limit = refusedSize.map { Swift.max(range, $0 - 1) } ?? UInt64.max
            range = Swift.min(grown.overflow ? UInt64.max : grown.partialValue, ceiling, settings.maxRange, limit)
        }
        stats.finalRange = range
        return stats
    }

    /// One chunk, validated (range, order, duplicates, one hash per block) and optionally checked
    /// against canonical block hashes; refetched up to `maxRefetches` times when inconsistent.
    private func fetchChecked(_ from: UInt64, _ to: UInt64, _ stats: inout LogScanStats) async throws(RPCError) -> [RawLog] {
        var attempt = 0
        while true {
            var logs = try await client.logs(filter, from: from, to: to)
            let problem = Self.check(&logs, from: from, to: to)
            var mismatch: String? = problem
            if problem == nil, settings.verifyBlockHashes, !logs.isEmpty {
                mismatch = try await verifyHashes(logs)
            }
            guard let mismatch else { return logs }
            attempt += 1
            if attempt > settings.maxRefetches {
                throw .rangeFailed(from: from, to: to, reason: mismatch)
            }
            stats.refetches += 1
        }
    }

    /// Sorts `logs` into chain order and reports what makes the answer unusable, if anything.
    static func check(_ logs: inout [RawLog], from: UInt64, to: UInt64) -> String? {
        var sorted = true
        for i in logs.indices {
            let l = logs[i]
            if l.blockNumber < from || l.blockNumber > to {
                return "provider returned a log of block \(l.blockNumber), outside the requested \(from)-\(to)"
            }
            if l.removed { return "provider returned a removed log (block \(l.blockNumber), index \(l.logIndex))" }
            if i > 0 && !RawLog.chainOrder(logs[i - 1], l) { sorted = false }
        }
        if !sorted { logs.sort(by: RawLog.chainOrder) }
        for i in logs.indices.dropFirst() {
            let a = logs[i - 1], b = logs[i]
            if a.blockNumber == b.blockNumber {
                if a.logIndex == b.logIndex { return "provider returned log \(a.logIndex) of block \(a.blockNumber) twice" }
                if a.blockHash != b.blockHash { return "provider returned two different hashes for block \(a.blockNumber)" }
            }
        }
        return nil
    }

    private func verifyHashes(_ logs: [RawLog]) async throws(RPCError) -> String? {
        var numbers: [UInt64] = []
        var expected: [UInt64: Bytes32] = [:]
        for l in logs where expected[l.blockNumber] == nil {
            expected[l.blockNumber] = l.blockHash
            numbers.append(l.blockNumber)
        }
        let headers = try await client.blocks(numbers)
        for (n, r) in zip(numbers, headers) {
            let header = try r.get()
            if header.hash != expected[n] {
                return "logs of block \(n) carry hash \((expected[n] ?? .zero).hexString) but the canonical block is \(header.hash.hexString) (fork)"
            }
        }
        return nil
    }
}
