import Foundation
import JSONRPC
import KeeperCore
import KeeperIngest
import KeeperSubmission

/// An `HTTPTransport` that wraps another and reports every request to the metrics and health state:
/// `rpc_requests_total{endpoint,method,outcome}`, `rpc_request_duration_seconds{method}`,
/// `endpoint_healthy{endpoint}`, and — for a successful `eth_getLogs` — `rpc_getlogs_range_blocks`.
/// The method is read from the request body (`batch` for batches); the outcome is `ok`, `rpc_error`
/// (an answer carrying a JSON-RPC error object), `http_error` (non-2xx), `invalid_response` (a 2xx answer that is not
/// JSON, e.g. an HTML page) or `transport_error` (no answer, including a request abandoned at its deadline).
/// Bodies are never logged or stored (they may carry signed transactions).
public final class InstrumentedTransport: HTTPTransport {
    let inner: any HTTPTransport
    let metrics: KeeperMetrics
    let health: KeeperHealth?
    let onHead: (@Sendable (UInt64) -> Void)?

    /// Wraps `inner`; `health` (optional) learns each endpoint's state, `onHead` each `eth_blockNumber` answer.
    public init(_ inner: any HTTPTransport, metrics: KeeperMetrics, health: KeeperHealth?,
                onHead: (@Sendable (UInt64) -> Void)? = nil) {
        self.inner = inner; self.metrics = metrics; self.health = health; self.onHead = onHead
        metrics.endpointHealthy(inner.displayName).set(0.0)
        health?.declareEndpoints([inner.displayName])
    }

    /// The wrapped endpoint's printable name.
    public var displayName: String { inner.displayName }

    /// Shuts the wrapped transport down.
    public func shutdown() { inner.shutdown() }

    /// POSTs through the wrapped transport and records the request.
    public func post(_ body: [UInt8]) async throws -> JSONRPC.HTTPResponse {
        let method = Self.method(of: body)
        let start = ContinuousClock.now
        let response: JSONRPC.HTTPResponse
        do {
            response = try await inner.post(body)
        } catch {
            let reason = (error as? RPCError) == .cancelled ? "no answer (request abandoned at the call's deadline or on shutdown)" : "\(error)"
            record(method: method, outcome: "transport_error", start: start, healthy: false, reason: reason)
            throw error
        }
        let outcome: String
        var reason: String?
        if !(200..<300).contains(response.status) {
            outcome = "http_error"
            reason = "HTTP \(response.status)"
        } else if !Self.looksLikeJSON(response.body) {
            // An HTML page or other text with a 2xx status: the endpoint is up but is not a JSON-RPC node.
            outcome = "invalid_response"
            reason = Self.looksLikeHTML(response.body) ? "answered HTML, not JSON-RPC" : "answered something other than JSON"
        } else if Self.containsErrorObject(response.body) {
            outcome = "rpc_error"
        } else {
            outcome = "ok"
            if method == "eth_getLogs", let range = Self.logsRange(of: body) { metrics.getLogsRange.set(Double(range)) }
            if method == "eth_blockNumber", let onHead, let hex = Self.stringValue(after: "\"result\"", in: response.body),
               hex.hasPrefix("0x"), let head = UInt64(hex.dropFirst(2), radix: 16) {
                onHead(head)
            }
        }
        record(method: method, outcome: outcome, start: start, healthy: outcome == "ok" || outcome == "rpc_error", reason: reason)
        return response
    }

    func record(method: String, outcome: String, start: ContinuousClock.Instant, healthy: Bool, reason: String? = nil) {
        let d = (ContinuousClock.now - start).components
        metrics.rpcRequest(endpoint: displayName, method: method, outcome: outcome,
                           seconds: Double(d.seconds) + Double(d.attoseconds) / 1e18)
        metrics.endpointHealthy(displayName).set(healthy ? 1.0 : 0.0)
        health?.setEndpoint(displayName, healthy: healthy, reason: reason)
    }

    /// Whether a body starts (after blanks) like a JSON object or array.
    static func looksLikeJSON(_ body: [UInt8]) -> Bool {
        let first = body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 })
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }

    /// Whether a body starts (after blanks) with `<`: an HTML page.
    static func looksLikeHTML(_ body: [UInt8]) -> Bool {
        body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "<")
    }

    // MARK: body inspection (bounded scans of our own request bodies and the node's answers)

    /// The JSON-RPC method of a request body: `batch` for an array, `unknown` when absent.
    static func method(of body: [UInt8]) -> String {
        guard let first = body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else { return "unknown" }
        if first == UInt8(ascii: "[") { return "batch" }
        guard let value = stringValue(after: "\"method\"", in: body) else { return "unknown" }
        // Method names are short identifiers; anything else is not a label value worth keeping.
        guard value.count <= 64, value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return "unknown" }
        return value
    }

    /// `toBlock − fromBlock + 1` of an `eth_getLogs` body with numeric bounds.
    static func logsRange(of body: [UInt8]) -> UInt64? {
        guard let from = stringValue(after: "\"fromBlock\"", in: body), let to = stringValue(after: "\"toBlock\"", in: body),
              from.hasPrefix("0x"), to.hasPrefix("0x"),
              let a = UInt64(from.dropFirst(2), radix: 16), let b = UInt64(to.dropFirst(2), radix: 16), b >= a else { return nil }
        return b - a + 1
    }

    /// Whether an answer carries a top-level-looking `"error":` member (single answers and batches alike).
    static func containsErrorObject(_ body: [UInt8]) -> Bool {
        let needle = Array("\"error\"".utf8)
        // Answers carrying errors are small; results (logs) can be large, so look only at the head and tail.
        let limit = 4096
        let windows = body.count <= 2 * limit ? [body[...]] : [body[..<limit], body[(body.count - limit)...]]
        for w in windows where w.count >= needle.count {
            var i = w.startIndex
            while i <= w.endIndex - needle.count {
                if w[i] == needle[0] && w[i..<(i + needle.count)].elementsEqual(needle) { return true }
                i += 1
            }
        }
        return false
    }

    /// The string after `key` `:` in `body` (first occurrence), without quotes.
    static func stringValue(after key: String, in body: [UInt8]) -> String? {
        let k = Array(key.utf8)
        guard body.count >= k.count else { return nil }
        var i = 0
        while i <= body.count - k.count {
            if body[i] == k[0] && body[i..<(i + k.count)].elementsEqual(k) {
                var j = i + k.count
                while j < body.count && (body[j] == 0x20 || body[j] == UInt8(ascii: ":")) { j += 1 }
                guard j < body.count, body[j] == UInt8(ascii: "\"") else { return nil }
                j += 1
                let start = j
                while j < body.count && body[j] != UInt8(ascii: "\"") && j - start < 128 { j += 1 }
                guard j < body.count, body[j] == UInt8(ascii: "\"") else { return nil }
                return String(decoding: body[start..<j], as: UTF8.self)
            }
            i += 1
        }
        return nil
    }
}
