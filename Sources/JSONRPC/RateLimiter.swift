import Foundation

/// A token bucket shared by all requests of a client: `rate` tokens per second, at most `burst` saved.
/// Callers that find the bucket empty reserve a future token and sleep (never blocking a thread).
final class RateLimiter: @unchecked Sendable {
    private let rate: Double
    private let burst: Double
    private let lock = NSLock()
    private var tokens: Double
    private var last: ContinuousClock.Instant

    init(rate: Double, burst: Int) {
        self.rate = rate
        self.burst = Double(burst)
        tokens = Double(burst)
        last = .now
    }

    /// Waits until a request may be sent. Throws `.cancelled` if the task is cancelled while waiting.
    func acquire() async throws(RPCError) {
        guard rate > 0 else { return }
        let wait: Double = lock.withLock {
            let now = ContinuousClock.now
            let elapsed = last.duration(to: now)
            last = now
            tokens = min(burst, tokens + Double(elapsed.components.seconds) * rate + Double(elapsed.components.attoseconds) / 1e18 * rate)
            tokens -= 1
            return tokens >= 0 ? 0 : -tokens / rate
        }
        if wait > 0 { try await sleepSeconds(wait) }
    }
}

/// `Task.sleep` that reports cancellation as `RPCError.cancelled`.
func sleepSeconds(_ seconds: Double) async throws(RPCError) {
    guard seconds > 0 else { return }
    do { try await Task.sleep(for: .milliseconds(Int64(seconds * 1000))) } catch { throw .cancelled }
}
