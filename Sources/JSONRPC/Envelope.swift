/// The JSON-RPC 2.0 response envelope (https://www.jsonrpc.org/specification §5): `id`, then
/// exactly one of `result` or `error`. Single responses decode their result in place; batch
/// responses are split into items first and matched to requests by id.
enum Envelope {
    /// One item of a batch response: its id and either the byte range of its result or its error.
    struct Item {
        var id: UInt64?
        var result: Range<Int>?
        var error: RPCError?
    }

    /// Decodes a single response. The outer `throws` is for a malformed envelope; the `Result`
    /// carries either the typed result or the server's JSON-RPC error.
    static func decodeSingle<T>(_ body: [UInt8], expectedID: UInt64? = nil,
                                decode: (inout JSONScanner) throws(RPCError) -> T) throws(RPCError) -> Result<T, RPCError> {
        try withScanner(body) { (s) throws(RPCError) -> Result<T, RPCError> in
            guard s.peek() == UInt8(ascii: "{") else {
                throw s.fail(s.peek() == nil ? "empty body" : "expected a JSON-RPC response object")
            }
            try s.beginObject()
            var value: T?
            var error: RPCError?
            var id: UInt64?
            var idSeen = false
            var first = true
            while let k = try s.nextKey(&first) {
                if s.key(k, is: "result") {
                    if value != nil || error != nil { throw s.fail("response has both result and error") }
                    value = try decode(&s)
                } else if s.key(k, is: "error") {
                    if value != nil { throw s.fail("response has both result and error") }
                    if s.consumeNull() { continue }
                    error = try parseError(&s)
                } else if s.key(k, is: "id") {
                    idSeen = true
                    id = try parseID(&s)
                } else {
                    try s.skipValue()
                }
            }
            try s.expectEnd()
            if let error { return .failure(error) }
            guard let value else { throw s.fail("response has neither result nor error") }
            if let expectedID, idSeen, let id, id != expectedID {
                throw s.fail("response id \(id) does not match request id \(expectedID)")
            }
            return .success(value)
        }
    }

    /// Splits a batch response (a JSON array of response objects) into items.
    static func decodeBatch(_ body: [UInt8]) throws(RPCError) -> [Item] {
        try withScanner(body) { (s) throws(RPCError) -> [Item] in
            if s.peek() == UInt8(ascii: "{") {
                // A single error object answers a batch the server could not parse at all.
                try s.beginObject()
                var first = true
                var error: RPCError?
                while let k = try s.nextKey(&first) {
                    if s.key(k, is: "error") { error = try parseError(&s) } else { try s.skipValue() }
                }
                throw error ?? s.fail("expected a JSON array for a batch response")
            }
            try s.beginArray()
            var items: [Item] = []
            var first = true
            while try s.nextElement(&first) {
                try s.beginObject()
                var item = Item()
                var f = true
                while let k = try s.nextKey(&f) {
                    if s.key(k, is: "result") {
                        s.skipWhitespace()
                        let start = s.pos
                        try s.skipValue()
                        item.result = start..<s.pos
                    } else if s.key(k, is: "error") {
                        if s.consumeNull() { continue }
                        item.error = try parseError(&s)
                    } else if s.key(k, is: "id") {
                        item.id = try parseID(&s)
                    } else {
                        try s.skipValue()
                    }
                }
                if item.result == nil && item.error == nil { throw s.fail("batch item has neither result nor error") }
                items.append(item)
            }
            try s.expectEnd()
            return items
        }
    }

    /// An id we sent is always a non-negative integer; anything else (null, string) is not ours.
    static func parseID(_ s: inout JSONScanner) throws(RPCError) -> UInt64? {
        switch s.peek() {
        case UInt8(ascii: "\""):
            let text = try s.string()
            return UInt64(text)
        case UInt8(ascii: "n"):
            _ = s.consumeNull()
            return nil
        default:
            let span = try s.numberSpan()
            return UInt64(s.text(span))
        }
    }

    /// `{"code": int, "message": string, "data"?: any}`; `data` is kept as its raw JSON text.
    static func parseError(_ s: inout JSONScanner) throws(RPCError) -> RPCError {
        try s.beginObject()
        var code: Int?
        var message = ""
        var data: String?
        var first = true
        while let k = try s.nextKey(&first) {
            if s.key(k, is: "code") {
                code = try s.integer()
            } else if s.key(k, is: "message") {
                if s.peek() == UInt8(ascii: "\"") { message = try s.string() } else { try s.skipValue() }
            } else if s.key(k, is: "data") {
                s.skipWhitespace()
                let start = s.pos
                try s.skipValue()
                let raw = s.text(JSONSpan(start: start, count: s.pos - start), limit: 4096)
                data = raw == "null" ? nil : raw
            } else {
                try s.skipValue()
            }
        }
        guard let code else { throw s.fail(field: "error", "missing code") }
        return .server(code: code, message: RPCError.clip(message, 1000), data: data)
    }
}
