// StoreCopy — moves a keeper's store between backends (`store migrate --from sqlite --to postgres`, and back): every
// table the two schemas share, copied in one target transaction into an empty, migrated store, then verified by row
// counts and a SHA-256 over each table's rows (an order-independent digest of canonical row encodings, so SQLite's
// and PostgreSQL's orderings and column orders do not matter).
import Crypto
import Foundation

/// One table's copy, as verified.
public struct TableCopy: Sendable, Equatable {
    /// The table.
    public var table: String
    /// Rows read from the source.
    public var sourceRows: Int
    /// Rows found in the target afterwards.
    public var targetRows: Int
    /// Digest of the source's rows.
    public var sourceSHA256: String
    /// Digest of the target's rows afterwards.
    public var targetSHA256: String
    /// Counts and digests agree.
    public var verified: Bool { sourceRows == targetRows && sourceSHA256 == targetSHA256 }
}

/// Copies a store into an empty one of the other backend and verifies it (`store migrate`).
public enum StoreCopy {
    /// The tables both backends hold, parents first.
    public static let tables = ["meta", "blocks", "reward_events", "registrations", "stakers", "treasury_events", "transactions",
                                "intents", "reorgs"]

    /// Copies every table of `source` into `target`, which must hold no keeper data; returns each table's verification.
    public static func copy(from source: KeeperStore, to target: KeeperStore) throws -> [TableCopy] {
        let nonEmpty = try target.read { r in try tables.filter { try r.count("SELECT COUNT(*) FROM \($0)") > 0 } }
        if !nonEmpty.isEmpty {
            throw StoreError.settings("store migrate: the target \(target.path) already holds data (tables \(nonEmpty.joined(separator: ", "))); "
                                      + "migrate into an empty database")
        }
        let data = try source.read { r in try tables.map { t in (t, try r.rows("SELECT * FROM \(t)")) } }
        try target.write { w in
            for (table, rows) in data {
                for row in rows {
                    let columns = row.columns.joined(separator: ", ")
                    let marks = Array(repeating: "?", count: row.columns.count).joined(separator: ", ")
                    try w.exec("INSERT INTO \(table) (\(columns)) VALUES (\(marks))", row.values)
                }
            }
            if w.db.dialect == .postgres {
                // Explicit ids were copied: the sequences continue after them.
                for t in ["transactions", "reorgs"] {
                    _ = try w.reader.rows("SELECT setval(pg_get_serial_sequence('\(t)', 'id'), COALESCE((SELECT MAX(id) FROM \(t)), 0) + 1, false)")
                }
            }
        }
        let after = try target.read { r in try tables.map { t in try r.rows("SELECT * FROM \(t)") } }
        return zip(data, after).map { source, target in
            TableCopy(table: source.0, sourceRows: source.1.count, targetRows: target.count,
                      sourceSHA256: digest(source.1), targetSHA256: digest(target))
        }
    }

    /// SHA-256 over the sorted canonical encodings of `rows` (columns by name; each value tagged with its type).
    public static func digest(_ rows: [SQLRow]) -> String {
        var encoded: [Data] = rows.map { row in
            var d = Data()
            for (name, value) in zip(row.columns, row.values).sorted(by: { $0.0 < $1.0 }) {
                d.append(contentsOf: Array(name.utf8)); d.append(0)
                switch value {
                case .null: d.append(0x00)
                case let .integer(i): d.append(0x01); withUnsafeBytes(of: i.bigEndian) { d.append(contentsOf: $0) }
                case let .text(t): d.append(0x02); withUnsafeBytes(of: UInt64(t.utf8.count).bigEndian) { d.append(contentsOf: $0) }; d.append(contentsOf: Array(t.utf8))
                case let .blob(b): d.append(0x03); withUnsafeBytes(of: UInt64(b.count).bigEndian) { d.append(contentsOf: $0) }; d.append(b)
                }
            }
            return Data(SHA256.hash(data: d))
        }
        encoded.sort { $0.lexicographicallyPrecedes($1) }
        var all = SHA256()
        for e in encoded { all.update(data: e) }
        return all.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
