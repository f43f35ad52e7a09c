import Foundation
import XCTest

/// The `--help` text of every command and subcommand is byte-identical to Tests/Golden/help (issue 16:
/// refactors must not change what an operator sees). The files come from deploy/dev/golden_help.sh; an intended
/// change to the CLI regenerates them with it and commits the diff.
final class HelpGoldenTests: XCTestCase {
    /// Outside the CLITests folder, which SwiftPM would otherwise ask to declare them as resources.
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Golden/help")

    static let regenerate = "If the change is intended (a new option, subcommand or help text), build, run "
        + "`deploy/dev/golden_help.sh \(ABICLITests.binary.path)` and commit the updated Tests/Golden/help files."

    /// The command words a golden file stands for: `expansion-keeper.txt` → [], `keys.change-password.txt` → [keys, change-password].
    static func words(_ file: URL) -> [String] {
        let stem = file.deletingPathExtension().lastPathComponent
        return stem == "expansion-keeper" ? [] : stem.split(separator: ".").map(String.init)
    }

    /// The subcommand names listed in a help text's SUBCOMMANDS section (rows indented two spaces).
    static func subcommands(_ help: String) -> [String] {
        guard let section = help.components(separatedBy: "SUBCOMMANDS:\n").dropFirst().first else { return [] }
        return section.components(separatedBy: "\n\n")[0].split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            return line.dropFirst(2).split(separator: " ").first.map(String.init)
        }
    }

    /// `expansion-keeper WORDS… --help` at the width the golden files were written at.
    func help(_ words: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = ABICLITests.binary
        process.arguments = words + ["--help"]
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = "80"  // ArgumentParser wraps to COLUMNS, else to the terminal's width
        environment["LINES"] = "25"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func goldenFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: Self.goldenDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "txt" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    func testEveryHelpMatchesItsGoldenFile() throws {
        let files = try goldenFiles()
        XCTAssertGreaterThanOrEqual(files.count, 28, "golden files missing from \(Self.goldenDirectory.path). \(Self.regenerate)")
        for file in files {
            let words = Self.words(file)
            let command = (["expansion-keeper"] + words + ["--help"]).joined(separator: " ")
            let golden = try String(contentsOf: file, encoding: .utf8)
            let run = try help(words)
            XCTAssertEqual(run.status, 0, "\(command): \(run.stderr)")
            XCTAssertEqual(run.stderr, "", command)
            if run.stdout != golden {
                let got = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
                let want = golden.split(separator: "\n", omittingEmptySubsequences: false)
                let line = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, want.count)
                XCTFail("""
                    `\(command)` differs from \(file.lastPathComponent) at line \(line + 1):
                      golden: \(line < want.count ? String(want[line]) : "<end>")
                      binary: \(line < got.count ? String(got[line]) : "<end>")
                    \(Self.regenerate)
                    """)
            }
        }
    }

    /// Every subcommand a help lists has a golden file, and every golden file is a command the binary lists.
    func testGoldenFilesCoverEveryCommand() throws {
        let files = try goldenFiles()
        let have = Set(files.map { Self.words($0) })
        var listed: Set<[String]> = [[]]
        for file in files {
            let words = Self.words(file)
            for sub in Self.subcommands(try String(contentsOf: file, encoding: .utf8)) { listed.insert(words + [sub]) }
        }
        for missing in listed.subtracting(have).sorted(by: { $0.joined(separator: " ") < $1.joined(separator: " ") }) {
            XCTFail("no golden help for `expansion-keeper \(missing.joined(separator: " "))`. \(Self.regenerate)")
        }
        for stale in have.subtracting(listed).sorted(by: { $0.joined(separator: " ") < $1.joined(separator: " ") }) {
            XCTFail("golden help for `expansion-keeper \(stale.joined(separator: " "))`, which no help lists. \(Self.regenerate)")
        }
    }
}
