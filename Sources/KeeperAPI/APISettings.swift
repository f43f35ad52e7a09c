// KeeperAPI — the stakers' public read API and the stakers' app (static files), served over Hummingbird 2 on their
// own listener. Owns: the `[api]` table, the HTTP surface (paths, errors, limits, caching, CORS, rate limit), the
// OpenAPI document. Reads the store (KeeperStore) only; never writes it, never signs, never reaches the chain.
import Foundation
import KeeperCore

/// `[api]`: the stakers' read API and app. Off unless the table is present.
public struct APISettings: ConfigSection, Equatable {
    /// The table's name.
    public static let name = "api"
    /// Its keys.
    public static let keys = ["listen", "allow_remote", "rate_limit_per_second", "explorer_url", "rpc_url", "web_root"]

    /// `host:port` (`listen`, default 127.0.0.1:8547); loopback only unless `allowRemote`.
    public var listen: String = "127.0.0.1:8547"
    /// Allow a non-loopback `listen` (`allow_remote`, default false).
    public var allowRemote: Bool = false
    /// Requests per second per client address before 429 (`rate_limit_per_second`, default 50).
    public var rateLimitPerSecond: UInt64 = 50
    /// A block explorer's base URL for transaction links (`explorer_url`, default none).
    public var explorerURL: String? = nil
    /// A public RPC URL the app may use for chain reads and `wallet_addEthereumChain` (`rpc_url`, default none:
    /// the app reads through the wallet). Never the keeper's own endpoints: those may carry credentials.
    public var rpcURL: String? = nil
    /// The folder served at `/` (`web_root`; default: `deploy/web` of the source tree the binary was built in, else
    /// `/usr/share/expansion-keeper/web`).
    public var webRoot: String? = nil

    /// The defaults.
    public init() {}

    /// Parses `[api]`.
    public static func parse(_ reader: inout ConfigSectionReader) -> APISettings? {
        var out = APISettings()
        let listener = reader.listener(default: out.listen, exposes: "the API")
        let rate = reader.uint("rate_limit_per_second", default: 50, range: 1...1_000_000)
        let explorer = reader.text("explorer_url", default: "")
        let rpc = reader.text("rpc_url", default: "")
        let webRoot = reader.text("web_root", default: "")
        for (key, value) in [("explorer_url", explorer), ("rpc_url", rpc)] {
            if let value, !value.isEmpty, !(value.hasPrefix("https://") || value.hasPrefix("http://")) || value.count < 10
                || value.contains(where: { $0 == "\"" || $0 == "<" || $0 == ">" || $0.isWhitespace }) {
                reader.issue(key, "expected an http(s) URL, got \"\(value)\"")
                return nil
            }
        }
        var root: String?
        if let webRoot, !webRoot.isEmpty {
            root = reader.resolve(webRoot)
            var isDir: ObjCBool = false
            if !FileManager.default.fileExists(atPath: root!, isDirectory: &isDir) || !isDir.boolValue {
                reader.issue("web_root", "\(root!): no such folder (the stakers' app, deploy/web in the source tree)")
                return nil
            }
        }
        guard let listener, let rate, let explorer, let rpc else { return nil }
        out.listen = listener.listen; out.allowRemote = listener.allowRemote; out.rateLimitPerSecond = rate
        out.explorerURL = explorer.isEmpty ? nil : String(explorer.reversed().drop { $0 == "/" }.reversed())
        out.rpcURL = rpc.isEmpty ? nil : rpc
        out.webRoot = root
        return out
    }

    /// The effective `[api]` table (a comment when absent: the API is off).
    public static func renderTOML(_ value: APISettings?) -> String {
        guard let a = value else { return "# [api] not set: the stakers' API and app are off\n" }
        return "[api]\nlisten = \"\(a.listen)\"\nallow_remote = \(a.allowRemote)\nrate_limit_per_second = \(a.rateLimitPerSecond)\n"
            + "explorer_url = \"\(a.explorerURL ?? "")\"\nrpc_url = \"\(a.rpcURL ?? "")\"\n"
            + "web_root = \(a.webRoot.map { "\"\($0)\"" } ?? "\"\" # default: \(APISettings.defaultWebRoot() ?? "none found")")\n"
    }

    /// The folder served when `web_root` is not set: `deploy/web` of the source tree this binary was built from (a
    /// development build), else the packaged `/usr/share/expansion-keeper/web`; nil when neither exists.
    public static func defaultWebRoot(sourceFile: String = #filePath) -> String? {
        let tree = URL(fileURLWithPath: sourceFile).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for candidate in [tree.appendingPathComponent("deploy/web").path, "/usr/share/expansion-keeper/web"] {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate + "/index.html", isDirectory: &isDir), !isDir.boolValue { return candidate }
        }
        return nil
    }
}

extension KeeperConfig {
    /// The `[api]` table; nil when the file does not configure the API (it is off).
    public var api: APISettings? { section(APISettings.self) }
}
