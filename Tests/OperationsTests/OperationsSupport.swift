import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import XCTest

/// Repo paths for the operations tests.
enum OpsEnv {
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

/// A plain HTTP GET (status, body) with a short timeout.
func httpGet(_ url: String, method: String = "GET") async throws -> (status: Int, body: String, contentType: String?) {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    request.timeoutInterval = 5
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as! HTTPURLResponse
    return (http.statusCode, String(decoding: data, as: UTF8.self), http.value(forHTTPHeaderField: "Content-Type"))
}

/// A bound AF_UNIX datagram socket standing in for systemd's $NOTIFY_SOCKET: collects every message
/// with the time it arrived.
final class NotifySocket: @unchecked Sendable {
    let path: String
    let fd: Int32
    let lock = NSLock()
    var received: [(at: ContinuousClock.Instant, text: String)] = []
    var thread: Thread?
    var stopped = false

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("ops-notify-\(UUID().uuidString.prefix(8)).sock").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw NSError(domain: "socket", code: Int(errno)) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw NSError(domain: "bind", code: Int(errno)) }
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let t = Thread { [unowned self] in self.loop() }
        thread = t
        t.start()
    }

    func loop() {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            lock.lock(); let stop = stopped; lock.unlock()
            if stop { return }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                let text = String(decoding: buf[0..<n], as: UTF8.self)
                lock.lock(); received.append((ContinuousClock.now, text)); lock.unlock()
            }
        }
    }

    var messages: [(at: ContinuousClock.Instant, text: String)] { lock.lock(); defer { lock.unlock() }; return received }

    func close() {
        lock.lock(); stopped = true; lock.unlock()
        Thread.sleep(forTimeInterval: 0.2)
        Glibc.close(fd)
        unlink(path)
    }
}
