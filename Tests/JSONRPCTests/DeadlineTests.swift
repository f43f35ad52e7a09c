import EthereumCore
@testable import JSONRPC
import XCTest

/// A call's deadline (`RPCSettings.callDeadline`) against endpoints that never answer or answer HTML
/// (issue 17: a dead or lying RPC must fail within a bound, with the failure named).
final class DeadlineTests: XCTestCase {
    /// Accepts every request and never answers (until cancelled).
    final class Blackhole: HTTPTransport, @unchecked Sendable {
        let displayName = "http://blackhole:1"
        func post(_ body: [UInt8]) async throws -> HTTPResponse {
            try await Task.sleep(for: .seconds(3600))
            throw RPCError.cancelled
        }
        func shutdown() {}
    }

    /// Answers every request with an HTML page and status 200.
    final class HTMLPage: HTTPTransport, @unchecked Sendable {
        let displayName = "http://portal:2"
        func post(_ body: [UInt8]) async throws -> HTTPResponse {
            HTTPResponse(status: 200, body: Array("\n<!DOCTYPE html><html><body>Sign in</body></html>".utf8))
        }
        func shutdown() {}
    }

    func settings(deadline: Double, giveUp: Bool) -> RPCSettings {
        var s = RPCSettings()
        s.callDeadline = deadline
        s.giveUpAfterDeadline = giveUp
        s.retryBaseDelay = 0.05
        return s
    }

    func testABlackholedCallFailsAtItsDeadlineNamingTheEndpoint() async throws {
        let client = try RPCClient(transports: [Blackhole()], settings: settings(deadline: 0.5, giveUp: true))
        let start = ContinuousClock.now
        do {
            _ = try await client.blockNumber()
            XCTFail("expected an error")
        } catch {
            let elapsed = start.duration(to: .now)
            XCTAssertLessThan(elapsed, .seconds(2), "\(elapsed)")
            XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(450))
            XCTAssertTrue(error.description.contains("http://blackhole:1"), error.description)
            XCTAssertTrue(error.description.contains("no usable answer within 0.5 s"), error.description)
            XCTAssertFalse(error.isRetryable)
        }
        // giveUpAfterDeadline: the next call fails at once with the same error.
        let again = ContinuousClock.now
        do {
            _ = try await client.blockNumber()
            XCTFail("expected an error")
        } catch {
            XCTAssertLessThan(again.duration(to: .now), .milliseconds(100))
            XCTAssertTrue(error.description.contains("no usable answer"), error.description)
        }
    }

    func testWithoutGiveUpEachCallGetsItsOwnDeadline() async throws {
        let client = try RPCClient(transports: [Blackhole()], settings: settings(deadline: 0.3, giveUp: false))
        for _ in 0..<2 {
            let start = ContinuousClock.now
            do { _ = try await client.blockNumber(); XCTFail("expected an error") } catch {
                XCTAssertGreaterThanOrEqual(start.duration(to: .now), .milliseconds(250))
            }
        }
    }

    func testAnHTMLAnswerIsANamedErrorWithinTheDeadline() async throws {
        let client = try RPCClient(transports: [HTMLPage()], settings: settings(deadline: 1, giveUp: true))
        let start = ContinuousClock.now
        do {
            _ = try await client.chainID()
            XCTFail("expected an error")
        } catch {
            XCTAssertLessThan(start.duration(to: .now), .seconds(3))
            XCTAssertTrue(error.description.contains("answered HTML, not JSON-RPC"), error.description)
            XCTAssertTrue(error.description.contains("http://portal:2"), error.description)
        }
    }

    func testNoDeadlineByDefaultInLibraries() {
        XCTAssertNil(RPCSettings().callDeadline)
        XCTAssertFalse(RPCSettings().giveUpAfterDeadline)
    }
}
