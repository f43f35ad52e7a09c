import ArgumentParser
import Foundation
import KeeperCore
import KeeperStore

/// `expansion-keeper store migrate --config FILE --from sqlite --to postgres` (or back).
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "The keeper's store: move it between SQLite and PostgreSQL.",
        subcommands: [Migrate.self])

    /// Copies the store of one backend into the other, verified by row counts and SHA-256 per table.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the store from SQLite (keeper.data_dir) into PostgreSQL (store.postgres_url), or back; verify every table.",
            discussion: """
                Stop every keeper first. The target must hold no keeper data (its schema is created when missing). Prints one \
                JSON line per table {"table", "source_rows", "target_rows", "source_sha256", "target_sha256", "verified"}, then \
                {"verified", "tables", "rows"}. Exit status: 0 when every table's row count and checksum agree, 1 otherwise. \
                The PostgreSQL password comes from EXPANSION_KEEPER_PG_PASSWORD or the systemd credential pg-password.
                """)

        @Option(name: .long, help: "The keeper's TOML config file (keeper.data_dir and store.postgres_url).")
        var config: String

        @Option(name: .long, help: "The backend to copy from: sqlite or postgres.")
        var from: KeeperConfig.StoreBackend

        @Option(name: .long, help: "The backend to copy to: postgres or sqlite.")
        var to: KeeperConfig.StoreBackend

        func run() async throws {
            guard from != to else { throw CLIError("--from and --to are both \(from.rawValue): nothing to migrate") }
            var cfg = try KeeperOptions.parse(["--config", config]).load()
            guard cfg.store.postgresURL != nil else {
                throw CLIError("store.postgres_url: missing; store migrate needs the PostgreSQL database to copy \(from == .postgres ? "from" : "to")")
            }
            cfg.ha.enabled = false
            cfg.store.backend = from
            let source = try StoreOpening.open(cfg, readOnly: true)
            cfg.store.backend = to
            let target = try StoreOpening.open(cfg, readOnly: false)
            defer { source.close(); target.close() }
            let tables = try reporting("store migrate") { try StoreCopy.copy(from: source, to: target) }
            for t in tables {
                print(JSONOut.render(["table": t.table, "source_rows": t.sourceRows, "target_rows": t.targetRows,
                                      "source_sha256": t.sourceSHA256, "target_sha256": t.targetSHA256, "verified": t.verified]))
            }
            let ok = tables.allSatisfy(\.verified)
            print(JSONOut.render(["verified": ok, "tables": tables.count, "rows": tables.reduce(0) { $0 + $1.targetRows },
                                  "from": source.path, "to": target.path]))
            if !ok { throw ExitCode.failure }
        }
    }
}

extension KeeperConfig.StoreBackend: ExpressibleByArgument {}
