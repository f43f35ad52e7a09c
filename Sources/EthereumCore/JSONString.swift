/// JSON string literals (RFC 8259), written once for every module that writes JSON by hand: the ABI tools, the
/// JSON log lines and the stakers' API.
public enum JSONString {
    /// Appends `text` as a quoted JSON string: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, other control characters as
    /// `\u00xx`; everything else (including non-ASCII) as UTF-8.
    public static func append(_ text: String, to out: inout String) {
        out.append("\"")
        for u in text.unicodeScalars {
            switch u {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case "\u{08}": out.append("\\b")
            case "\u{0C}": out.append("\\f")
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out.append("\\u" + String(repeating: "0", count: 4 - h.count) + h)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out.append("\"")
    }

    /// `text` as a quoted JSON string.
    public static func quoted(_ text: String) -> String {
        var out = ""
        append(text, to: &out)
        return out
    }
}
