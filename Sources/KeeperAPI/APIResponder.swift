import EthereumCore
import Foundation
import HTTPTypes
import Hummingbird
import KeeperCore
import KeeperStore
import NIOCore
import Synchronization

/// Every request of the API listener: validation first (nothing malformed reaches the store), then the store read,
/// then the caching and CORS headers. Never throws: every problem is an answer with a JSON error body.
final class APIResponder: HTTPResponder, Sendable {
    typealias Context = APIRequestContext

    static let allow = "GET, HEAD, OPTIONS"
    static let maxLimit = 500
    static let defaultLimit = 50

    let settings: APISettings
    let facts: APIFacts
    let store: KeeperStore
    let webRoot: String?
    let healthz: @Sendable () -> (ok: Bool, body: String)
    let proven: ProvenRouting?
    let limiter: RateLimiter
    /// Node lookups of the route endpoint: per client, and at most `maxRouteLookups` at once.
    let routeLimiter = RateLimiter(perSecond: 3)
    let routeLookups = Mutex(0)
    static let maxRouteLookups = 2
    let statsCache = Mutex<(key: String, body: String)?>(nil)

    init(settings: APISettings, facts: APIFacts, store: KeeperStore, webRoot: String?, proven: ProvenRouting? = nil,
         healthz: @escaping @Sendable () -> (ok: Bool, body: String)) {
        self.settings = settings; self.facts = facts; self.store = store; self.webRoot = webRoot; self.healthz = healthz
        self.proven = proven
        limiter = RateLimiter(perSecond: Int(settings.rateLimitPerSecond))
    }

    /// An API failure: its status, machine-readable code and words.
    struct Failure: Error {
        var status: HTTPResponse.Status
        var code: String
        var message: String
        var headers: HTTPFields = [:]
    }

    enum Route {
        case stats, staker(Address), contributions(Address), claimRoute(LogPosition), openapi, healthz, file(String)
    }

    func respond(to request: Request, context: APIRequestContext) async throws -> Response {
        do {
            return try await answer(request, context)
        } catch let f as Failure {
            return Self.error(f, head: request.method == .head)
        } catch {
            return Self.error(Failure(status: .serviceUnavailable, code: "store_unavailable",
                                      message: "the keeper's store could not be read: \("\(error)".split(separator: "\n").first ?? "")"),
                              head: request.method == .head)
        }
    }

    func answer(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let route = try Self.route(request.uri.path, webRoot: webRoot)
        switch request.method {
        case .get, .head: break
        case .options:
            var h = Self.cors
            h[.allow] = Self.allow
            h[HTTPField.Name("Access-Control-Max-Age")!] = "600"
            return Response(status: .noContent, headers: h)
        default:
            throw Failure(status: .methodNotAllowed, code: "method_not_allowed",
                          message: "\(request.method.rawValue.prefix(32)) is not allowed on \(request.uri.path.prefix(200)); the API is read-only (GET, HEAD)",
                          headers: [.allow: Self.allow])
        }
        if case .healthz = route {} else if !limiter.admit(context.client) {
            throw Failure(status: .tooManyRequests, code: "rate_limited",
                          message: "more than \(settings.rateLimitPerSecond) requests per second from \(context.client); retry after 1 s",
                          headers: [.retryAfter: "1"])
        }
        let query = try Self.query(request.uri.query)
        let head = request.method == .head
        switch route {
        case .healthz:
            let (ok, body) = healthz()
            return Self.body(body, type: "text/plain; charset=utf-8", status: ok ? .ok : .serviceUnavailable, cache: "no-store", request: request, head: head)
        case .openapi:
            try Self.allowOnly([], query)
            return Self.body(OpenAPIDocument.json, type: "application/json", cache: "public, max-age=300", request: request, head: head)
        case .stats:
            try Self.allowOnly([], query)
            return Self.body(try stats(), type: "application/json", cache: "public, max-age=2", request: request, head: head)
        case let .staker(address):
            try Self.allowOnly([], query)
            return Self.body(try staker(address), type: "application/json", cache: "public, max-age=2", request: request, head: head)
        case let .contributions(address):
            try Self.allowOnly(["limit", "cursor", "format"], query)
            let csv: Bool
            switch query["format"] {
            case nil, "json": csv = false
            case "csv": csv = true
            case let other?:
                throw Failure(status: .badRequest, code: "bad_format", message: "format must be json or csv, got \"\(other.prefix(40))\"")
            }
            if csv {
                if query["limit"] != nil || query["cursor"] != nil {
                    throw Failure(status: .badRequest, code: "bad_query", message: "format=csv returns every contribution: drop limit and cursor")
                }
                return Self.body(try contributionsCSV(address), type: "text/csv; charset=utf-8", cache: "public, max-age=2",
                                 request: request, head: head,
                                 extra: [.contentDisposition: "attachment; filename=\"contributions-\(address.checksummed).csv\""])
            }
            let limit = try Self.limit(query["limit"])
            let cursor = try query["cursor"].map(Self.cursor)
            return Self.body(try contributions(address, limit: limit, before: cursor), type: "application/json",
                             cache: "public, max-age=2", request: request, head: head)
        case let .claimRoute(claim):
            try Self.allowOnly([], query)
            return Self.body(try await claimRoute(claim, client: context.client), type: "application/json", cache: "public, max-age=10",
                             request: request, head: head)
        case let .file(path):
            try Self.allowOnly(["address"], query)
            return try file(path, request: request, head: head)
        }
    }

    // MARK: routing and validation

    static func route(_ rawPath: String, webRoot: String?) throws -> Route {
        if rawPath.utf8.count > 2048 {
            throw Failure(status: .uriTooLong, code: "uri_too_long", message: "the path exceeds 2048 bytes")
        }
        switch rawPath {
        case "/api/v1/stats": return .stats
        case "/api/v1/openapi.json": return .openapi
        case "/healthz": return .healthz
        default: break
        }
        if rawPath.hasPrefix("/api/") {
            let parts = rawPath.split(separator: "/", omittingEmptySubsequences: false)
            // ["", "api", "v1", "stakers", ADDRESS] or [..., ADDRESS, "contributions"]
            if parts.count >= 5, parts.count <= 6, parts[1] == "api", parts[2] == "v1", parts[3] == "stakers",
               parts.count == 5 || parts[5] == "contributions" {
                let address = try Self.address(String(parts[4]))
                return parts.count == 5 ? .staker(address) : .contributions(address)
            }
            // ["", "api", "v1", "claims", "BLOCK-LOG_INDEX", "route"]
            if parts.count == 6, parts[1] == "api", parts[2] == "v1", parts[3] == "claims", parts[5] == "route" {
                return .claimRoute(try Self.claim(String(parts[4])))
            }
            throw Failure(status: .notFound, code: "not_found",
                          message: "no such API path; see /api/v1/openapi.json for /api/v1/stats, /api/v1/stakers/{address}, "
                              + "/api/v1/stakers/{address}/contributions, /api/v1/claims/{claim}/route")
        }
        guard webRoot != nil else {
            throw Failure(status: .notFound, code: "not_found", message: "the stakers' app is not installed on this keeper (no web root)")
        }
        let file = rawPath == "/" ? "index.html" : String(rawPath.dropFirst())
        // Only plain file names of the app: letters, digits, '-', '_', '.', and one optional folder level; no '..'.
        let segments = file.split(separator: "/", omittingEmptySubsequences: false)
        let plain = !file.isEmpty && segments.count <= 2 && segments.allSatisfy { seg in
            !seg.isEmpty && !seg.hasPrefix(".") && seg.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
            }
        }
        guard plain else { throw Failure(status: .notFound, code: "not_found", message: "no such file") }
        return .file(file)
    }

    /// A claim in a path: BLOCK-LOG_INDEX (the log's index in its block), decimal.
    static func claim(_ text: String) throws -> LogPosition {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 20 && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
              let block = UInt64(parts[0]), let index = UInt32(parts[1]) else {
            throw Failure(status: .badRequest, code: "bad_claim",
                          message: "\"\(text.prefix(64))\" is not a claim: expected BLOCK-LOG_INDEX (decimal; the log's index in its block)")
        }
        return LogPosition(block: block, logIndex: index)
    }

    static func address(_ text: String) throws -> Address {
        let bad = Failure(status: .badRequest, code: "bad_address",
                          message: "\"\(text.prefix(64))\" is not an address: expected 0x and 40 hex digits")
        guard text.utf8.count == 42, text.hasPrefix("0x"),
              text.utf8.dropFirst(2).allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }),
              let a = try? Address(text) else { throw bad }
        // Mixed case must be the EIP-55 checksum (a typo in a checksummed address is caught, as wallets do).
        let body = text.dropFirst(2)
        if body.contains(where: { $0.isUppercase }) && body.contains(where: { $0.isLowercase }) && a.checksummed != text {
            throw Failure(status: .badRequest, code: "bad_address",
                          message: "\"\(text)\" fails its EIP-55 checksum (expected \(a.checksummed))")
        }
        return a
    }

    static func query(_ raw: String?) throws -> [String: String] {
        guard let raw, !raw.isEmpty else { return [:] }
        if raw.utf8.count > 1024 { throw Failure(status: .badRequest, code: "bad_query", message: "the query string exceeds 1024 bytes") }
        var out: [String: String] = [:]
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = String(kv[0]).removingPercentEncoding, let value = (kv.count > 1 ? String(kv[1]) : "").replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                throw Failure(status: .badRequest, code: "bad_query", message: "the query string is not valid percent-encoding")
            }
            if out[key] != nil { throw Failure(status: .badRequest, code: "bad_query", message: "\"\(key.prefix(40))\" is given twice") }
            out[key] = value
        }
        return out
    }

    static func allowOnly(_ keys: Set<String>, _ query: [String: String]) throws {
        if let bad = query.keys.sorted().first(where: { !keys.contains($0) }) {
            let allowed = keys.isEmpty ? "none" : keys.sorted().joined(separator: ", ")
            throw Failure(status: .badRequest, code: "bad_query", message: "unknown query parameter \"\(bad.prefix(40))\" (allowed: \(allowed))")
        }
    }

    static func limit(_ text: String?) throws -> Int {
        guard let text else { return defaultLimit }
        guard text.utf8.count <= 4, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(text), (1...maxLimit).contains(n) else {
            throw Failure(status: .badRequest, code: "bad_limit", message: "limit must be a whole number in 1...\(maxLimit), got \"\(text.prefix(40))\"")
        }
        return n
    }

    /// A page cursor: `<block>-<log index>` of the last item of the previous page (opaque to clients).
    static func cursor(_ text: String) throws -> LogPosition {
        let bad = Failure(status: .badRequest, code: "bad_cursor", message: "\"\(text.prefix(60))\" is not a cursor this API gave out")
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.count <= 20 && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
              let block = UInt64(parts[0]), let log = UInt32(parts[1]), block <= UInt64(Int64.max) else { throw bad }
        return LogPosition(block: block, logIndex: log)
    }

    // MARK: documents

    /// `/api/v1/stats`, cached until the store's tip moves.
    func stats() throws -> String {
        let (key, tip, totals): (String, UInt64?, TreasuryTotals?) = try store.read { r in
            let cursor = try r.cursor()
            let tip = try r.tip()
            let key = "\(cursor ?? 0)-\(tip.map { $0.hash.hexString } ?? "")"
            if let cached = statsCache.withLock({ $0 }), cached.key == key { return (key, nil, nil) }
            return (key, cursor.map { $0 == 0 ? 0 : $0 - 1 }, try r.treasuryTotals())
        }
        guard let totals else { return statsCache.withLock { $0?.body ?? "" } }
        var w = JSONWriter()
        w.openObject()
        w.field("chain_id", facts.chainID)
        w.field("treasury", facts.treasury.checksummed)
        w.field("reward_token", facts.rewardToken.checksummed)
        w.field("staking", facts.staking.checksummed)
        w.field("block", tip)
        w.field("stakers_registered", totals.stakersRegistered)
        w.field("total_contributed_wei", totals.contributed.decimalString)
        w.field("routes", totals.routes)
        w.field("skips", totals.skips)
        w.field("explorer_url", settings.explorerURL)
        w.field("rpc_url", settings.rpcURL)
        w.field("confirmations", facts.confirmations)
        w.field("treasury_kind", facts.treasuryKind)
        w.closeObject()
        let body = w.text
        statsCache.withLock { $0 = (key, body) }
        return body
    }

    /// `/api/v1/claims/{block}-{log_index}/route`: the route_proven transaction the staker (or anyone) can send. Only for
    /// a reward the keeper ingested (anything else is a 404 without a node request); the node lookups it costs are
    /// rate-limited per client and at most two at once (503 then), so the endpoint cannot be turned against the node.
    func claimRoute(_ claim: LogPosition, client: String) async throws -> String {
        guard let proven else {
            throw Failure(status: .notFound, code: "not_proven_treasury",
                          message: "this keeper routes through the ExpansionTreasury, where only the keeper may route; a claim cannot be routed by its staker")
        }
        guard try store.read({ r in try r.rewardEvent(at: claim) }) != nil else {
            throw Failure(status: .notFound, code: "no_such_claim",
                          message: "\(claim.block):\(claim.logIndex): the keeper knows no reward there (not a reward log of the staking contract, "
                              + "or not ingested yet: rewards are ingested \(facts.confirmations) blocks deep)")
        }
        guard routeLimiter.admit(client) else {
            throw Failure(status: .tooManyRequests, code: "rate_limited",
                          message: "more than \(routeLimiter.perSecond) route requests per second from \(client); retry after 1 s",
                          headers: [.retryAfter: "1"])
        }
        guard routeLookups.withLock({ n in n < Self.maxRouteLookups ? { n += 1; return true }() : false }) else {
            throw Failure(status: .serviceUnavailable, code: "busy", message: "other route requests are reading the chain; retry after 1 s",
                          headers: [.retryAfter: "1"])
        }
        defer { routeLookups.withLock { $0 -= 1 } }
        do {
            let (call, located) = try await ProvenRouteCall.forClaims([(claim.block, claim.logIndex)], reward: proven.reward,
                                                                     source: proven.staking, chain: proven.chain)
            return JSONOut.renderLine(["to": facts.treasury.checksummed, "data": Hex.encode(try call.calldata()),
                                       "claims": located.map(\.json)])
        } catch let refused as ProvenRouteCall.ClaimRefused {
            throw Failure(status: .notFound, code: "no_such_claim", message: refused.description)
        } catch {
            throw Failure(status: .badGateway, code: "chain_unavailable",
                          message: "the keeper's node did not serve block \(claim.block): \("\(error)".split(separator: "\n").first ?? "")")
        }
    }

    func staker(_ address: Address) throws -> String {
        let (s, waiting) = try store.read { r in
            (try r.stakerSummary(address), try r.intents(states: [.pending, .sent, .policySkipped], staker: address))
        }
        var w = JSONWriter()
        w.openObject()
        w.field("address", address.checksummed)
        w.field("registered", s.registered)
        w.field("share_bps", s.shareBps)
        w.field("since_block", s.sinceBlock)
        w.field("contributed_wei", s.contributed.decimalString)
        w.field("routes", s.routes)
        w.field("skips", s.skips)
        w.field("pending", s.pending)
        // The claims still to be routed (oldest first, at most 100): with the proven treasury, each one the staker may
        // route themselves (/api/v1/claims/{claim}/route). Held = the keeper will not send it now (the reason says why).
        w.key("waiting")
        w.openArray()
        for i in waiting.filter({ $0.state != .policySkipped || ($0.reason ?? "").hasPrefix("simulation:") || ($0.reason ?? "").hasPrefix("UNVERIFIABLE") })
            .sorted(by: { $0.claim < $1.claim }).prefix(100) {
            w.openObject()
            w.field("claim_block", i.claim.block)
            w.field("claim_log_index", UInt64(i.claim.logIndex))
            w.field("claim_block_hash", i.blockHash.hexString)
            w.field("reward_wei", i.amount.decimalString)
            w.field("expected_wei", i.expected.decimalString)
            w.field("state", i.state == .policySkipped ? "held" : i.state.rawValue)
            w.field("reason", i.state == .policySkipped ? i.reason : nil)
            w.closeObject()
        }
        w.closeArray()
        w.closeObject()
        return w.text
    }

    func contributions(_ address: Address, limit: Int, before: LogPosition?) throws -> String {
        // One more than asked tells whether another page exists.
        let rows = try store.read { try $0.contributions(of: address, before: before, limit: limit + 1) }
        let page = rows.prefix(limit)
        var w = JSONWriter()
        w.openObject()
        w.key("items")
        w.openArray()
        for c in page { Self.item(c, into: &w) }
        w.closeArray()
        let next = rows.count > limit ? page.last.map { "\($0.event.position.block)-\($0.event.position.logIndex)" } : nil
        w.field("next_cursor", next)
        w.closeObject()
        return w.text
    }

    static let csvHeader = "kind,claim_block,claim_log_index,claim_block_hash,reward_wei,contributed_wei,share_bps,tx_hash,block,reason"

    func contributionsCSV(_ address: Address) throws -> String {
        let rows = try store.read { try $0.contributions(of: address, before: nil, limit: Int.max) }
        var out = Self.csvHeader + "\r\n"
        for c in rows {
            let f = Self.fields(c)
            let reason = f.reason.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" } ?? ""
            let line: String = "\(f.kind),\(c.event.claim.block),\(c.event.claim.logIndex),\(f.claimHash ?? ""),\(f.reward),"
                + "\(f.contributed),\(f.share),\(c.event.txHash.hexString),\(c.event.position.block),\(reason)\r\n"
            out += line
        }
        return out
    }

    static func fields(_ c: Contribution) -> (kind: String, claimHash: String?, reward: String, contributed: String, share: UInt16,
                                              reason: String?, reasonCode: String?) {
        let claimHash = c.event.claimBlockHash.map { $0.hexString }
        switch c.event.outcome {
        case let .routed(reward, contributed, share):
            return ("routed", claimHash, reward.decimalString, contributed.decimalString, share, nil, nil)
        case let .skipped(reason):
            return ("skipped", claimHash, (c.reward ?? .zero).decimalString, "0", c.shareBps ?? 0,
                    SkipWords.words(reason), Bindings.reasonName(reason))
        }
    }

    static func item(_ c: Contribution, into w: inout JSONWriter) {
        let f = fields(c)
        w.openObject()
        w.field("kind", f.kind)
        w.field("claim_block", c.event.claim.block)
        w.field("claim_log_index", c.event.claim.logIndex)
        w.field("claim_block_hash", f.claimHash)
        w.field("reward_wei", f.reward)
        w.field("contributed_wei", f.contributed)
        w.field("share_bps", f.share)
        w.field("tx_hash", c.event.txHash.hexString)
        w.field("block", c.event.position.block)
        w.field("log_index", c.event.position.logIndex)
        w.field("reason", f.reason)
        w.field("reason_code", f.reasonCode)
        w.closeObject()
    }

    // MARK: static files

    static let types: [String: String] = [
        "html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
        "json": "application/json", "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon",
        "webmanifest": "application/manifest+json", "txt": "text/plain; charset=utf-8",
    ]

    func file(_ name: String, request: Request, head: Bool) throws -> Response {
        guard let webRoot else { throw Failure(status: .notFound, code: "not_found", message: "no such file") }
        let ext = (name as NSString).pathExtension.lowercased()
        let path = (webRoot as NSString).appendingPathComponent(name)
        guard let type = Self.types[ext], let data = FileManager.default.contents(atPath: path) else {
            throw Failure(status: .notFound, code: "not_found", message: "no such file: /\(name)")
        }
        var extra: HTTPFields = [
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
        if ext == "html" {
            // Nothing from another origin: scripts, styles, images and fonts from this origin only; connections to this
            // origin, the configured public RPC and (for the wallet's own requests) nothing else.
            let rpc = settings.rpcURL.flatMap { URL(string: $0) }.map { u in "\(u.scheme ?? "https")://\(u.host ?? "")\(u.port.map { ":\($0)" } ?? "")" }
            extra[HTTPField.Name("Content-Security-Policy")!] = "default-src 'self'; img-src 'self' data:; connect-src 'self'\(rpc.map { " " + $0 } ?? ""); "
                + "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        }
        return Self.body(data, type: type, cache: "no-cache", request: request, head: head, extra: extra)
    }

    // MARK: responses

    static let cors: HTTPFields = [
        HTTPField.Name("Access-Control-Allow-Origin")!: "*",
        HTTPField.Name("Access-Control-Allow-Methods")!: allow,
        HTTPField.Name("Access-Control-Allow-Headers")!: "If-None-Match, Content-Type",
        HTTPField.Name("Access-Control-Expose-Headers")!: "ETag, Retry-After",
    ]

    static func body(_ text: String, type: String, status: HTTPResponse.Status = .ok, cache: String, request: Request, head: Bool,
                     extra: HTTPFields = [:]) -> Response {
        body(Data(text.utf8), type: type, status: status, cache: cache, request: request, head: head, extra: extra)
    }

    static func body(_ data: Data, type: String, status: HTTPResponse.Status = .ok, cache: String, request: Request, head: Bool,
                     extra: HTTPFields = [:]) -> Response {
        var h = cors
        h[.contentType] = type
        h[.cacheControl] = cache
        let etag = "\"" + String(fnv1a(data), radix: 16) + "\""
        h[.eTag] = etag
        for f in extra { h.append(f) }
        if status == .ok, let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag || $0.trimmingCharacters(in: .whitespaces) == "*" }) {
            return Response(status: .notModified, headers: h)
        }
        h[.contentLength] = String(data.count)
        if head { return Response(status: status, headers: h) }
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ f: Failure, head: Bool) -> Response {
        var w = JSONWriter()
        w.openObject()
        w.key("error")
        w.openObject()
        w.field("code", f.code)
        w.field("message", f.message)
        w.closeObject()
        w.closeObject()
        var h = cors
        h[.contentType] = "application/json"
        h[.cacheControl] = "no-store"
        for field in f.headers { h.append(field) }
        let data = Data(w.text.utf8)
        h[.contentLength] = String(data.count)
        if head { return Response(status: f.status, headers: h) }
        return Response(status: f.status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func fnv1a(_ data: Data) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in data { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}

/// Skip reasons in words, for stakers (the codes are in deploy/contracts/README.md).
enum SkipWords {
    static let words: [UInt8: String] = [
        1: "not opted in when the reward was paid",
        2: "the reward was paid before the opt-in took effect (the share applies from the block after opting in)",
        3: "this reward was already routed",
        4: "the claim is dated in the routing block or later",
        5: "the reward's block is no longer part of the chain (a reorganisation); nothing was taken",
        6: "the share of this reward rounds down to 0 wei",
        7: "the allowance to the treasury was below the contribution; nothing was taken",
        8: "the VVV balance was below the contribution; nothing was taken",
        9: "the token transfer failed; nothing was taken",
        10: "the amounts are too large to route",
    ]

    static func words(_ code: UInt8) -> String { words[code] ?? "skipped by the treasury (reason code \(code))" }
}

/// A token bucket per client address: `perSecond` requests per second, bursts up to the same number.
final class RateLimiter: Sendable {
    let perSecond: Int
    let buckets = Mutex<[String: (tokens: Double, at: ContinuousClock.Instant)]>([:])

    init(perSecond: Int) { self.perSecond = perSecond }

    func admit(_ client: String) -> Bool {
        let now = ContinuousClock.now
        return buckets.withLock { b in
            if b.count > 10_000 { b = b.filter { now - $0.value.at < .seconds(10) } }
            var entry = b[client] ?? (Double(perSecond), now)
            let elapsed = now - entry.at
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            entry.tokens = min(Double(perSecond), entry.tokens + seconds * Double(perSecond))
            entry.at = now
            guard entry.tokens >= 1 else { b[client] = entry; return false }
            entry.tokens -= 1
            b[client] = entry
            return true
        }
    }
}
