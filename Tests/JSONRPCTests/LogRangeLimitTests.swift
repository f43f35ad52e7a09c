import Foundation
@testable import JSONRPC
import XCTest

final class LogRangeLimitTests: XCTestCase {
    struct Vectors: Decodable {
        struct Case: Decodable {
            let provider: String
            let code: Int
            let message: String
            let data: String?
            let kind: String?
            let suggested: [UInt64]?
            let max: UInt64?
        }
        let source: String
        let cases: [Case]
    }

    func testProviderErrorTexts() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Vectors/provider_log_errors", withExtension: "json"))
        let vectors = try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
        XCTAssertGreaterThan(vectors.cases.count, 15)
        for c in vectors.cases {
            let error = RPCError.server(code: c.code, message: c.message, data: c.data)
            let limit = LogRangeLimit(error)
            guard let kind = c.kind else {
                XCTAssertNil(limit, c.provider)
                continue
            }
            guard let limit else { XCTFail("not recognised: \(c.provider)"); continue }
            XCTAssertEqual(limit.kind == .blockRange ? "blockRange" : "resultCount", kind, c.provider)
            XCTAssertEqual(limit.suggested.map { [$0.lowerBound, $0.upperBound] }, c.suggested, c.provider)
            XCTAssertEqual(limit.maxBlocks, c.max, c.provider)
            XCTAssertFalse(error.isRetryable, "a range limit is never retried as is: \(c.provider)")
        }
    }

    func testOnlyServerErrorsAreLimits() {
        XCTAssertNil(LogRangeLimit(.http(endpoint: "x", status: 413, retryAfter: nil, bodyPrefix: "block range too large")))
        XCTAssertNil(LogRangeLimit(.transport(endpoint: "x", reason: "max range", retryable: true)))
    }
}
