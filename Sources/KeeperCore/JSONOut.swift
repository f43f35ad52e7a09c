import Foundation

/// Renders report values as one JSON document (keys sorted, pretty-printed): amounts as decimal strings,
/// addresses checksummed, absent values as null.
public enum JSONOut {
    /// The JSON text of `value` (dictionaries, arrays, strings, numbers, booleans, NSNull).
    public static func render(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject(value),
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else {
            return "null"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The JSON text of `value` on one line (keys sorted): for output other tools read line by line.
    public static func renderLine(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject(value),
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "null"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// `value` or JSON null.
    public static func orNull(_ value: Any?) -> Any { value ?? NSNull() }
}

/// A plain-text table: columns padded to their widest cell.
public struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    /// A table with these column titles.
    public init(_ header: [String]) { self.header = header }

    /// Appends a row.
    public mutating func add(_ row: [String]) { rows.append(row) }

    /// The rendered table.
    public func render() -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}
