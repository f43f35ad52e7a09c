import Foundation
import KeeperCore
import KeeperIngest
import KeeperSubmission
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The systemd notify protocol (sd_notify(3)) without libsystemd: one datagram per message to the
/// AF_UNIX socket named by `$NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace).
/// Without `$NOTIFY_SOCKET` (not under systemd, or `Type=simple`) every send is a no-op.
/// `$WATCHDOG_USEC` (and `$WATCHDOG_PID`, when set, must be our pid) tells whether the watchdog is on.
public final class SystemdNotifier: @unchecked Sendable {
    /// The socket path (`@…` for abstract), nil when not under systemd.
    public let socketPath: String?
    /// The watchdog interval systemd expects pings within, when enabled.
    public let watchdogInterval: Duration?
    let lock = NSLock()
    var fd: Int32 = -1
    var lastStatus: String?

    /// A notifier configured from `environment` (the process's by default).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        var interval: Duration?
        if let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0 {
            let pidMatches = environment["WATCHDOG_PID"].flatMap(Int32.init).map { $0 == getpid() } ?? true
            if pidMatches { interval = .microseconds(Int64(min(usec, UInt64(Int64.max)))) }
        }
        watchdogInterval = interval
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Whether messages go anywhere.
    public var isActive: Bool { socketPath != nil }

    /// `READY=1` (with a status line).
    public func ready(status: String) { send("READY=1\nSTATUS=\(Self.oneLine(status))") }

    /// `STATUS=…` — sent only when it changed since the last one.
    public func status(_ text: String) {
        let line = Self.oneLine(text)
        let changed: Bool = { lock.lock(); defer { lock.unlock() }; if lastStatus == line { return false }; lastStatus = line; return true }()
        if changed { send("STATUS=\(line)") }
    }

    /// `WATCHDOG=1` — call from the poll loop only, so a hung loop stops the pings.
    public func watchdog() { if watchdogInterval != nil { send("WATCHDOG=1") } }

    /// `STOPPING=1` (with a status line).
    public func stopping(status: String) { send("STOPPING=1\nSTATUS=\(Self.oneLine(status))") }

    /// Sends one raw message; returns whether it was delivered (false when inactive or on a socket error,
    /// which is never fatal: the service keeps running and systemd's timeouts take over).
    @discardableResult
    public func send(_ message: String) -> Bool {
        guard let socketPath else { return false }
        lock.lock(); defer { lock.unlock() }
        if fd < 0 {
            #if canImport(Glibc)
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            #else
            fd = socket(AF_UNIX, SOCK_DGRAM, 0)
            #endif
            if fd < 0 { return false }
        }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard pathBytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in pathBytes.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + pathBytes.count)
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bytes.withUnsafeBytes { buf in sendto(fd, buf.baseAddress, buf.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
        return sent == bytes.count
    }

    /// A status as one line (newlines would start a new notify field).
    static func oneLine(_ s: String) -> String {
        String(s.map { $0 == "\n" || $0 == "\r" ? " " : $0 }.prefix(400))
    }
}
