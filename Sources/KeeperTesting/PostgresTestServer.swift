import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL 15 for tests: `Tests/Support/pgserver.py serve` as a child process (Debian's binaries, a
/// random loopback port, run as `postgres` when the tests run as root, a least-privilege password role `keeper`).
/// `shared()` starts one per test process and stops it when the process exits.
public final class PostgresTestServer: @unchecked Sendable {
    /// `postgresql://keeper@127.0.0.1:PORT/keeper?sslmode=disable` (no password).
    public let url: String
    /// The role's password.
    public let password: String
    /// The TCP port.
    public let port: Int
    /// The server's process id (the postmaster).
    public let serverPID: Int32
    /// The `pgserver.py serve` process.
    public let process: Process
    /// Its stdin: the server stops when this pipe closes (so it never outlives this process).
    let lifeline = Pipe()

    nonisolated(unsafe) static var instance: PostgresTestServer?
    static let lock = NSLock()

    /// The process's one server (started on first use).
    public static func shared() throws -> PostgresTestServer {
        lock.lock()
        defer { lock.unlock() }
        if let instance { return instance }
        let s = try PostgresTestServer()
        instance = s
        atexit { PostgresTestServer.instance?.stop() }
        return s
    }

    /// Starts a new server (callers own it: `stop()` it).
    public init() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try TestEnvironment.python())
        p.arguments = [TestEnvironment.supportScript("pgserver.py"), "serve"]
        let out = Pipe()
        p.standardInput = lifeline
        p.standardOutput = out
        p.standardError = FileHandle.standardError
        try p.run()
        var line = Data()
        let handle = out.fileHandleForReading
        while true {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let info = try? JSONSerialization.jsonObject(with: line) as? [String: Any], let port = info["port"] as? Int,
              let password = info["password"] as? String else {
            p.terminate()
            throw TestSupportError("pgserver.py serve did not start a server (is Debian's postgresql-15 installed? deploy/dev/setup.sh installs it): \(String(decoding: line, as: UTF8.self))")
        }
        self.port = port
        self.password = password
        self.serverPID = Int32(info["pid"] as? Int ?? 0)
        url = "postgresql://keeper@127.0.0.1:\(port)/keeper?sslmode=disable"
        process = p
    }

    /// Stops the server and removes its files.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
