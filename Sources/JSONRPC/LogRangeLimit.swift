/// A provider's refusal of an `eth_getLogs` range, recognised from the error texts of the common
/// providers (Infura/MetaMask -32005 and -32602, Alchemy, QuickNode, Chainstack, Ankr, geth/reth/erigon
/// style node limits): too many blocks, too many results or too large a response, possibly with the
/// range the provider suggests instead or the maximum span it allows.
public struct LogRangeLimit: Sendable, Equatable {
    /// What the provider objected to.
    public enum Kind: Sendable, Equatable {
        /// The block span is over the provider's limit.
        case blockRange
        /// The answer would hold too many logs or bytes (or took too long to compute).
        case resultCount
    }

    /// What the provider objected to.
    public var kind: Kind
    /// The range the provider suggests (`[0x…, 0x…]` or `retry with the range A-B`), if any.
    public var suggested: ClosedRange<UInt64>?
    /// The largest block span the provider states it accepts, if it states one.
    public var maxBlocks: UInt64?

    /// Classifies `error`; nil when it is not a range/result limit (e.g. a rate limit or a bad filter).
    public init?(_ error: RPCError) {
        guard case let .server(code, message, data) = error else { return nil }
        let text = (message + " " + (data ?? "")).lowercased()
        if RPCError.isRateLimitMessage(code: code, message: message) { return nil }
        let resultWords = ["more than", "too many results", "response size", "log response", "response is too big",
                           "response too large", "results exceeds", "max results", "result window", "query timeout",
                           "timed out", "context deadline exceeded", "too many logs", "logs exceed"]
        let mentionsRange = text.contains("range") || text.contains("blocks") || text.contains("block span")
        let limitWords = ["exceed", "limit", "max", "too", "over", "up to", "should work", "wide", "allowed", "large"]
        let isResult = resultWords.contains { text.contains($0) }
        let isRange = mentionsRange && limitWords.contains { text.contains($0) }
        if isResult {
            kind = .resultCount
        } else if isRange {
            kind = .blockRange
        } else if code == -32005 {
            kind = .resultCount  // Infura's "limit exceeded" family
        } else {
            return nil
        }
        suggested = Self.suggestedRange(inData: data) ?? Self.suggestedRange(in: text)
        maxBlocks = kind == .blockRange ? Self.statedMaximum(in: text) : nil
    }

    /// Infura's `data: {"from": "0x…", "to": "0x…", "limit": N}`.
    static func suggestedRange(inData data: String?) -> ClosedRange<UInt64>? {
        guard let data, let v = try? JSONValue.parse(Array(data.utf8)),
              let from = v["from"]?.stringValue, let to = v["to"]?.stringValue,
              from.hasPrefix("0x"), to.hasPrefix("0x"),
              let a = UInt64(from.dropFirst(2), radix: 16), let b = UInt64(to.dropFirst(2), radix: 16), a <= b else { return nil }
        return a...b
    }

    /// `[0xA, 0xB]` (Infura, Alchemy) or `retry with the range A-B` (decimal).
    static func suggestedRange(in text: String) -> ClosedRange<UInt64>? {
        let chars = Array(text.utf8)
        var i = 0
        while i < chars.count {
            if chars[i] == UInt8(ascii: "[") {
                var j = i + 1
                if let (a, afterA) = hexNumber(chars, &j, start: j), afterA {
                    skip(chars, &j, " ,")
                    if let (b, _) = hexNumber(chars, &j, start: j) {
                        skip(chars, &j, " ")
                        if j < chars.count, chars[j] == UInt8(ascii: "]"), a <= b { return a...b }
                    }
                }
            }
            i += 1
        }
        if let r = text.range(of: "with the range ") {
            let rest = Array(text[r.upperBound...].utf8)
            var j = 0
            if let a = decimal(rest, &j), j < rest.count, rest[j] == UInt8(ascii: "-") {
                j += 1
                if let b = decimal(rest, &j), a <= b { return a...b }
            }
        }
        return nil
    }

    /// The span after phrases like "max is 1k blocks", "limit of 10,000", "maximum is set to 2048", "max 2000".
    static func statedMaximum(in text: String) -> UInt64? {
        let keys = ["maximum is set to ", "max is ", "limit of ", "limited to a ", "limited to ", "ranges over ",
                    "maximum block range: ", "max block range: ", "max block range ", "maximum block range ",
                    "exceed maximum block range: ", "up to a ", "max: ", "max ", "maximum ", "limit: ", "limit is "]
        for key in keys {
            var search = text.startIndex..<text.endIndex
            while let r = text.range(of: key, range: search) {
                let rest = Array(text[r.upperBound...].utf8)
                var j = 0
                if let v = decimal(rest, &j, allowCommas: true) {
                    var value = v
                    if j < rest.count, rest[j] == UInt8(ascii: "k") { value *= 1000 }
                    if value > 0 { return value }
                }
                search = r.upperBound..<text.endIndex
            }
        }
        return nil
    }

    private static func skip(_ c: [UInt8], _ j: inout Int, _ set: String) {
        let s = Set(set.utf8)
        while j < c.count, s.contains(c[j]) { j += 1 }
    }

    private static func hexNumber(_ c: [UInt8], _ j: inout Int, start: Int) -> (UInt64, Bool)? {
        skip(c, &j, " ")
        guard j + 2 < c.count, c[j] == UInt8(ascii: "0"), c[j + 1] == UInt8(ascii: "x") else { return nil }
        j += 2
        var v: UInt64 = 0
        var n = 0
        while j < c.count, let d = HexScan.table[Int(c[j])] as UInt8?, d != 0xFF {
            guard n < 16 else { return nil }
            v = v << 4 | UInt64(d); n += 1; j += 1
        }
        return n > 0 ? (v, true) : nil
    }

    private static func decimal(_ c: [UInt8], _ j: inout Int, allowCommas: Bool = false) -> UInt64? {
        var v: UInt64 = 0
        var n = 0
        while j < c.count {
            let ch = c[j]
            if ch >= UInt8(ascii: "0") && ch <= UInt8(ascii: "9") {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(UInt64(ch - UInt8(ascii: "0")))
                if o1 || o2 { return nil }
                v = s; n += 1; j += 1
            } else if allowCommas && ch == UInt8(ascii: ",") && n > 0 && j + 1 < c.count
                        && c[j + 1] >= UInt8(ascii: "0") && c[j + 1] <= UInt8(ascii: "9") {
                j += 1
            } else { break }
        }
        return n > 0 ? v : nil
    }
}
