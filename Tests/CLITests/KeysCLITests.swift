import EthereumCore
import Foundation
import KeeperTesting
import XCTest

/// Runs the built `expansion-keeper` binary for the keys/tx CLI tests.
enum KeeperProcess {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
        var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
    }

    static var binary: URL {
        #if os(Linux)
        return Bundle.main.bundleURL.appendingPathComponent("expansion-keeper")
        #else
        return Bundle(for: KeysCLITests.self).bundleURL.deletingLastPathComponent().appendingPathComponent("expansion-keeper")
        #endif
    }

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A process with stdin from /dev/null (never a terminal) and a clean password environment.
    static func make(_ arguments: [String], environment: [String: String] = [:]) -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["EXPANSION_KEEPER_PASSWORD_FILE"] = nil
        env["CREDENTIALS_DIRECTORY"] = nil
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        return (process, out, err)
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> Result {
        let (process, out, err) = make(arguments, environment: environment)
        var input: Pipe?
        if stdin != nil {
            input = Pipe()
            process.standardInput = input
        }
        try process.run()
        if let input, let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

/// Asserts the CLI error contract: status 1, nothing on stdout, exactly one stderr line containing `text`.
func assertCLIFailure(_ result: KeeperProcess.Result, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(result.status, 1, "stderr: \(result.stderr)", file: file, line: line)
    XCTAssertEqual(result.stdout, "", file: file, line: line)
    XCTAssertEqual(result.stderrLines.count, 1, "stderr: \(result.stderr)", file: file, line: line)
    XCTAssertTrue(result.stderr.lowercased().contains(text.lowercased()), "expected \"\(text)\" in: \(result.stderr)", file: file, line: line)
}

func permissions(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// A scratch directory for one test (mode 0700), with password files.
final class KeysScratch {
    let root: String
    init(_ tag: String) throws {
        root = NSTemporaryDirectory() + "sign-cli-\(tag)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
    deinit { try? FileManager.default.removeItem(atPath: root) }
    /// Writes a file (mode 0600 unless given) and returns its path.
    func file(_ name: String, _ contents: String, mode: Int = 0o600) throws -> String {
        let path = root + "/" + name
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }
    func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }
}

final class KeysCLITests: XCTestCase {
    static let vectorKeyAddress = "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b"  // private key of ethereum/tests KeyStoreTests

    func testNewListAddressExportAndImportRawKey() throws {
        let s = try KeysScratch("new")
        let pw = try s.file("pw", "hunter2 with spaces\n")
        let dir = s.root + "/keys"
        let created = try KeeperProcess.run(["keys", "new", "--keystore-dir", dir, "--password-file", pw, "--light"])
        XCTAssertEqual(created.status, 0, created.stderr)
        XCTAssertEqual(created.stderr, "")
        let lines = created.stdoutLines
        XCTAssertEqual(lines.count, 2)
        let address = try Address(lines[0])
        XCTAssertEqual(address.checksummed, lines[0])
        XCTAssertTrue(lines[1].hasPrefix(dir + "/UTC--"))
        XCTAssertEqual(permissions(dir), 0o700)
        XCTAssertEqual(permissions(lines[1]), 0o600)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).count, 1, "no temporary file left behind")

        XCTAssertEqual(try KeeperProcess.run(["keys", "address", "--keystore", lines[1]]).stdout, lines[0] + "\n")
        XCTAssertEqual(try KeeperProcess.run(["keys", "list", "--keystore-dir", dir]).stdout, "\(lines[0]) \(lines[1])\n")

        assertCLIFailure(try KeeperProcess.run(["keys", "export", "--keystore", lines[1], "--password-file", pw]),
                         contains: "--unsafe-print-private-key")
        let exported = try KeeperProcess.run(["keys", "export", "--keystore", lines[1], "--password-file", pw, "--unsafe-print-private-key"])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        let keyHex = exported.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(keyHex.count, 66)

        // The exported key imported elsewhere gives the same address.
        let keyFile = try s.file("key.hex", keyHex + "\n")
        let imported = try KeeperProcess.run(["keys", "import", "--keystore-dir", s.root + "/other", "--password-file", pw,
                                              "--private-key-file", keyFile, "--light"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        XCTAssertEqual(imported.stdout, lines[0] + "\n")
        // ... and a second import of the same key into the same directory is refused.
        assertCLIFailure(try KeeperProcess.run(["keys", "import", "--keystore-dir", s.root + "/other", "--password-file", pw,
                                                "--private-key-file", keyFile, "--light"]), contains: "already exists")
    }

    func testImportForeignKeystoreAndPasswordSources() throws {
        let s = try KeysScratch("import")
        // ethereum/tests KeyStoreTests/basic_tests.json "test1" (pbkdf2, no address field).
        let vector = """
        {"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"6087dab2f9fdbbfaddc31a909735c1e6"},"ciphertext":"5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46","kdf":"pbkdf2","kdfparams":{"c":262144,"dklen":32,"prf":"hmac-sha256","salt":"ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"},"mac":"517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"},"id":"3198bc9c-6672-5ab3-d995-4942343ae5b6","version":3}
        """
        let foreign = try s.file("foreign.json", vector)
        let pw = try s.file("pw", "testpassword\n")
        let wrong = try s.file("wrong", "testpassword2\n")
        let dir = s.root + "/keys"
        assertCLIFailure(try KeeperProcess.run(["keys", "address", "--keystore", foreign]), contains: "no address field")
        assertCLIFailure(try KeeperProcess.run(["keys", "import", "--keystore-dir", dir, "--password-file", wrong, foreign]),
                         contains: "wrong password")
        // Password from the environment variable.
        let viaEnv = try KeeperProcess.run(["keys", "import", "--keystore-dir", dir, foreign], environment: ["EXPANSION_KEEPER_PASSWORD_FILE": pw])
        XCTAssertEqual(viaEnv.status, 0, viaEnv.stderr)
        XCTAssertEqual(viaEnv.stdout, Self.vectorKeyAddress + "\n")
        let listed = try KeeperProcess.run(["keys", "list", "--keystore-dir", dir])
        XCTAssertTrue(listed.stdout.hasPrefix(Self.vectorKeyAddress + " " + dir + "/UTC--"), listed.stdout)
        let stored = String(listed.stdout.dropFirst(Self.vectorKeyAddress.count + 1)).trimmingCharacters(in: .newlines)
        XCTAssertEqual(permissions(stored), 0o600)
        // Password from a systemd credential directory.
        let creds = s.root + "/creds"
        try FileManager.default.createDirectory(atPath: creds, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try Data("testpassword".utf8).write(to: URL(fileURLWithPath: creds + "/keeper-password"))
        let viaCredential = try KeeperProcess.run(["keys", "export", "--keystore", stored, "--unsafe-print-private-key"],
                                                  environment: ["CREDENTIALS_DIRECTORY": creds])
        XCTAssertEqual(viaCredential.stdout, "0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d\n", viaCredential.stderr)
        // No source at all and no terminal: refused, naming the ways to give one.
        assertCLIFailure(try KeeperProcess.run(["keys", "export", "--keystore", stored, "--unsafe-print-private-key"]),
                         contains: "--password-file")
        // A world-readable password file works but draws a warning.
        let loose = try s.file("loose", "testpassword\n", mode: 0o644)
        let warned = try KeeperProcess.run(["keys", "export", "--keystore", stored, "--password-file", loose, "--unsafe-print-private-key"])
        XCTAssertEqual(warned.status, 0)
        XCTAssertEqual(warned.stderrLines.count, 1)
        XCTAssertTrue(warned.stderr.hasPrefix("warning: password file") && warned.stderr.contains("chmod 600"), warned.stderr)
        // Both a keystore and --private-key-file: refused.
        assertCLIFailure(try KeeperProcess.run(["keys", "import", "--keystore-dir", dir, "--password-file", pw, "--private-key-file", pw, foreign]),
                         contains: "not both")
    }

    func testErrorsNameTheProblem() throws {
        let s = try KeysScratch("errors")
        let pw = try s.file("pw", "pw\n")
        let dir = s.root + "/keys"
        let created = try KeeperProcess.run(["keys", "new", "--keystore-dir", dir, "--password-file", pw, "--light"])
        XCTAssertEqual(created.status, 0, created.stderr)
        let path = created.stdoutLines[1]
        let original = try XCTUnwrap(s.contents(path))
        let text = String(decoding: original, as: UTF8.self)

        let truncated = try s.file("truncated.json", String(text.prefix(text.count / 2)))
        assertCLIFailure(try KeeperProcess.run(["keys", "export", "--keystore", truncated, "--password-file", pw, "--unsafe-print-private-key"]),
                         contains: "corrupt keystore")
        let unknownKDF = try s.file("argon.json", text.replacingOccurrences(of: "\"kdf\":\"scrypt\"", with: "\"kdf\":\"argon2id\""))
        assertCLIFailure(try KeeperProcess.run(["keys", "export", "--keystore", unknownKDF, "--password-file", pw, "--unsafe-print-private-key"]),
                         contains: "unsupported keystore: crypto.kdf")
        let unknownCipher = try s.file("gcm.json", text.replacingOccurrences(of: "aes-128-ctr", with: "aes-256-gcm"))
        assertCLIFailure(try KeeperProcess.run(["keys", "export", "--keystore", unknownCipher, "--password-file", pw, "--unsafe-print-private-key"]),
                         contains: "crypto.cipher")
        let absurd = try s.file("absurd.json", text.replacingOccurrences(of: "\"n\":4096", with: "\"n\":1099511627776"))
        let started = Date()
        assertCLIFailure(try KeeperProcess.run(["keys", "export", "--keystore", absurd, "--password-file", pw, "--unsafe-print-private-key"]),
                         contains: "parameters refused")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        let wrong = try s.file("wrong", "pw2\n")
        let failed = try KeeperProcess.run(["keys", "export", "--keystore", path, "--password-file", wrong, "--unsafe-print-private-key"])
        assertCLIFailure(failed, contains: "wrong password")
        XCTAssertFalse(failed.stderr.contains("pw2"))
        assertCLIFailure(try KeeperProcess.run(["keys", "address", "--keystore", s.root + "/missing.json"]), contains: "missing.json")
        // A wrong current password leaves the keystore byte-identical.
        assertCLIFailure(try KeeperProcess.run(["keys", "change-password", "--keystore", path, "--password-file", wrong,
                                                "--new-password-file", pw, "--light"]), contains: "wrong password")
        XCTAssertEqual(s.contents(path), original)
        // A keystore directory others can read is refused.
        let open = s.root + "/open"
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        assertCLIFailure(try KeeperProcess.run(["keys", "new", "--keystore-dir", open, "--password-file", pw, "--light"]), contains: "chmod 700")
        // A raw key of 0 or ≥ n is refused without echoing it.
        for bad in [String(repeating: "0", count: 64), "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"] {
            let keyFile = try s.file("bad.key", bad + "\n")
            let refused = try KeeperProcess.run(["keys", "import", "--keystore-dir", dir, "--password-file", pw, "--private-key-file", keyFile])
            assertCLIFailure(refused, contains: "invalid private key")
            XCTAssertFalse(refused.stderr.contains(bad))
        }
        // An empty new password is refused.
        let empty = try s.file("empty", "\n")
        assertCLIFailure(try KeeperProcess.run(["keys", "new", "--keystore-dir", dir, "--password-file", empty, "--light"]), contains: "empty")
    }

    func testChangePassword() throws {
        let s = try KeysScratch("change")
        let a = try s.file("a", "old password\n"), b = try s.file("b", "new password\r\n")
        let created = try KeeperProcess.run(["keys", "new", "--keystore-dir", s.root + "/keys", "--password-file", a, "--light"])
        XCTAssertEqual(created.status, 0, created.stderr)
        let path = created.stdoutLines[1]
        let before = try KeeperProcess.run(["keys", "export", "--keystore", path, "--password-file", a, "--unsafe-print-private-key"]).stdout
        let changed = try KeeperProcess.run(["keys", "change-password", "--keystore", path, "--password-file", a, "--new-password-file", b, "--light"])
        XCTAssertEqual(changed.status, 0, changed.stderr)
        XCTAssertEqual(changed.stdout, created.stdoutLines[0] + "\n")
        XCTAssertEqual(permissions(path), 0o600)
        assertCLIFailure(try KeeperProcess.run(["keys", "export", "--keystore", path, "--password-file", a, "--unsafe-print-private-key"]),
                         contains: "wrong password")
        XCTAssertEqual(try KeeperProcess.run(["keys", "export", "--keystore", path, "--password-file", b, "--unsafe-print-private-key"]).stdout, before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: s.root + "/keys").count, 1)
    }

    /// SIGKILL at many points during `keys new` and `keys change-password`: never a partial or lost keystore.
    func testKillDuringNewAndChangePasswordNeverLosesAKeystore() throws {
        let s = try KeysScratch("kill")
        let a = try s.file("a", "password a\n"), b = try s.file("b", "password b\n")
        let dir = s.root + "/keys"
        // Measure one complete run of each command.
        var start = Date()
        let first = try KeeperProcess.run(["keys", "new", "--keystore-dir", dir, "--password-file", a, "--light"])
        let newDuration = Date().timeIntervalSince(start)
        XCTAssertEqual(first.status, 0, first.stderr)
        let path = first.stdoutLines[1]
        let address = first.stdoutLines[0]
        let key = try KeeperProcess.run(["keys", "export", "--keystore", path, "--password-file", a, "--unsafe-print-private-key"]).stdout
        start = Date()
        XCTAssertEqual(try KeeperProcess.run(["keys", "change-password", "--keystore", path, "--password-file", a, "--new-password-file", b, "--light"]).status, 0)
        let changeDuration = Date().timeIntervalSince(start)
        var current = b, other = a
        print("kill test: keys new takes \(newDuration) s, change-password \(changeDuration) s")

        let fractions: [Double] = [0.02, 0.1, 0.25, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.97]
        var killedNew = 0, killedChange = 0
        var verified: Set<String> = []
        for f in fractions {
            // keys new, killed part-way.
            let (p1, _, _) = KeeperProcess.make(["keys", "new", "--keystore-dir", dir, "--password-file", a, "--light"])
            try p1.run()
            usleep(UInt32(newDuration * f * 1_000_000))
            kill(p1.processIdentifier, SIGKILL)
            p1.waitUntilExit()
            if p1.terminationReason == .uncaughtSignal { killedNew += 1 }
            // change-password current -> other, killed part-way.
            let (p2, _, _) = KeeperProcess.make(["keys", "change-password", "--keystore", path, "--password-file", current,
                                                 "--new-password-file", other, "--light"])
            try p2.run()
            usleep(UInt32(changeDuration * f * 1_000_000))
            kill(p2.processIdentifier, SIGKILL)
            p2.waitUntilExit()
            if p2.terminationReason == .uncaughtSignal { killedChange += 1 } else if p2.terminationStatus == 0 { swap(&current, &other) }
            // The changed keystore opens with exactly one of the two passwords and still holds the same key.
            let withCurrent = try KeeperProcess.run(["keys", "export", "--keystore", path, "--password-file", current, "--unsafe-print-private-key"])
            if withCurrent.status == 0 {
                XCTAssertEqual(withCurrent.stdout, key, "fraction \(f)")
            } else {
                // The kill landed after the rename: the new password is in force.
                swap(&current, &other)
                XCTAssertEqual(try KeeperProcess.run(["keys", "export", "--keystore", path, "--password-file", current,
                                                      "--unsafe-print-private-key"]).stdout, key, "fraction \(f): keystore lost")
            }
            XCTAssertEqual(permissions(path), 0o600)
            // Every visible file in the directory is a complete keystore that decrypts (new ones checked once).
            for name in try FileManager.default.contentsOfDirectory(atPath: dir) where !name.hasPrefix(".") && !verified.contains(name) {
                let file = dir + "/" + name
                if file == path { continue }  // checked above with the password in force
                verified.insert(name)
                let password = a
                let opened = try KeeperProcess.run(["keys", "export", "--keystore", file, "--password-file", password, "--unsafe-print-private-key"])
                XCTAssertEqual(opened.status, 0, "fraction \(f): partial keystore \(name): \(opened.stderr)")
                XCTAssertEqual(permissions(file), 0o600)
            }
        }
        print("kill test: killed keys new \(killedNew)×, change-password \(killedChange)× of \(fractions.count)")
        // Timing is measured once; on a machine whose load changes the late fractions may land after the exit.
        XCTAssertGreaterThanOrEqual(killedNew, fractions.count / 3, "the kills mostly landed after the process ended; the test proved little")
        XCTAssertGreaterThanOrEqual(killedChange, fractions.count / 3)
        let list = try KeeperProcess.run(["keys", "list", "--keystore-dir", dir])
        XCTAssertTrue(list.stdout.contains(address + " " + path))
    }
}

/// The no-echo prompt, driven through a pseudo-terminal by Tests/Support/sign_pty.py.
final class KeysPromptCLITests: XCTestCase {
    func runUnderPTY(_ answers: (String, String), _ arguments: [String]) throws -> (status: Int, transcript: String, prompts: Int) {
        let python = try TestEnvironment.python()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [KeeperProcess.repoRoot.appendingPathComponent("Tests/Support/sign_pty.py").path,
                             KeeperProcess.binary.path, answers.0, answers.1, "--"] + arguments
        var env = ProcessInfo.processInfo.environment
        env["EXPANSION_KEEPER_PASSWORD_FILE"] = nil
        env["CREDENTIALS_DIRECTORY"] = nil
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return (object["status"] as? Int ?? -1, object["transcript"] as? String ?? "", object["prompts"] as? Int ?? -1)
    }

    func testNewKeyPromptsTwiceWithoutEcho() throws {
        let s = try KeysScratch("pty")
        let dir = s.root + "/keys"
        let made = try runUnderPTY(("s3cret-typed", "s3cret-typed"), ["keys", "new", "--keystore-dir", dir, "--light"])
        XCTAssertEqual(made.status, 0, made.transcript)
        XCTAssertEqual(made.prompts, 2, made.transcript)
        XCTAssertTrue(made.transcript.contains("Repeat: "), made.transcript)
        XCTAssertFalse(made.transcript.contains("s3cret-typed"), "the password was echoed: \(made.transcript)")
        // The typed password is the one in force.
        let path = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir).first.map { dir + "/" + $0 })
        let pw = try s.file("pw", "s3cret-typed\n")
        XCTAssertEqual(try KeeperProcess.run(["keys", "export", "--keystore", path, "--password-file", pw, "--unsafe-print-private-key"]).status, 0)
        // Two different answers: refused, nothing written.
        let mismatch = try runUnderPTY(("one", "two"), ["keys", "new", "--keystore-dir", dir, "--light"])
        XCTAssertEqual(mismatch.status, 1)
        XCTAssertTrue(mismatch.transcript.contains("do not match"), mismatch.transcript)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).count, 1)
    }
}
