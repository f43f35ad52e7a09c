import EthereumCore
import Foundation
import KeeperCore
import KeeperIngest
import KeeperSubmission
import Logging

/// How log lines are written: `text` (journald-friendly `level label: message key=value…`) or `json`
/// (one JSON object per line: `ts`, `level`, `label`, `msg`, then the metadata keys).
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}

/// A swift-log `LogHandler` writing one line per event to a file descriptor (stderr by default, which
/// journald captures). Metadata values that look like secrets are never written: a key named like a
/// secret (`password`, `private_key`, `secret`, `mnemonic`, `seed`, `keystore_json`) is replaced by
/// `<redacted>`, and so is any value holding a bare 64-hex-digit run (a private key is 32 bytes of hex)
/// unless the key labels a hash (`tx`, `tx_hash`, `hash`, `block_hash`, `topic…`). Inside free text (an
/// `error`, a `reason`) a `0x`-prefixed 64-digit run is how the keeper writes block and transaction hashes —
/// which operators need to diagnose a halt — and is kept; key material never reaches a log line in that form
/// (keys print themselves redacted), and a bare run is still redacted.
public struct KeeperLogHandler: LogHandler {
    /// The level in force for this handler (shared by every logger through `LogSetup.level`).
    public var logLevel: Logger.Level {
        get { overrideLevel ?? LogSetup.level }
        set { overrideLevel = newValue }
    }
    /// Metadata attached to every line of this logger.
    public var metadata: Logger.Metadata = [:]
    /// Metadata computed per line (task-local context).
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: LogFormat
    let sink: LogSink
    var overrideLevel: Logger.Level?

    /// A handler for `label` writing `format` to `sink`.
    public init(label: String, format: LogFormat, sink: LogSink = .standardError) {
        self.label = label; self.format = format; self.sink = sink
    }

    /// One metadata value.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Renders and writes one event as one line.
    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let line = Self.render(format: format, date: Date(), level: event.level, label: label,
                               message: "\(event.message)", metadata: merged, source: event.source)
        sink.write(line)
    }

    /// One rendered line (with the trailing newline).
    public static func render(format: LogFormat, date: Date, level: Logger.Level, label: String, message: String,
                              metadata: Logger.Metadata, source: String) -> String {
        let ts = timestamp(date)
        let keys = metadata.keys.sorted()
        switch format {
        case .text:
            var out = "\(ts) \(level.rawValue) \(label): \(oneLine(message))"
            for k in keys {
                let v = safeValue(key: k, metadata[k].map(flatten) ?? "")
                out += " \(k)=\(v.contains(" ") || v.isEmpty || v.contains("\"") ? quote(v) : v)"
            }
            return out + "\n"
        case .json:
            var out = "{\"ts\":\(quote(ts)),\"level\":\(quote(level.rawValue)),\"label\":\(quote(label)),\"msg\":\(quote(message))"
            for k in keys where !["ts", "level", "label", "msg"].contains(k) {
                out += ",\(quote(k)):\(quote(safeValue(key: k, metadata[k].map(flatten) ?? "")))"
            }
            return out + "}\n"
        }
    }

    static let secretKeys = ["password", "passphrase", "private_key", "privatekey", "secret", "mnemonic", "seed", "keystore_json"]
    static let hashKeys: Set<String> = ["tx", "tx_hash", "hash", "block_hash", "replaces", "replaced_by", "topic0", "topic", "raw_hash"]

    /// The value as written: redacted when the key or the shape says it could be key material.
    static func safeValue(key: String, _ value: String) -> String {
        let k = key.lowercased()
        if secretKeys.contains(where: { k.contains($0) }) { return "<redacted>" }
        if !hashKeys.contains(k) && !k.hasSuffix("_hash") && hasHex64Run(value) { return "<redacted: 32-byte hex>" }
        return value
    }

    /// Whether `s` holds exactly-64 hex digits in a row (a 32-byte value) that is not written as a `0x` hash.
    static func hasHex64Run(_ s: String) -> Bool {
        var run = 0
        var prefixed = false
        var previous: (UInt8, UInt8) = (0, 0)
        for c in s.utf8 {
            if (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) {
                if run == 0 { prefixed = previous.0 == UInt8(ascii: "0") && (previous.1 == UInt8(ascii: "x") || previous.1 == UInt8(ascii: "X")) }
                run += 1
            } else {
                if run == 64 && !prefixed { return true }
                run = 0
            }
            previous = (previous.1, c)
        }
        return run == 64 && !prefixed
    }

    static func flatten(_ v: Logger.Metadata.Value) -> String {
        switch v {
        case let .string(s): return s
        case let .stringConvertible(c): return c.description
        case let .array(a): return "[" + a.map(flatten).joined(separator: ",") + "]"
        case let .dictionary(d): return "{" + d.keys.sorted().map { "\($0)=\(d[$0].map(flatten) ?? "")" }.joined(separator: ",") + "}"
        }
    }

    static func oneLine(_ s: String) -> String { s.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r") }

    /// A JSON string literal (RFC 8259 escaping).
    static func quote(_ s: String) -> String { JSONString.quoted(s) }

    static func timestamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: d)
    }
}

/// Where log lines go: a file descriptor (stderr by default), written whole under a lock, or a
/// collecting buffer (tests).
public final class LogSink: @unchecked Sendable {
    let lock = NSLock()
    let fd: Int32?
    var collected: [String] = []

    init(fd: Int32?) { self.fd = fd }

    /// stderr (journald reads it under systemd).
    public static let standardError = LogSink(fd: 2)
    /// A sink that keeps lines in memory (`lines`).
    public static func collecting() -> LogSink { LogSink(fd: nil) }

    /// The lines written so far (collecting sinks only).
    public var lines: [String] { lock.lock(); defer { lock.unlock() }; return collected }

    func write(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        guard let fd else { collected.append(line); return }
        let bytes = Array(line.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { buf in Foundation.write(fd, buf.baseAddress, buf.count) }
            if n <= 0 { break }
            off += n
        }
    }
}

/// Process-wide logging setup for the daemon and the CLI (`--log-format`, `--log-level`).
public enum LogSetup {
    nonisolated(unsafe) static var currentLevel: Logger.Level = .info
    static let levelLock = NSLock()

    /// The level every `KeeperLogHandler` without its own override uses; changing it takes effect at once
    /// (SIGHUP re-applies the level given on the command line or in `EXPANSION_KEEPER_LOG_LEVEL`).
    public static var level: Logger.Level {
        get { levelLock.lock(); defer { levelLock.unlock() }; return currentLevel }
        set { levelLock.lock(); currentLevel = newValue; levelLock.unlock() }
    }

    /// Parses a `--log-format` value.
    public static func format(_ text: String) -> LogFormat? { LogFormat(rawValue: text.lowercased()) }

    /// Parses a `--log-level` value (trace, debug, info, notice, warning, error, critical).
    public static func level(_ text: String) -> Logger.Level? { Logger.Level(rawValue: text.lowercased()) }

    /// Bootstraps swift-log once per process with `KeeperLogHandler`s (later calls only change the level).
    public static func bootstrap(format: LogFormat, level: Logger.Level) {
        self.level = level
        bootstrapOnce.run { LoggingSystem.bootstrap { label in KeeperLogHandler(label: label, format: format) } }
    }

    static let bootstrapOnce = Once()
}

/// Runs a closure at most once per process.
final class Once: @unchecked Sendable {
    let lock = NSLock()
    var done = false
    func run(_ body: () -> Void) {
        lock.lock(); defer { lock.unlock() }
        if !done { done = true; body() }
    }
}
