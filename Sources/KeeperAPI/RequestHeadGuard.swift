import Foundation
import NIOCore

/// The first handler on an API connection, in front of the HTTP parser: it bounds each request's head so that an
/// overlong request line is *answered* 414 and oversized headers 431 (the parser alone would drop the connection),
/// an unknown method (a token the parser does not know, e.g. `BREW`) 405, and a head that trickles in slower than
/// `headDeadline` (a slow client) 408 — then closes. Heads within bounds pass through untouched.
///
/// A request that announces a body (`Content-Length` other than 0, or `Transfer-Encoding`) ends the guarding of that
/// connection: the parser's own limits apply to what follows (the API reads no bodies; such requests get 405).
final class RequestHeadGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let maxRequestLine: Int
    let maxHead: Int
    let headDeadline: TimeAmount
    let allow: String

    private var head: [UInt8] = []
    private var lineDone = false
    private var guarding = true
    private var answered = false
    private var deadline: Scheduled<Void>?

    /// Methods the HTTP parser knows (llhttp); any other token is answered 405 here.
    static let knownMethods: Set<String> = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "QUERY", "PROPFIND", "PROPPATCH",
        "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH",
        "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE", "ACL", "BIND",
        "REBIND", "UNBIND",
    ]

    init(maxRequestLine: Int, maxHead: Int, headDeadline: TimeAmount, allow: String) {
        self.maxRequestLine = maxRequestLine; self.maxHead = maxHead; self.headDeadline = headDeadline; self.allow = allow
    }

    func handlerRemoved(context: ChannelHandlerContext) { deadline?.cancel() }
    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }

    /// Holds each head until it is complete (so the parser never sees a head this guard refuses), then passes it on.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if answered { return }
        let buffer = unwrapInboundIn(data)
        guard guarding else { context.fireChannelRead(data); return }
        let bytes = Array(buffer.readableBytesView)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            i += 1
            if head.isEmpty && deadline == nil { armDeadline(context) }
            head.append(byte)
            if !lineDone {
                if byte == UInt8(ascii: "\n") {
                    lineDone = true
                    // Raw bytes outside printable ASCII in the request line (unencoded UTF-8, controls, NUL) are not
                    // HTTP: answered 400 with a JSON error here (the parser would answer a bare 400).
                    if head.dropLast().contains(where: { ($0 < 0x20 && $0 != 13) || $0 >= 0x7f }) {
                        answer(context, "400 Bad Request", code: "bad_request_line",
                               message: "the request line holds bytes outside printable ASCII; percent-encode them")
                        return
                    }
                    if let method = head.split(separator: UInt8(ascii: " "), maxSplits: 1).first,
                       !Self.knownMethods.contains(String(decoding: method, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) {
                        answer(context, "405 Method Not Allowed", code: "method_not_allowed",
                               message: "this method is not allowed; use GET or HEAD")
                        return
                    }
                } else if head.count > maxRequestLine {
                    answer(context, "414 URI Too Long", code: "uri_too_long", message: "the request line exceeds \(maxRequestLine) bytes")
                    return
                }
            } else if head.count > maxHead {
                answer(context, "431 Request Header Fields Too Large", code: "headers_too_large",
                       message: "the request head exceeds \(maxHead) bytes")
                return
            }
            let complete = lineDone && ((head.count >= 4 && head.suffix(4).elementsEqual([13, 10, 13, 10]))
                                        || (head.count >= 2 && head.suffix(2).elementsEqual([10, 10])))
            if complete {
                var out = context.channel.allocator.buffer(capacity: head.count)
                out.writeBytes(head)
                let unguard = finishHead()
                context.fireChannelRead(wrapInboundOut(out))
                if unguard {
                    if i < bytes.count {
                        var rest = context.channel.allocator.buffer(capacity: bytes.count - i)
                        rest.writeBytes(bytes[i...])
                        context.fireChannelRead(wrapInboundOut(rest))
                    }
                    return
                }
            }
        }
    }

    /// A complete head was passed on: true when it announces a body (guarding ends for this connection).
    private func finishHead() -> Bool {
        let text = String(decoding: head, as: UTF8.self).lowercased()
        let hasBody = text.contains("\ntransfer-encoding:")
            || text.split(separator: "\n").contains { $0.hasPrefix("content-length:") && $0.dropFirst(15).trimmingCharacters(in: .whitespacesAndNewlines) != "0" }
        head.removeAll(keepingCapacity: true)
        lineDone = false
        deadline?.cancel()
        deadline = nil
        if hasBody { guarding = false }
        return hasBody
    }

    private func armDeadline(_ context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: headDeadline) {
            let (guardHandler, ctx) = loopBound.value
            guard !guardHandler.head.isEmpty else { return }
            guardHandler.answer(ctx, "408 Request Timeout", code: "request_timeout",
                                message: "the request head did not arrive within \(guardHandler.headDeadline.nanoseconds / 1_000_000_000) s")
        }
    }

    private func answer(_ context: ChannelHandlerContext, _ status: String, code: String, message: String) {
        answered = true
        deadline?.cancel()
        let body = "{\"error\":{\"code\":\"\(code)\",\"message\":\"\(message)\"}}"
        var extra = ""
        if status.hasPrefix("405") { extra = "Allow: \(allow)\r\n" }
        let response = "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\(extra)"
            + "Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n\(body)"
        var out = context.channel.allocator.buffer(capacity: response.utf8.count)
        out.writeString(response)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in bound.value.close(promise: nil) }
    }
}
