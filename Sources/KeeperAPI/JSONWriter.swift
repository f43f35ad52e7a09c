import EthereumCore

/// A compact JSON writer for the API's flat documents (faster than a generic serializer on the hot path): keys in
/// the order written, strings escaped per RFC 8259.
struct JSONWriter {
    private(set) var text = ""
    private var needsComma: [Bool] = []
    private var afterKey = false

    /// Before a value: a comma between array items (an object's comma is written by `key`).
    private mutating func beginValue() {
        if afterKey { afterKey = false; return }
        if let last = needsComma.last {
            if last { text.append(",") }
            needsComma[needsComma.count - 1] = true
        }
    }

    mutating func key(_ k: String) {
        if needsComma.last == true { text.append(",") }
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = true }
        Self.quote(k, into: &text)
        text.append(":")
        afterKey = true
    }

    mutating func openObject() { beginValue(); text.append("{"); needsComma.append(false) }
    mutating func openArray() { beginValue(); text.append("["); needsComma.append(false) }
    mutating func closeObject() { text.append("}"); needsComma.removeLast() }
    mutating func closeArray() { text.append("]"); needsComma.removeLast() }

    mutating func string(_ s: String?) { beginValue(); if let s { Self.quote(s, into: &text) } else { text += "null" } }
    mutating func number<T: BinaryInteger>(_ n: T?) { beginValue(); text += n.map { "\($0)" } ?? "null" }
    mutating func bool(_ b: Bool) { beginValue(); text += b ? "true" : "false" }

    mutating func field(_ k: String, _ s: String?) { key(k); string(s) }
    mutating func field<T: BinaryInteger>(_ k: String, _ n: T?) { key(k); number(n) }
    mutating func field(_ k: String, _ b: Bool) { key(k); bool(b) }

    static func quote(_ s: String, into out: inout String) { JSONString.append(s, to: &out) }
}
