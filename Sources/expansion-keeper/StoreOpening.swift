import Foundation
import KeeperCore
import KeeperStore

/// Opens the store `[store]` names: `data_dir/keeper.sqlite` (default) or the PostgreSQL database of `postgres_url`,
/// with the password from EXPANSION_KEEPER_PG_PASSWORD or the systemd credential `pg-password` (never the file).
enum StoreOpening {
    /// The PostgreSQL password: the environment variable, else `$CREDENTIALS_DIRECTORY/pg-password`, else none.
    static func pgPassword() throws -> String? {
        let env = ProcessInfo.processInfo.environment
        if let p = env[KeeperConfig.pgPasswordVariable], !p.isEmpty { return p }
        if let dir = env["CREDENTIALS_DIRECTORY"] {
            let path = (dir as NSString).appendingPathComponent(KeeperConfig.pgCredentialName)
            if FileManager.default.fileExists(atPath: path) {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw CLIError("store: the systemd credential \(KeeperConfig.pgCredentialName) (\(path)) is not readable UTF-8 text")
                }
                return text.trimmingCharacters(in: .newlines)
            }
        }
        return nil
    }

    /// The PostgreSQL settings of `config` (HA: sessions bounded by the lease, see PostgresSettings).
    static func postgresSettings(_ config: KeeperConfig) throws -> PostgresSettings {
        guard let url = config.store.postgresURL else { throw CLIError("store.postgres_url: missing (required with store.backend = \"postgres\")") }
        var settings = try reporting { try PostgresSettings(url: url, password: try pgPassword()) }
        settings.applicationName = config.ha.enabled ? "expansion-keeper \(config.ha.instance)" : "expansion-keeper"
        if config.ha.enabled {
            let ms = Int(config.ha.leaseSeconds) * 1000
            settings.lockTimeoutMs = ms
            settings.idleInTransactionTimeoutMs = ms
        }
        return settings
    }

    /// Opens (creating or migrating unless `readOnly`) the configured store.
    static func open(_ config: KeeperConfig, readOnly: Bool) throws -> KeeperStore {
        switch config.store.backend {
        case .sqlite:
            return try reporting("keeper.data_dir \(config.keeper.dataDir)") { try KeeperStore(directory: config.keeper.dataDir, readOnly: readOnly) }
        case .postgres:
            // data_dir still holds the pause file (and nothing else of the store): created as for SQLite.
            if !readOnly {
                try? FileManager.default.createDirectory(atPath: config.keeper.dataDir, withIntermediateDirectories: true,
                                                         attributes: [.posixPermissions: 0o700])
            }
            let settings = try postgresSettings(config)
            return try reporting("store.postgres_url \(settings.redactedURL)") { try KeeperStore(postgres: settings, readOnly: readOnly) }
        }
    }
}
