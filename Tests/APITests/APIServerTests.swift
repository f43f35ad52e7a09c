import EthereumCore
import Foundation
import KeeperAPI
import KeeperCore
import KeeperStore
import Logging
import ServiceLifecycle
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The stakers' API over a real SQLite store and a real listener, spoken to over raw TCP (so hostile requests reach
/// the server exactly as sent): the documents equal what the store holds, pages return every item exactly once,
/// CSV equals JSON, and every kind of bad input is a 4xx with a JSON error — never a 5xx or a dropped connection.
final class APIServerTests: XCTestCase {
    static let a = try! Address("0x00000000000000000000000000000000000000a1")
    static let b = try! Address("0x00000000000000000000000000000000000000b2")
    static let routedCount = 120

    struct Rig {
        let dir: URL
        let store: KeeperStore
        let group: ServiceGroup
        let task: Task<Void, Error>
        let port: Int
    }

    func hash(_ n: UInt64, _ salt: UInt8) -> Bytes32 {
        var bytes = [UInt8](repeating: salt, count: 24)
        withUnsafeBytes(of: n.bigEndian) { bytes += $0 }
        return try! Bytes32(bytes)
    }

    /// A store with staker A (25 %, 120 routes and 5 skips, 2 pending claims) and staker B (opted out, nothing routed).
    func seed(_ store: KeeperStore) throws {
        try store.write { w in
            try w.putStaker(StakerRegistration(staker: Self.a, registered: true, shareBps: 2500, sinceBlock: 10))
            try w.putStaker(StakerRegistration(staker: Self.b, registered: false, shareBps: 0, sinceBlock: 0))
            for i in 0..<UInt64(Self.routedCount + 5) {
                let claim = LogPosition(block: 100 + i, logIndex: UInt32(i % 3))
                let reward = UInt256(UInt64(1_000_000 + i))
                try w.insert(RewardEvent(position: claim, blockHash: hash(claim.block, 1), txHash: hash(claim.block, 2), staker: Self.a, amount: reward))
                let outcome: TreasuryEvent.Outcome = i < UInt64(Self.routedCount)
                    ? .routed(reward: reward, contributed: UInt256(UInt64((1_000_000 + i) / 4)), shareBps: 2500)
                    : .skipped(reason: i == UInt64(Self.routedCount) ? 5 : 7)
                let claimHash: Bytes32? = i == UInt64(Self.routedCount) ? nil : hash(claim.block, 1)
                try w.insert(TreasuryEvent(position: LogPosition(block: 101 + i, logIndex: 4), blockHash: hash(101 + i, 3),
                                           txHash: hash(101 + i, 4), staker: Self.a, claim: claim, claimBlockHash: claimHash, outcome: outcome))
            }
            for i in 0..<UInt64(2) {
                let claim = LogPosition(block: 400 + i, logIndex: 0)
                try w.put(RouteIntent(claim: claim, staker: Self.a, blockHash: hash(claim.block, 1), amount: UInt256(UInt64(8)), shareBps: 2500,
                                      expected: UInt256(UInt64(2)), state: .pending))
            }
            try w.putBlock(402, hash: hash(402, 1))
            try w.setCursor(403)
        }
    }

    func start(rate: UInt64 = 1_000_000, headDeadline: Double = 10, web: Bool = true) async throws -> Rig {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try KeeperStore(directory: dir.appendingPathComponent("data").path)
        try seed(store)
        let webRoot = dir.appendingPathComponent("web")
        try FileManager.default.createDirectory(at: webRoot, withIntermediateDirectories: true)
        try "<!doctype html><html><title>app</title></html>".write(to: webRoot.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        try "body{}".write(to: webRoot.appendingPathComponent("app.css"), atomically: true, encoding: .utf8)
        try "secret".write(to: dir.appendingPathComponent("secret.txt"), atomically: true, encoding: .utf8)
        var settings = APISettings()
        settings.listen = "127.0.0.1:0"
        settings.rateLimitPerSecond = rate
        settings.explorerURL = "https://explorer.example"
        var limits = APIServer.Limits()
        limits.headDeadline = .milliseconds(Int64(headDeadline * 1000))
        let facts = APIFacts(chainID: 1337, treasury: Self.b, rewardToken: Self.a, staking: Self.b, confirmations: 2)
        let server = APIServer(settings: settings, facts: facts, store: store, webRoot: web ? webRoot.path : nil, limits: limits,
                               logger: Logger(label: "api-test")) { (true, "alive\n") }
        let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "api-test")))
        let task = Task { try await group.run() }
        for _ in 0..<500 {
            if let port = server.port { return Rig(dir: dir, store: store, group: group, task: task, port: port) }
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTFail("the API did not start listening")
        throw CancellationError()
    }

    func stop(_ rig: Rig) async {
        await rig.group.triggerGracefulShutdown()
        _ = try? await rig.task.value
        try? FileManager.default.removeItem(at: rig.dir)
    }

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    /// Sends `request` as given on a new connection and reads until the server closes it (or `timeout`).
    func raw(_ port: Int, _ request: [UInt8], timeout: Double = 5, pauseAfter: Int? = nil, pause: Double = 0) throws -> Answer {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        XCTAssertEqual(rc, 0, "connect")
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let first = pauseAfter.map { min($0, request.count) } ?? request.count
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, first, Int32(MSG_NOSIGNAL)) }
        if first < request.count {
            Thread.sleep(forTimeInterval: pause)
            _ = request[first...].withUnsafeBytes { send(fd, $0.baseAddress, request.count - first, Int32(MSG_NOSIGNAL)) }
        }
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        let text = String(decoding: out, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return Answer(status: 0, headers: [:], body: text) }
        let lines = text[..<split.lowerBound].split(separator: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        var headers: [String: String] = [:]
        for l in lines.dropFirst() {
            if let c = l.firstIndex(of: ":") { headers[l[..<c].lowercased()] = l[l.index(after: c)...].trimmingCharacters(in: .whitespaces) }
        }
        return Answer(status: status, headers: headers, body: String(text[split.upperBound...]))
    }

    func get(_ port: Int, _ path: String, method: String = "GET", headers: [String] = []) throws -> Answer {
        let head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n"
        return try raw(port, Array(head.utf8))
    }

    func assertError(_ a: Answer, _ status: Int, _ code: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.status, status, a.body, file: file, line: line)
        let err = a.json["error"] as? [String: Any]
        XCTAssertNotNil(err?["message"] as? String, "JSON error body: \(a.body)", file: file, line: line)
        if let code { XCTAssertEqual(err?["code"] as? String, code, a.body, file: file, line: line) }
    }

    func testDocumentsEqualTheStore() async throws {
        let rig = try await start()
        let port = rig.port
        let stats = try get(port, "/api/v1/stats")
        XCTAssertEqual(stats.status, 200, stats.body)
        XCTAssertEqual(stats.headers["access-control-allow-origin"], "*")
        XCTAssertNotNil(stats.headers["etag"])
        XCTAssertNotNil(stats.headers["cache-control"])
        let s = stats.json
        let expected = (0..<UInt64(Self.routedCount)).reduce(UInt64(0)) { $0 + (1_000_000 + $1) / 4 }
        XCTAssertEqual(s["total_contributed_wei"] as? String, "\(expected)")
        XCTAssertEqual(s["routes"] as? Int, Self.routedCount)
        XCTAssertEqual(s["skips"] as? Int, 5)
        XCTAssertEqual(s["stakers_registered"] as? Int, 1)
        XCTAssertEqual(s["block"] as? Int, 402)
        XCTAssertEqual(s["chain_id"] as? Int, 1337)
        XCTAssertEqual(s["reward_token"] as? String, Self.a.checksummed)
        XCTAssertEqual(s["explorer_url"] as? String, "https://explorer.example")
        XCTAssertTrue(s["rpc_url"] is NSNull)

        let a = try get(port, "/api/v1/stakers/\(Self.a.checksummed.lowercased())").json
        XCTAssertEqual(a["address"] as? String, Self.a.checksummed)
        XCTAssertEqual(a["registered"] as? Bool, true)
        XCTAssertEqual(a["share_bps"] as? Int, 2500)
        XCTAssertEqual(a["since_block"] as? Int, 10)
        XCTAssertEqual(a["contributed_wei"] as? String, "\(expected)")
        XCTAssertEqual(a["routes"] as? Int, Self.routedCount)
        XCTAssertEqual(a["skips"] as? Int, 5)
        XCTAssertEqual(a["pending"] as? Int, 2)
        let b = try get(port, "/api/v1/stakers/\(Self.b.checksummed)").json
        XCTAssertEqual(b["registered"] as? Bool, false)
        XCTAssertTrue(b["since_block"] is NSNull, "\(b)")
        XCTAssertEqual(b["contributed_wei"] as? String, "0")
        let unknown = try get(port, "/api/v1/stakers/0x\(String(repeating: "0", count: 39))7").json
        XCTAssertEqual(unknown["registered"] as? Bool, false)
        XCTAssertEqual(unknown["routes"] as? Int, 0)

        // Pages of 7: every item exactly once, newest first; then the CSV has the same rows.
        var seen: [String] = []
        var items: [[String: Any]] = []
        var cursor: String? = nil
        repeat {
            let page = try get(port, "/api/v1/stakers/\(Self.a.checksummed)/contributions?limit=7" + (cursor.map { "&cursor=\($0)" } ?? "")).json
            let got = page["items"] as? [[String: Any]] ?? []
            XCTAssertLessThanOrEqual(got.count, 7)
            items += got
            seen += got.map { "\($0["block"] as? Int ?? -1)-\($0["log_index"] as? Int ?? -1)" }
            cursor = page["next_cursor"] as? String
        } while cursor != nil
        XCTAssertEqual(seen.count, Self.routedCount + 5)
        XCTAssertEqual(Set(seen).count, seen.count, "no item twice")
        let blocks = items.compactMap { $0["block"] as? Int }
        XCTAssertEqual(blocks, blocks.sorted(by: >), "newest first")
        let orphaned = items.first { $0["reason_code"] as? String == "ORPHANED" }
        XCTAssertTrue(orphaned?["claim_block_hash"] is NSNull, "\(String(describing: orphaned))")
        let noAllowance = items.first { $0["reason_code"] as? String == "NO_ALLOWANCE" }
        XCTAssertEqual(noAllowance?["kind"] as? String, "skipped")
        XCTAssertEqual(noAllowance?["contributed_wei"] as? String, "0")
        XCTAssertTrue((noAllowance?["reason"] as? String ?? "").contains("allowance"), "\(String(describing: noAllowance))")
        XCTAssertEqual(noAllowance?["reward_wei"] as? String, "\(1_000_000 + Self.routedCount + 4)", "a skip shows the reward it cites")
        let routed = items.last
        XCTAssertEqual(routed?["kind"] as? String, "routed")
        XCTAssertTrue(routed?["reason"] is NSNull)
        XCTAssertEqual(routed?["claim_block"] as? Int, 100)
        XCTAssertEqual(routed?["reward_wei"] as? String, "1000000")
        XCTAssertEqual(routed?["contributed_wei"] as? String, "250000")

        let csv = try get(port, "/api/v1/stakers/\(Self.a.checksummed)/contributions?format=csv")
        XCTAssertEqual(csv.status, 200)
        XCTAssertTrue(csv.headers["content-type"]?.hasPrefix("text/csv") == true)
        let rows = csv.body.split(separator: "\r\n")
        XCTAssertEqual(rows.first.map(String.init), "kind,claim_block,claim_log_index,claim_block_hash,reward_wei,contributed_wei,share_bps,tx_hash,block,reason")
        XCTAssertEqual(rows.count - 1, items.count)
        for (row, item) in zip(rows.dropFirst(), items) {
            let cols = row.split(separator: ",", maxSplits: 9, omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(cols[0], item["kind"] as? String)
            XCTAssertEqual(cols[1], "\(item["claim_block"] as? Int ?? -1)")
            XCTAssertEqual(cols[4], item["reward_wei"] as? String)
            XCTAssertEqual(cols[5], item["contributed_wei"] as? String)
            XCTAssertEqual(cols[7], item["tx_hash"] as? String)
        }

        let doc = try get(port, "/api/v1/openapi.json").json
        XCTAssertEqual(doc["openapi"] as? String, "3.1.0")
        XCTAssertNotNil((doc["paths"] as? [String: Any])?["/api/v1/stakers/{address}/contributions"])

        // Caching: the same ETag back is 304; HEAD has the headers and no body.
        let etag = stats.headers["etag"] ?? ""
        XCTAssertEqual(try get(port, "/api/v1/stats", headers: ["If-None-Match: \(etag)"]).status, 304)
        let head = try get(port, "/api/v1/stats", method: "HEAD")
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.body, "")
        let options = try get(port, "/api/v1/stats", method: "OPTIONS")
        XCTAssertEqual(options.status, 204)
        XCTAssertEqual(options.headers["access-control-allow-methods"], "GET, HEAD, OPTIONS")

        // The app's files, with a same-origin content security policy; nothing outside the web root.
        let index = try get(port, "/")
        XCTAssertEqual(index.status, 200)
        XCTAssertTrue(index.body.contains("<title>app</title>"))
        XCTAssertTrue(index.headers["content-security-policy"]?.contains("default-src 'self'") == true)
        XCTAssertEqual(try get(port, "/app.css").headers["content-type"], "text/css; charset=utf-8")
        XCTAssertEqual(try get(port, "/?address=0x00000000000000000000000000000000000000a1").status, 200)
        XCTAssertEqual(try get(port, "/healthz").status, 200)
        await stop(rig)
    }

    func testBadInputIsA4xxWithAJSONErrorNeverA5xx() async throws {
        let rig = try await start(headDeadline: 0.5)
        let port = rig.port
        let a = Self.a.checksummed
        assertError(try get(port, "/api/v1/stakers/0x1234"), 400, "bad_address")
        assertError(try get(port, "/api/v1/stakers/0x\(String(repeating: "g", count: 40))"), 400, "bad_address")
        assertError(try get(port, "/api/v1/stakers/0x52908400098527886E0F7030069857D2E4169ee8"), 400, "bad_address")  // mixed case, wrong checksum
        assertError(try get(port, "/api/v1/stakers/%E2%82%AC%E2%82%AC"), 400, "bad_address")
        assertError(try get(port, "/api/v1/stakers/\(a)/contributions?limit=0"), 400, "bad_limit")
        assertError(try get(port, "/api/v1/stakers/\(a)/contributions?limit=501"), 400, "bad_limit")
        assertError(try get(port, "/api/v1/stakers/\(a)/contributions?limit=-1"), 400, "bad_limit")
        assertError(try get(port, "/api/v1/stakers/\(a)/contributions?limit=1e3"), 400, "bad_limit")
        assertError(try get(port, "/api/v1/stakers/\(a)/contributions?cursor=abc"), 400, "bad_cursor")
        assertError(try get(port, "/api/v1/stakers/\(a)/contributions?cursor=1-99999999999"), 400, "bad_cursor")
        assertError(try get(port, "/api/v1/stakers/\(a)/contributions?cursor=%00"), 400, "bad_cursor")
        assertError(try get(port, "/api/v1/stakers/\(a)/contributions?format=xml"), 400, "bad_format")
        assertError(try get(port, "/api/v1/stakers/\(a)/contributions?limt=5"), 400, "bad_query")
        assertError(try get(port, "/api/v1/stakers/\(a)/contributions?limit=5&limit=6"), 400, "bad_query")
        assertError(try get(port, "/api/v1/stakers/\(a)/contributions?limit=%ZZ"), 400, "bad_query")
        assertError(try get(port, "/api/v1/stats?x=" + String(repeating: "y", count: 2000)), 400, "bad_query")
        assertError(try get(port, "/api/v1/nothing"), 404, "not_found")
        assertError(try get(port, "/api/v1/stakers/\(a)/contributions/extra"), 404, "not_found")
        assertError(try get(port, "/api/v1/stakers/\(a)/../../../etc/passwd"), 404)
        assertError(try get(port, "/../secret.txt"), 404)
        assertError(try get(port, "/%2e%2e/secret.txt"), 404)
        assertError(try get(port, "/.hidden"), 404)
        assertError(try get(port, "/index.html%00.png"), 404)
        assertError(try get(port, "/caf%C3%A9.html"), 404)
        for method in ["POST", "PUT", "DELETE", "PATCH", "QUERY", "PROPFIND"] {
            let r = try get(port, "/api/v1/stats", method: method)
            assertError(r, 405, "method_not_allowed")
            XCTAssertEqual(r.headers["allow"], "GET, HEAD, OPTIONS", method)
        }
        assertError(try raw(port, Array("GET /api/v1/stakers/caf\u{e9} HTTP/1.1\r\nHost: x\r\n\r\n".utf8)), 400, "bad_request_line")
        assertError(try raw(port, [UInt8]("GET /api/v1/st".utf8) + [0] + [UInt8]("ats HTTP/1.1\r\nHost: x\r\n\r\n".utf8)), 400, "bad_request_line")
        let brew = try get(port, "/api/v1/stats", method: "BREW")
        assertError(brew, 405, "method_not_allowed")
        XCTAssertEqual(brew.headers["allow"], "GET, HEAD, OPTIONS")

        // An overlong request line is answered 414, oversized headers 431 — answers, not dropped connections.
        assertError(try get(port, "/api/v1/stats?" + String(repeating: "a", count: 10_000)), 414, "uri_too_long")
        assertError(try get(port, "/api/v1/stats", headers: (0..<40).map { "X-Pad-\($0): " + String(repeating: "b", count: 500) }), 431, "headers_too_large")
        // A head that trickles in slower than the deadline is answered 408 and closed.
        let slow = try raw(port, Array("GET /api/v1/stats HTTP/1.1\r\nHost: x\r\n\r\n".utf8), pauseAfter: 10, pause: 1.2)
        assertError(slow, 408, "request_timeout")
        // And the server still answers.
        XCTAssertEqual(try get(port, "/api/v1/stats").status, 200)
        await stop(rig)
    }

    func testRateLimitAnswers429WithRetryAfter() async throws {
        let rig = try await start(rate: 5)
        var statuses: [Int] = []
        var retry: String?
        for _ in 0..<12 {
            let r = try get(rig.port, "/api/v1/stats")
            statuses.append(r.status)
            if r.status == 429 { retry = r.headers["retry-after"]; assertError(r, 429, "rate_limited") }
        }
        XCTAssertTrue(statuses.contains(429), "\(statuses)")
        XCTAssertEqual(statuses.prefix(5), [200, 200, 200, 200, 200])
        XCTAssertEqual(retry, "1")
        XCTAssertEqual(try get(rig.port, "/healthz").status, 200, "the health check is not rate limited")
        await stop(rig)
    }

    func testConfigSection() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("api-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let abi = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ABI/MockVeniceStaking.json").path
        func config(_ api: String) -> String {
            """
            [chain]
            rpc_urls = ["http://127.0.0.1:1"]
            chain_id = 1337
            [contracts]
            staking = "0x00000000000000000000000000000000000000A1"
            staking_abi = "\(abi)"
            treasury = "0x00000000000000000000000000000000000000b2"
            [keeper]
            data_dir = "data"
            dry_run = true
            \(api)
            """
        }
        func load(_ text: String, env: [String: String] = [:]) throws -> KeeperConfig {
            try KeeperConfig.parse(text, path: dir.appendingPathComponent("k.toml").path, environment: env, checkKeys: false,
                                   sections: [APISettings.self])
        }
        _ = config
        XCTAssertNil(try load(config("")).api, "no [api]: the API is off")
        let on = try load(config("[api]\nrate_limit_per_second = 7\nexplorer_url = \"https://scan.example/\""))
        XCTAssertEqual(on.api?.listen, "127.0.0.1:8547")
        XCTAssertEqual(on.api?.rateLimitPerSecond, 7)
        XCTAssertEqual(on.api?.explorerURL, "https://scan.example", "a trailing slash is dropped")
        XCTAssertTrue(on.renderTOML().contains("[api]\nlisten = \"127.0.0.1:8547\""), on.renderTOML())
        XCTAssertEqual(try load(config(""), env: ["EXPANSION_KEEPER_API_LISTEN": "127.0.0.1:9000"]).api?.listen, "127.0.0.1:9000",
                       "an environment override turns the API on")
        // The tool's own variables stay out of the override check with [api] composed (RPC is two edits from API).
        XCTAssertNil(try load(config(""), env: ["EXPANSION_KEEPER_RPC_TIMEOUT": "5", "EXPANSION_KEEPER_PYTHON": "/x"]).api)
        XCTAssertThrowsError(try load(config(""), env: ["EXPANSION_KEEPER_APIS_LISTEN": "127.0.0.1:1"]), "a misspelt section is named") { error in
            guard case let EngineError.config(issues) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(issues.contains { $0.message.contains("did you mean API") }, "\(issues)")
        }
        for (bad, key) in [("listen = \"0.0.0.0:8547\"", "api.listen"), ("rate_limit_per_second = 0", "api.rate_limit_per_second"),
                           ("explorer_url = \"javascript:alert(1)\"", "api.explorer_url"), ("web_root = \"/nonexistent\"", "api.web_root"),
                           ("lisen = \"x\"", "api.lisen")] {
            XCTAssertThrowsError(try load(config("[api]\n" + bad)), bad) { error in
                guard case let EngineError.config(issues) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(issues.contains { $0.key.hasPrefix(key) }, "\(bad): \(issues)")
            }
        }
        // A table of a module the caller did not compose is an unknown section, as before the split.
        XCTAssertThrowsError(try KeeperConfig.parse(config("[api]"), path: dir.appendingPathComponent("k.toml").path, checkKeys: false)) { error in
            guard case let EngineError.config(issues) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(issues.contains { $0.key == "api" && $0.message.contains("unknown section") }, "\(issues)")
        }
    }
}
