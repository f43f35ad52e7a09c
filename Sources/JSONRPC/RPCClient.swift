// JSONRPC — the keeper's chain client: HTTP(S) transport over libcurl (persistent connections,
// timeouts, gzip, size cap, cancellation), the JSON-RPC 2.0 client (ids, bounded batches matched by
// id, the error taxonomy of `RPCError`), endpoints with failover, health back-off and return to the
// primary, retries with exponential back-off, jitter and `Retry-After`, a client-side rate limit,
// typed `eth_` calls, and `LogScanner` (eth_getLogs over any range with adaptive ranges).
// Responses are parsed from bytes by `JSONScanner` (no Foundation JSONDecoder on the hot path).
// Imports EthereumCore and CCurl (internally) only; it knows nothing of ABI (EthereumABI is a sibling).
import Foundation
import EthereumCore

/// A JSON-RPC 2.0 client over one or more endpoints (the first is the primary).
/// Thread-safe; every method may be called concurrently from any task.
public final class RPCClient: @unchecked Sendable {
    /// The settings in force.
    public let settings: RPCSettings
    private let endpoints: [EndpointState]
    private let limiter: RateLimiter
    private let observer: (@Sendable (RPCEvent) -> Void)?
    private let lock = NSLock()
    private var nextID: UInt64 = 1
    private var counters = RPCStats()
    private var lastUsed: Int?
    /// Set by `verifyChainID`; endpoints not yet checked are checked before their first use.
    var expectedChainID: UInt64?

    /// A client for `urls` over libcurl. Throws `.invalidArgument` for an empty list, a bad URL or bad settings.
    public convenience init(urls: [String], settings: RPCSettings = RPCSettings(),
                            observer: (@Sendable (RPCEvent) -> Void)? = nil) throws {
        try settings.validate()
        let transports: [HTTPTransport] = try urls.map { try CurlTransport(url: $0, settings: settings.transport) }
        try self.init(transports: transports, settings: settings, observer: observer)
    }

    /// A client over the given transports (tests use this with transports of their own).
    public init(transports: [HTTPTransport], settings: RPCSettings = RPCSettings(),
                observer: (@Sendable (RPCEvent) -> Void)? = nil) throws {
        try settings.validate()
        guard !transports.isEmpty else { throw RPCError.invalidArgument(what: "at least one RPC endpoint is required") }
        self.settings = settings
        self.endpoints = transports.map { EndpointState(transport: $0) }
        self.limiter = RateLimiter(rate: settings.requestsPerSecond, burst: settings.rateBurst)
        self.observer = observer
        counters.requestsPerEndpoint = Array(repeating: 0, count: transports.count)
    }

    deinit { for e in endpoints { e.transport.shutdown() } }

    /// Cancels every queued and in-flight request; later requests fail with `.cancelled`.
    public func shutdown() { for e in endpoints { e.transport.shutdown() } }

    /// A snapshot of the counters.
    public var stats: RPCStats { lock.lock(); defer { lock.unlock() }; return counters }

    var endpointStates: [EndpointState] { endpoints }

    func setExpectedChainID(_ id: UInt64) { lock.withLock { expectedChainID = id } }

    func markVerified(_ endpoint: EndpointState) { lock.withLock { endpoint.verified = true } }

    /// The endpoints' printable names, in configuration order.
    public var endpointNames: [String] { endpoints.map(\.transport.displayName) }

    // MARK: calls

    /// Calls `method` and returns its result as a `JSONValue` (for calls without a typed wrapper).
    public func call(_ method: String, _ params: [JSONValue]) async throws(RPCError) -> JSONValue {
        try await call(method, params) { (s) throws(RPCError) in try s.value() }
    }

    /// Calls `method` and decodes the result in place with `decode`.
    func call<T>(_ method: String, _ params: [JSONValue], pinned: Int? = nil, maxRetries: Int? = nil,
                 decode: (inout JSONScanner) throws(RPCError) -> T) async throws(RPCError) -> T {
        let id = takeIDs(1)
        let body = Self.requestBody(id: id, method: method, params: params)
        return try await execute(method: method, body: body, pinned: pinned, maxRetries: maxRetries) { (bytes) throws(RPCError) -> T in
            do throws(RPCError) {
                return try Envelope.decodeSingle(bytes, expectedID: id, decode: decode).get()
            } catch {
                if case .nullResult = error { throw RPCError.nullResult(method: method) }
                throw error
            }
        }
    }

    /// One call of a batch.
    public struct Call: Sendable {
        /// The JSON-RPC method name.
        public var method: String
        /// Its positional parameters.
        public var params: [JSONValue]
        /// A call from its method and parameters.
        public init(_ method: String, _ params: [JSONValue]) { self.method = method; self.params = params }
    }

    /// Sends `calls` as JSON-RPC batches of at most `maxBatchSize`, matching answers by id (in any order).
    /// A call whose answer is missing from the batch gets a `.decoding` error; other calls are unaffected.
    public func batch(_ calls: [Call]) async throws(RPCError) -> [Result<JSONValue, RPCError>] {
        try await batch(calls) { (s) throws(RPCError) in try s.value() }
    }

    func batch<T>(_ calls: [Call], decode: @escaping (inout JSONScanner) throws(RPCError) -> T) async throws(RPCError) -> [Result<T, RPCError>] {
        var results: [Result<T, RPCError>] = []
        results.reserveCapacity(calls.count)
        var start = 0
        while start < calls.count {
            let chunk = Array(calls[start..<min(calls.count, start + settings.maxBatchSize)])
            start += chunk.count
            let firstID = takeIDs(UInt64(chunk.count))
            var body: [UInt8] = [UInt8(ascii: "[")]
            for (i, c) in chunk.enumerated() {
                if i > 0 { body.append(UInt8(ascii: ",")) }
                body += Self.requestBody(id: firstID + UInt64(i), method: c.method, params: c.params)
            }
            body.append(UInt8(ascii: "]"))
            let name = "batch of \(chunk.count) (\(chunk[0].method)…)"
            let part = try await execute(method: name, body: body, pinned: nil) { (bytes) throws(RPCError) -> [Result<T, RPCError>] in
                let items = try Envelope.decodeBatch(bytes)
                var byID: [UInt64: Envelope.Item] = [:]
                for item in items { if let id = item.id { byID[id] = item } }
                var out: [Result<T, RPCError>] = []
                for (i, c) in chunk.enumerated() {
                    let id = firstID + UInt64(i)
                    guard let item = byID[id] else {
                        out.append(.failure(.decoding(reason: "batch response has no answer for id \(id) (\(c.method))",
                                                      bodyPrefix: RPCError.prefix(of: bytes))))
                        continue
                    }
                    if let e = item.error { out.append(.failure(e)); continue }
                    guard let range = item.result else { continue }
                    out.append(Result { () throws(RPCError) -> T in
                        try bytes.withUnsafeBufferPointer { (buf) throws(RPCError) -> T in
                            var s = JSONScanner(buf, from: range.lowerBound, to: range.upperBound)
                            do throws(RPCError) { return try decode(&s) } catch {
                                if case .nullResult = error { throw RPCError.nullResult(method: c.method) }
                                throw error
                            }
                        }
                    })
                }
                return out
            }
            results += part
        }
        return results
    }

    // MARK: the retry / failover loop

    /// Sends `body` until it succeeds, fails with a non-retryable error, or exhausts `maxRetries`.
    /// `pinned` sends to one endpoint only (the chain-id check), ignoring health.
    func execute<T>(method: String, body: [UInt8], pinned: Int?, maxRetries: Int? = nil,
                    decode: ([UInt8]) throws(RPCError) -> T) async throws(RPCError) -> T {
        var attempt = 0
        let retries = maxRetries ?? settings.maxRetries
        let deadline = settings.callDeadline.map { ContinuousClock.now.advanced(by: .milliseconds(Int64($0 * 1000))) }
        var lastError: RPCError?
        while true {
            if Task.isCancelled { throw .cancelled }
            if let given = gaveUpOn(pinned) { throw given }
            if let deadline, ContinuousClock.now >= deadline { throw giveUp(pinned, lastError) }
            guard let index = pinned ?? pick() else {
                throw .chainIdMismatch(details: "every endpoint was disabled for reporting another chain id")
            }
            let endpoint = endpoints[index]
            if pinned == nil, let expected = lock.withLock({ expectedChainID }), !lock.withLock({ endpoint.verified }) {
                // An endpoint that was unreachable at the start is checked before its first use.
                do {
                    let id = try await call("eth_chainId", [], pinned: index, maxRetries: 0) { (s) throws(RPCError) in
                        try Self.required(&s) { (s) throws(RPCError) in try s.quantity(field: "result") }
                    }
                    lock.withLock {
                        if id == expected { endpoint.verified = true } else { endpoint.disabled = true }
                    }
                    if id != expected {
                        observer?(.endpointDisabled(endpoint: endpoint.transport.displayName, reason: "reports chain id \(id), expected \(expected)"))
                    }
                    continue
                } catch {
                    if case .cancelled = error { throw error }
                    guard attempt < retries else { throw error }
                    attempt += 1
                    lastError = error
                    let delay = retryDelay(attempt: attempt, retryAfter: nil, pinned: nil)
                    if let deadline, ContinuousClock.now.advanced(by: .milliseconds(Int64(delay * 1000))) >= deadline {
                        throw giveUp(nil, error)
                    }
                    try await sleepSeconds(delay)
                    continue
                }
            }
            try await limiter.acquire()
            let name = endpoint.transport.displayName
            noteRequest(index, pinned: pinned != nil)
            let error: RPCError
            var retryAfter: Double?
            do {
                let response = try await Self.post(endpoint.transport, body, until: deadline)
                retryAfter = response.retryAfter
                if (200...299).contains(response.status) {
                    do {
                        let value = try decode(response.body)
                        markSuccess(index)
                        return value
                    } catch let e {
                        // A proxy's or provider's web page (wrong URL, captive portal, auth wall): say so.
                        error = Self.isHTML(response.body)
                            ? .transport(endpoint: name, reason: "answered HTML, not JSON-RPC (HTTP \(response.status), body starts \"\(RPCError.prefix(of: response.body, limit: 60))\")", retryable: true)
                            : e
                    }
                } else {
                    var e = RPCError.http(endpoint: name, status: response.status, retryAfter: response.retryAfter,
                                          bodyPrefix: RPCError.prefix(of: response.body))
                    // Some nodes answer a JSON-RPC error with a 4xx status: keep the node's own error.
                    if response.status != 429, response.status != 408, (400...499).contains(response.status),
                       case .failure(let server)? = try? Envelope.decodeSingle(response.body, decode: { (s) throws(RPCError) in try s.skipValue() }) {
                        e = server
                    }
                    error = e
                }
            } catch let e as RPCError {
                error = e
            } catch {
                throw RPCError.transport(endpoint: name, reason: "\(error)", retryable: false)
            }
            if case .cancelled = error { throw error }
            record(error)
            let retryable = error.isRetryable
            if case .server = error, !retryable {
                markSuccess(index)  // the endpoint works; the request is at fault
                throw error
            }
            if retryable { markFailure(index, retryAfter: retryAfter) }
            guard retryable, attempt < retries else { throw error }
            attempt += 1
            lastError = error
            let delay = retryDelay(attempt: attempt, retryAfter: retryAfter, pinned: pinned)
            if let deadline, ContinuousClock.now.advanced(by: .milliseconds(Int64(delay * 1000))) >= deadline {
                throw giveUp(pinned, error)
            }
            lock.withLock { counters.retries += 1 }
            observer?(.retry(method: method, attempt: attempt, endpoint: name, error: error, delay: delay))
            try await sleepSeconds(delay)
        }
    }

    // MARK: the call deadline

    /// The error of a call (to `pinned`, else to every endpoint) that ran out of `callDeadline`, naming the
    /// endpoint and the last failure; with `giveUpAfterDeadline` the endpoints it found failing are given up on.
    private func giveUp(_ pinned: Int?, _ last: RPCError?) -> RPCError {
        let limit = settings.callDeadline ?? 0
        let seconds = limit == limit.rounded() ? String(Int(limit)) : String(limit)
        let names = pinned.map { [endpointNames[$0]] } ?? endpointNames
        let error = RPCError.transport(endpoint: names.joined(separator: ", "),
                                       reason: "no usable answer within \(seconds) s" + (last.map { "; last error: \($0)" } ?? ""),
                                       retryable: false)
        if settings.giveUpAfterDeadline {
            lock.withLock {
                // Unpinned: the endpoints that failed in the meantime (a backup never reached keeps its chance).
                let failing = endpoints.indices.filter { endpoints[$0].failures > 0 }
                for i in pinned.map({ [$0] }) ?? (failing.isEmpty ? Array(endpoints.indices) : failing) where endpoints[i].gaveUp == nil {
                    endpoints[i].gaveUp = error
                }
            }
        }
        return error
    }

    /// With `giveUpAfterDeadline`: the error to fail at once with, when every endpoint this call may use was given up on.
    private func gaveUpOn(_ pinned: Int?) -> RPCError? {
        guard settings.giveUpAfterDeadline else { return nil }
        return lock.withLock {
            let usable = pinned.map { [endpoints[$0]] } ?? endpoints.filter { !$0.disabled }
            return usable.allSatisfy({ $0.gaveUp != nil }) ? usable.first?.gaveUp : nil
        }
    }

    /// `transport.post`, abandoned (and cancelled) at `deadline`.
    private static func post(_ transport: any HTTPTransport, _ body: [UInt8],
                             until deadline: ContinuousClock.Instant?) async throws -> HTTPResponse {
        guard let deadline else { return try await transport.post(body) }
        return try await withThrowingTaskGroup(of: HTTPResponse?.self) { group in
            group.addTask { try await transport.post(body) }
            group.addTask { try? await Task.sleep(until: deadline, clock: .continuous); return nil }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else {
                if Task.isCancelled { throw RPCError.cancelled }
                throw RPCError.transport(endpoint: transport.displayName, reason: "no answer (request still open)", retryable: true)
            }
            return response
        }
    }

    /// Whether a body is an HTML page rather than JSON (its first non-blank byte is `<`).
    static func isHTML(_ body: [UInt8]) -> Bool {
        body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "<")
    }

    // MARK: ids and bodies

    private func takeIDs(_ n: UInt64) -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        let id = nextID
        nextID &+= n
        return id
    }

    static func requestBody(id: UInt64, method: String, params: [JSONValue]) -> [UInt8] {
        var out: [UInt8] = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
        out += String(id).utf8
        out += #","method":"#.utf8
        JSONValue.encodeString(method, into: &out)
        out += #","params":"#.utf8
        JSONValue.array(params).encode(into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    // MARK: endpoint health

    private func pick() -> Int? {
        lock.lock(); defer { lock.unlock() }
        let now = ContinuousClock.now
        let usable = endpoints.indices.filter { !endpoints[$0].disabled && endpoints[$0].gaveUp == nil }
        var chosen = usable.first { endpoints[$0].downUntil.map { $0 <= now } ?? true }
        if chosen == nil {
            chosen = usable.min { (endpoints[$0].downUntil ?? now) < (endpoints[$1].downUntil ?? now) }
        }
        guard let index = chosen else { return nil }
        if let last = lastUsed, last != index {
            counters.failovers += 1
            let from = endpoints[last].transport.displayName, to = endpoints[index].transport.displayName
            lastUsed = index
            lock.unlock()
            observer?(.failover(from: from, to: to))
            lock.lock()
        }
        lastUsed = index
        return index
    }

    private func noteRequest(_ index: Int, pinned: Bool) {
        lock.lock(); defer { lock.unlock() }
        counters.requests += 1
        counters.requestsPerEndpoint[index] += 1
    }

    private func record(_ error: RPCError) {
        lock.lock(); defer { lock.unlock() }
        switch error {
        case let .http(_, status, _, _):
            if status == 429 { counters.http429 += 1 } else if status >= 500 { counters.http5xx += 1 }
        case .transport, .responseTooLarge: counters.transportErrors += 1
        case .decoding: counters.decodingErrors += 1
        case .server: counters.serverErrors += 1
        default: break
        }
    }

    private func markSuccess(_ index: Int) {
        lock.lock(); defer { lock.unlock() }
        endpoints[index].failures = 0
        endpoints[index].downUntil = nil
    }

    private func markFailure(_ index: Int, retryAfter: Double?) {
        lock.lock(); defer { lock.unlock() }
        let e = endpoints[index]
        e.failures += 1
        guard e.failures >= settings.failuresBeforeBackoff || retryAfter != nil else { return }
        var seconds = settings.endpointBackoff.jittered(step: e.failures - settings.failuresBeforeBackoff)
        if let retryAfter { seconds = max(seconds, min(retryAfter, settings.retryAfterCap)) }
        e.downUntil = ContinuousClock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
    }

    /// No wait when another endpoint is up; otherwise the jittered exponential delay, at least until
    /// the earliest endpoint's back-off (which includes `Retry-After`) ends.
    private func retryDelay(attempt: Int, retryAfter: Double?, pinned: Int?) -> Double {
        let jittered = settings.retryDelays.jittered(step: attempt - 1)
        let honoured = retryAfter.map { min($0, settings.retryAfterCap) } ?? 0
        lock.lock(); defer { lock.unlock() }
        let now = ContinuousClock.now
        let candidates = pinned.map { [endpoints[$0]] } ?? endpoints.filter { !$0.disabled }
        if pinned == nil, candidates.contains(where: { $0.downUntil.map { $0 <= now } ?? true }) { return 0 }
        let untilUp = candidates.compactMap { $0.downUntil }.min().map { now.duration(to: $0) }
            .map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? 0
        return max(jittered, honoured, min(untilUp, settings.endpointBackoffMax))
    }
}

/// The health of one endpoint (guarded by the client's lock).
final class EndpointState: @unchecked Sendable {
    let transport: HTTPTransport
    var failures = 0
    var downUntil: ContinuousClock.Instant?
    /// Its chain id was checked against the expected one.
    var verified = false
    /// It reported another chain id: never used again.
    var disabled = false
    /// A call to it ran out of its deadline (with `giveUpAfterDeadline`): never used again.
    var gaveUp: RPCError?
    init(transport: HTTPTransport) { self.transport = transport }
}
