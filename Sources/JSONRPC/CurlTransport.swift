import CCurl
import Foundation

/// HTTP(S) over libcurl's easy interface. Each endpoint gets `connectionsPerEndpoint` worker threads,
/// each owning one easy handle for its whole life, so connections are kept alive and reused.
/// Blocking `curl_easy_perform` runs only on those threads; callers `await` a continuation, so the
/// cooperative pool (2 threads here) is never blocked. Cancelling the awaiting task, or `shutdown()`,
/// aborts the transfer through libcurl's progress callback.
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
    /// The endpoint as it may be printed (credentials and API-key paths redacted).
    public let displayName: String
    private let work: WorkQueue

    /// A transport for `url` (http or https) with `settings`. Throws `.invalidArgument` for other schemes.
    public init(url: String, settings: TransportSettings = TransportSettings()) throws {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw RPCError.invalidArgument(what: "endpoint \(EndpointName.redact(url)): only http:// and https:// URLs are supported")
        }
        guard settings.connectTimeout > 0, settings.requestTimeout > 0, settings.maxResponseBytes > 0,
              settings.connectionsPerEndpoint > 0 else {
            throw RPCError.invalidArgument(what: "transport settings must be positive")
        }
        _ = CurlGlobal.initialized
        displayName = EndpointName.redact(url)
        work = WorkQueue(url: url, name: displayName, settings: settings)
    }

    deinit { work.close() }

    /// Connections libcurl opened so far (a keep-alive connection counts once).
    public var connectionsOpened: Int { work.connectionsOpened }

    /// POSTs `body` on a worker thread and resumes when libcurl is done; cancellation aborts the transfer.
    public func post(_ body: [UInt8]) async throws -> HTTPResponse {
        let job = Job(body: body)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, Error>) in
                if job.attach(continuation) { work.enqueue(job) }
            }
        } onCancel: {
            job.finish(.failure(.cancelled))
        }
    }

    /// Cancels queued and in-flight requests and stops the worker threads.
    public func shutdown() { work.close() }
}

/// One request: its body, the awaiting continuation (resumed exactly once) and a cancel flag the
/// progress callback reads from the worker thread.
final class Job: @unchecked Sendable {
    let body: [UInt8]
    private let lock = NSLock()
    private var continuation: CheckedContinuation<HTTPResponse, Error>?
    private var done = false

    init(body: [UInt8]) { self.body = body }

    /// Stores the continuation; false (and resumed with `.cancelled`) when the job was already cancelled.
    func attach(_ c: CheckedContinuation<HTTPResponse, Error>) -> Bool {
        lock.lock()
        if done { lock.unlock(); c.resume(throwing: RPCError.cancelled); return false }
        continuation = c
        lock.unlock()
        return true
    }

    var isFinished: Bool { lock.lock(); defer { lock.unlock() }; return done }

    func finish(_ result: Result<HTTPResponse, RPCError>) {
        lock.lock()
        if done { lock.unlock(); return }
        done = true
        let c = continuation
        continuation = nil
        lock.unlock()
        switch result {
        case let .success(r): c?.resume(returning: r)
        case let .failure(e): c?.resume(throwing: e)
        }
    }
}

/// libcurl's process-wide initialisation, done once before the first handle.
enum CurlGlobal {
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
}

/// The queue and worker threads of one endpoint.
final class WorkQueue: @unchecked Sendable {
    let url: String
    let name: String
    let settings: TransportSettings
    private let cond = NSCondition()
    private var queue: [Job] = []
    private var inFlight: [ObjectIdentifier: Job] = [:]
    private var closed = false
    private var opened = 0

    init(url: String, name: String, settings: TransportSettings) {
        self.url = url; self.name = name; self.settings = settings
        for i in 0..<settings.connectionsPerEndpoint {
            let thread = Thread { [self] in self.run() }
            thread.name = "curl \(i) \(name)"
            thread.start()
        }
    }

    var connectionsOpened: Int { cond.lock(); defer { cond.unlock() }; return opened }

    func enqueue(_ job: Job) {
        cond.lock()
        if closed {
            cond.unlock()
            job.finish(.failure(.cancelled))
            return
        }
        queue.append(job)
        cond.signal()
        cond.unlock()
    }

    func close() {
        cond.lock()
        closed = true
        let pending = queue + Array(inFlight.values)
        queue.removeAll()
        cond.broadcast()
        cond.unlock()
        for job in pending { job.finish(.failure(.cancelled)) }
    }

    private func run() {
        let easy = CurlEasy(url: url, name: name, settings: settings)
        while true {
            cond.lock()
            while queue.isEmpty && !closed { cond.wait() }
            if closed { cond.unlock(); return }
            let job = queue.removeFirst()
            inFlight[ObjectIdentifier(job)] = job
            cond.unlock()
            if !job.isFinished {
                let (result, newConnections) = easy.perform(job)
                cond.lock(); opened += newConnections; cond.unlock()
                job.finish(result)
            }
            cond.lock(); inFlight[ObjectIdentifier(job)] = nil; cond.unlock()
        }
    }
}

/// The state of one transfer, passed to libcurl's callbacks as userdata.
final class Transfer {
    var body: [UInt8] = []
    var retryAfter: Double?
    var tooLarge = false
    let cap: Int
    let job: Job
    init(cap: Int, job: Job) { self.cap = cap; self.job = job }
}

private let writeCallback: ek_curl_data_callback = { data, size, count, user in
    guard let data, let user else { return 0 }
    let t = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
    let n = size * count
    if t.body.count + n > t.cap { t.tooLarge = true; return 0 }
    UnsafeRawPointer(data).withMemoryRebound(to: UInt8.self, capacity: n) { p in
        t.body.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
    }
    return n
}

private let headerCallback: ek_curl_data_callback = { data, size, count, user in
    guard let data, let user else { return 0 }
    let t = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
    let n = size * count
    let line = UnsafeRawPointer(data).withMemoryRebound(to: UInt8.self, capacity: n) { p in
        String(decoding: UnsafeBufferPointer(start: p, count: min(n, 512)), as: UTF8.self)
    }
    if line.hasPrefix("HTTP/") { t.retryAfter = nil }  // a new response (after 100-continue or a redirect)
    else if line.lowercased().hasPrefix("retry-after:") {
        t.retryAfter = RetryAfter.parse(String(line.dropFirst("retry-after:".count)))
    }
    return n
}

private let progressCallback: ek_curl_xferinfo_callback = { user, _, _, _, _ in
    guard let user else { return 0 }
    let t = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
    return t.job.isFinished ? 1 : 0  // finished early = cancelled: abort the transfer
}

/// `Retry-After` values: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
enum RetryAfter {
    static func parse(_ raw: String) -> Double? {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if let seconds = Double(text), seconds >= 0, seconds.isFinite { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }
}

/// One libcurl easy handle (owned; cleaned up in deinit) with the options every request shares.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer?
    let name: String
    let settings: TransportSettings
    private var headers: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    private var setupError: String?

    init(url: String, name: String, settings: TransportSettings) {
        self.name = name
        self.settings = settings
        handle = curl_easy_init()
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        guard let h = handle else { setupError = "curl_easy_init failed"; return }
        headers = curl_slist_append(nil, "Content-Type: application/json")
        headers = curl_slist_append(headers, "Accept: application/json")
        headers = curl_slist_append(headers, "Expect:")  // no 100-continue round trip on large bodies
        check(ek_curl_setopt_string(h, CURLOPT_URL, url), "URL")
        check(ek_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1), "NOSIGNAL")
        check(ek_curl_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https"), "PROTOCOLS_STR")
        check(ek_curl_setopt_long(h, CURLOPT_POST, 1), "POST")
        check(ek_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headers), "HTTPHEADER")
        check(ek_curl_setopt_string(h, CURLOPT_ACCEPT_ENCODING, ""), "ACCEPT_ENCODING")  // every encoding libcurl has (gzip, deflate, …)
        check(ek_curl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1), "TCP_KEEPALIVE")
        check(ek_curl_setopt_long(h, CURLOPT_TCP_NODELAY, 1), "TCP_NODELAY")
        check(ek_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeout * 1000)), "CONNECTTIMEOUT_MS")
        check(ek_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(settings.requestTimeout * 1000)), "TIMEOUT_MS")
        check(ek_curl_setopt_off_t(h, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(settings.maxResponseBytes)), "MAXFILESIZE_LARGE")
        check(ek_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0), "FOLLOWLOCATION")
        check(ek_curl_setopt_string(h, CURLOPT_USERAGENT, "expansion-keeper"), "USERAGENT")
        if let ca = settings.caBundlePath { check(ek_curl_setopt_string(h, CURLOPT_CAINFO, ca), "CAINFO") }
        check(ek_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, errorBuffer), "ERRORBUFFER")
        check(ek_curl_setopt_data_callback(h, CURLOPT_WRITEFUNCTION, writeCallback), "WRITEFUNCTION")
        check(ek_curl_setopt_data_callback(h, CURLOPT_HEADERFUNCTION, headerCallback), "HEADERFUNCTION")
        check(ek_curl_setopt_xferinfo_callback(h, progressCallback), "XFERINFOFUNCTION")
        check(ek_curl_setopt_long(h, CURLOPT_NOPROGRESS, 0), "NOPROGRESS")
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
        if let headers { curl_slist_free_all(headers) }
        errorBuffer.deallocate()
    }

    /// The one place libcurl return codes are checked at setup; the first failure is kept and reported.
    private func check(_ code: CURLcode, _ option: String) {
        if code != CURLE_OK && setupError == nil {
            setupError = "setting CURLOPT_\(option): \(String(cString: curl_easy_strerror(code)))"
        }
    }

    /// Runs one POST; returns the result and the number of new connections it opened.
    func perform(_ job: Job) -> (Result<HTTPResponse, RPCError>, Int) {
        guard let h = handle, setupError == nil else {
            return (.failure(.transport(endpoint: name, reason: setupError ?? "no curl handle", retryable: false)), 0)
        }
        let transfer = Transfer(cap: settings.maxResponseBytes, job: job)
        let user = Unmanaged.passUnretained(transfer).toOpaque()
        errorBuffer[0] = 0
        let code: CURLcode = withExtendedLifetime(transfer) {
            _ = ek_curl_setopt_pointer(h, CURLOPT_WRITEDATA, user)
            _ = ek_curl_setopt_pointer(h, CURLOPT_HEADERDATA, user)
            _ = ek_curl_setopt_pointer(h, CURLOPT_XFERINFODATA, user)
            return job.body.withUnsafeBufferPointer { body -> CURLcode in
                // POSTFIELDS is not copied by libcurl: `body` stays valid until perform returns.
                _ = ek_curl_setopt_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                _ = ek_curl_setopt_pointer(h, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: body.baseAddress))
                let rc = curl_easy_perform(h)
                _ = ek_curl_setopt_pointer(h, CURLOPT_POSTFIELDS, nil)
                return rc
            }
        }
        var connects: Int = 0
        _ = ek_curl_getinfo_long(h, CURLINFO_NUM_CONNECTS, &connects)
        if code == CURLE_OK {
            var status: Int = 0
            _ = ek_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
            return (.success(HTTPResponse(status: status, body: transfer.body, retryAfter: transfer.retryAfter)), connects)
        }
        return (.failure(error(code, transfer)), connects)
    }

    private func error(_ code: CURLcode, _ transfer: Transfer) -> RPCError {
        if code == CURLE_ABORTED_BY_CALLBACK { return .cancelled }
        if code == CURLE_FILESIZE_EXCEEDED || (code == CURLE_WRITE_ERROR && transfer.tooLarge) {
            return .responseTooLarge(endpoint: name, limit: settings.maxResponseBytes)
        }
        let detail = String(cString: errorBuffer)
        let text = String(cString: curl_easy_strerror(code))
        let reason = "curl error \(code.rawValue): \(text)" + (detail.isEmpty || detail == text ? "" : " (\(detail))")
        let permanent: Set<UInt32> = [CURLE_UNSUPPORTED_PROTOCOL.rawValue, CURLE_URL_MALFORMAT.rawValue,
                                      CURLE_NOT_BUILT_IN.rawValue, CURLE_BAD_FUNCTION_ARGUMENT.rawValue,
                                      CURLE_PEER_FAILED_VERIFICATION.rawValue, CURLE_SSL_CACERT_BADFILE.rawValue,
                                      CURLE_SSL_CERTPROBLEM.rawValue]
        return .transport(endpoint: name, reason: reason, retryable: !permanent.contains(code.rawValue))
    }
}
