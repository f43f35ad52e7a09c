import EthereumSigning
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a keystore password comes from, in order: `--password-file FILE`, the file named by
/// `EXPANSION_KEEPER_PASSWORD_FILE`, the systemd credential `$CREDENTIALS_DIRECTORY/keeper-password`, and
/// only on an interactive terminal a prompt with echo off (asked twice for a new password).
/// Never a plain command-line argument. A password file readable by every user draws a warning on stderr.
enum PasswordSource {
    /// Environment variable naming a password file.
    static let environmentVariable = "EXPANSION_KEEPER_PASSWORD_FILE"
    /// The systemd credential's file name (`LoadCredential=keeper-password:/path`).
    static let credentialName = "keeper-password"

    /// The password for an existing keystore.
    static func existing(file: String?, purpose: String) throws -> [UInt8] {
        if let path = try configuredFile(file) { return try readFile(path) }
        return try prompt("\(purpose): ", confirm: false)
    }

    /// A password for a new keystore (files as above; a prompt asks twice). Refuses an empty password.
    static func new(file: String?, purpose: String, useEnvironment: Bool = true) throws -> [UInt8] {
        let password: [UInt8]
        if let path = useEnvironment ? try configuredFile(file) : file {
            password = try readFile(path)
        } else {
            password = try prompt("\(purpose): ", confirm: true)
        }
        guard !password.isEmpty else { throw CLIError("the new password is empty; choose a non-empty password") }
        return password
    }

    /// The first configured file: the option, then the environment variable, then the systemd credential.
    static func configuredFile(_ option: String?) throws -> String? {
        if let option { return option }
        let env = ProcessInfo.processInfo.environment
        if let path = env[environmentVariable], !path.isEmpty { return path }
        if let dir = env["CREDENTIALS_DIRECTORY"], !dir.isEmpty {
            let path = (dir as NSString).appendingPathComponent(credentialName)
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return nil
    }

    /// The password file for the keeper's keystore and what named it, in order: `--password-file`,
    /// `EXPANSION_KEEPER_PASSWORD_FILE`, `$CREDENTIALS_DIRECTORY/keeper-password` (inside the unit), then the
    /// config's `keeper.password_file` — which, on the systemd layout, names the credential and so exists only
    /// inside the unit: when it is missing and nothing else is given, the error says what to pass instead.
    /// Nil: nothing configured (prompt on a terminal).
    static func forKeystore(option: String?, configured: String?) throws -> (path: String, name: String)? {
        if let option { return (option, "--password-file \(option)") }
        let env = ProcessInfo.processInfo.environment
        if let path = env[environmentVariable], !path.isEmpty { return (path, "\(environmentVariable)=\(path)") }
        if let dir = env["CREDENTIALS_DIRECTORY"], !dir.isEmpty {
            let path = (dir as NSString).appendingPathComponent(credentialName)
            if FileManager.default.fileExists(atPath: path) { return (path, "the systemd credential \(path)") }
        }
        guard let configured else { return nil }
        guard FileManager.default.fileExists(atPath: configured) else {
            throw CLIError("keeper.password_file \(configured): no such file (a systemd credential exists only inside the unit); "
                + "outside it pass --password-file FILE or set \(environmentVariable)=FILE (e.g. /etc/expansion-keeper/keeper-password, as root)")
        }
        return (configured, "keeper.password_file \(configured)")
    }

    /// The first line of a password file, without its trailing newline (`\n` or `\r\n`).
    static func readFile(_ path: String) throws -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CLIError("password file \(path): \(String(cString: strerror(errno)))")
        }
        if info.st_mode & 0o004 != 0 {
            FileHandle.standardError.write(Data(
                "warning: password file \(path) is readable by every user (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 \(path)\n".utf8))
        }
        let bytes: [UInt8]
        do {
            bytes = try KeystoreFile.readBytes(path: path, limit: 64 * 1024)
        } catch {
            throw CLIError("password file \(error)")
        }
        var line = Array(bytes.prefix { $0 != 0x0a })
        if line.last == 0x0d { line.removeLast() }
        return line
    }

    /// Prompts on the controlling terminal with echo off; refuses when stdin is not a terminal.
    static func prompt(_ text: String, confirm: Bool) throws -> [UInt8] {
        guard isatty(STDIN_FILENO) == 1 else {
            throw CLIError("no password given: use --password-file FILE, \(environmentVariable)=FILE or a systemd credential named \(credentialName) (prompting needs an interactive terminal)")
        }
        let first = try readHidden(text)
        if confirm {
            let second = try readHidden("Repeat: ")
            guard first == second else { throw CLIError("the two passwords do not match") }
        }
        return first
    }

    private static func readHidden(_ text: String) throws -> [UInt8] {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError("cannot open the terminal to prompt for a password") }
        defer { close(fd) }
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { throw CLIError("cannot read the terminal settings") }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        quiet.c_lflag |= tcflag_t(ECHONL)
        // Echo goes off before the prompt appears, so nothing typed after the prompt is ever shown or flushed.
        guard tcsetattr(fd, TCSAFLUSH, &quiet) == 0 else { throw CLIError("cannot turn off terminal echo") }
        defer { _ = tcsetattr(fd, TCSANOW, &saved) }
        _ = text.withCString { write(fd, $0, strlen($0)) }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1, byte != 0x0a {
            line.append(byte)
            guard line.count <= 4096 else { throw CLIError("password longer than 4096 bytes") }
        }
        if line.last == 0x0d { line.removeLast() }
        return line
    }
}
