import EthereumCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keystore files on disk, written the way go-ethereum does it: a temporary file (mode 0600) in the
/// keystore's own directory (mode 0700), flushed, re-read and decrypted to verify, then moved into place
/// with one atomic step. A crash at any point leaves either the old complete file or the new complete
/// file, plus at most a hidden `.keeper-tmp-*` file that `list` ignores.
public enum KeystoreFile {
    /// Prefix of temporary files (hidden, ignored by `list`).
    public static let temporaryPrefix = ".keeper-tmp-"

    /// Reads and parses a keystore file (at most `Keystore.maxJSONBytes`).
    public static func read(path: String) throws(SigningError) -> Keystore {
        try Keystore.parse(json: try readBytes(path: path, limit: Keystore.maxJSONBytes))
    }

    /// go-ethereum's file name: `UTC--<ISO time with - for :>--<lowercase address without 0x>`.
    public static func fileName(for address: Address, date: Date = Date()) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let nanos = Int((date.timeIntervalSince1970 - Double(seconds)) * 1e9)
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let nanoText = String(nanos)
        let stamp = "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2))-\(pad(parts.tm_min, 2))-\(pad(parts.tm_sec, 2)).\(String(repeating: "0", count: max(0, 9 - nanoText.count)) + nanoText)Z"
        return "UTC--\(stamp)--\(Hex.encode(address.bytes, prefix: false))"
    }

    /// Creates `directory` with mode 0700 if missing; refuses an existing directory that group or others can access.
    public static func prepareDirectory(_ directory: String) throws(SigningError) {
        var info = stat()
        if stat(directory, &info) != 0 {
            guard errno == ENOENT else { throw .io(path: directory, reason: String(cString: strerror(errno))) }
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw .io(path: directory, reason: "cannot create the keystore directory")
            }
            guard chmod(directory, 0o700) == 0 else { throw .io(path: directory, reason: String(cString: strerror(errno))) }
            return
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .io(path: directory, reason: "not a directory") }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw .io(path: directory, reason: "keystore directory is accessible by other users (mode \(String(mode, radix: 8))); run chmod 700 on it")
        }
    }

    /// Writes a new keystore into `directory` under `fileName`, never overwriting an existing file.
    /// `verify` receives the path of the written temporary file and must re-read and decrypt it.
    /// Returns the final path.
    public static func writeNew(_ json: String, directory: String, fileName: String,
                                verify: (String) throws(SigningError) -> Void) throws(SigningError) -> String {
        let final = (directory as NSString).appendingPathComponent(fileName)
        let temporary = try writeTemporary(json, directory: directory)
        do throws(SigningError) {
            try verify(temporary)
            // link() fails if `final` exists: no keystore is ever replaced by a new one.
            guard link(temporary, final) == 0 else {
                throw SigningError.io(path: final, reason: errno == EEXIST ? "already exists" : String(cString: strerror(errno)))
            }
            unlink(temporary)
            syncDirectory(directory)
            return final
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Atomically replaces the keystore at `path` (same directory temp file, verify, rename over).
    /// If anything fails the original file is untouched.
    public static func replace(path: String, with json: String, verify: (String) throws(SigningError) -> Void) throws(SigningError) {
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        let temporary = try writeTemporary(json, directory: directory)
        do throws(SigningError) {
            try verify(temporary)
            guard rename(temporary, path) == 0 else { throw SigningError.io(path: path, reason: String(cString: strerror(errno))) }
            syncDirectory(directory)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Every keystore in `directory` whose file names its address: (address, path), sorted by file name.
    /// Hidden files, directories and files that do not parse as keystores are skipped.
    public static func list(directory: String) throws(SigningError) -> [(address: Address, path: String)] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw .io(path: directory, reason: "cannot read the keystore directory")
        }
        var out: [(address: Address, path: String)] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = (directory as NSString).appendingPathComponent(name)
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            if let keystore = try? read(path: path), let address = keystore.address {
                out.append((address, path))
            }
        }
        return out
    }

    /// Reads at most `limit` bytes of a regular file.
    public static func readBytes(path: String, limit: Int) throws(SigningError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .io(path: path, reason: "not a regular file") }
        guard Int(info.st_size) <= limit else { throw .io(path: path, reason: "file of \(info.st_size) bytes exceeds the \(limit)-byte limit") }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4096) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            guard out.count <= limit else { throw .io(path: path, reason: "file exceeds the \(limit)-byte limit") }
        }
        return out
    }

    /// Writes `json` to a new hidden file (mode 0600, O_EXCL) in `directory` and fsyncs it.
    static func writeTemporary(_ json: String, directory: String) throws(SigningError) -> String {
        var rng = SystemRandomNumberGenerator()
        let suffix = Hex.encode((0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) }, prefix: false)
        let path = (directory as NSString).appendingPathComponent(temporaryPrefix + suffix)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        var ok = fchmod(fd, 0o600) == 0
        let bytes = Array(json.utf8)
        var written = 0
        while ok && written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { ok = false } else { written += n }
        }
        if ok { ok = fsync(fd) == 0 }
        let reason = ok ? "" : String(cString: strerror(errno))
        close(fd)
        guard ok else {
            unlink(path)
            throw .io(path: path, reason: reason)
        }
        return path
    }

    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }
}
