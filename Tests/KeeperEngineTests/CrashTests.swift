import EthereumCore
import Foundation
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperStore
import KeeperSubmission
import KeeperTesting
import XCTest

/// The daemon as a real process: kill -9 at random moments during catch-up (3 times in CI, 30 with
/// EXPANSION_KEEPER_SOAK=1) and SIGTERM (graceful); after restarts the store equals one built in one run.
final class CrashTests: XCTestCase {
    func prepareChain() async throws -> LocalChain {
        let chain = try LocalChain()
        try chain.deploy()
        try chain.driver("drive", ["--seed", "\(Env.seed &+ 11)", "--steps", "80", "--route-every", "3"])
        try await chain.mine(1200)
        try chain.driver("drive", ["--seed", "\(Env.seed &+ 12)", "--steps", "40", "--route-every", "3"])
        return chain
    }

    func start(_ config: String, exitWhenCaughtUp: Bool) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Env.binary)
        p.arguments = ["run", "--config", config, "--log-level", "error"] + (exitWhenCaughtUp ? ["--exit-when-caught-up"] : [])
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    func testKillNineDuringCatchUpLosesNothing() async throws {
        let chain = try await prepareChain()
        let reference = try Keeper(configPath: try chain.config(name: "reference").path)
        _ = try await reference.catchUp()
        let expected = try reference.dump()
        let victim = try chain.config(name: "victim", ingestRange: 5)
        var rng = SplitMix(seed: Env.seed)
        let kills = Env.soak ? 30 : 3
        var killedMidway = 0
        print("kill -9 seed \(Env.seed), \(kills) kills")
        for _ in 0..<kills {
            let p = try start(victim.path, exitWhenCaughtUp: true)
            usleep(UInt32(40_000 + rng.next() % 250_000))
            if p.isRunning { killedMidway += 1 }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        print("kill -9: \(killedMidway) of \(kills) kills landed during catch-up")
        let final = try Env.run(Env.binary, ["run", "--config", victim.path, "--exit-when-caught-up", "--log-level", "error"])
        XCTAssertEqual(final.status, 0, final.err)
        let store = try KeeperStore(directory: victim.dataDir.path, readOnly: true)
        let got = try store.read { r in try r.canonicalDump() }
        XCTAssertEqual(got, expected, "the store after \(kills) kill -9 restarts equals one built in one run")
        XCTAssertGreaterThan(killedMidway, 0, "at least one kill must land during catch-up")
    }

    func testSigtermStopsGracefullyAndResumes() async throws {
        let chain = try await prepareChain()
        let reference = try Keeper(configPath: try chain.config(name: "reference").path)
        _ = try await reference.catchUp()
        let victim = try chain.config(name: "victim", ingestRange: 10)
        let p = try start(victim.path, exitWhenCaughtUp: false)
        // Wait for some progress, then SIGTERM mid catch-up.
        let storePath = victim.dataDir.appendingPathComponent(KeeperStore.fileName).path
        let deadline = Date().addingTimeInterval(20)
        var progressed = false
        while Date() < deadline && !progressed {
            usleep(50_000)
            if FileManager.default.fileExists(atPath: storePath),
               let s = try? KeeperStore(path: storePath, readOnly: true), let c = try? s.read({ r in try r.cursor() }), c > 0 {
                progressed = true
            }
        }
        XCTAssertTrue(progressed)
        kill(p.processIdentifier, SIGTERM)
        let stop = Date().addingTimeInterval(10)
        while p.isRunning && Date() < stop { usleep(20_000) }
        XCTAssertFalse(p.isRunning, "SIGTERM must stop the daemon")
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "graceful shutdown exits 0")
        let resumed = try Env.run(Env.binary, ["run", "--config", victim.path, "--exit-when-caught-up", "--log-level", "error"])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        let store = try KeeperStore(directory: victim.dataDir.path, readOnly: true)
        XCTAssertEqual(try store.read { r in try r.canonicalDump() }, try reference.dump())
    }
}

/// SplitMix64 from KeeperTesting, seeded (the seed is printed by the tests that use it).
typealias SplitMix = SplitMix64
