import EthereumABI
import EthereumCore
import Foundation
import XCTest

/// Differential tests against Python's eth-abi 6.0.0 (Tests/Support/abi_oracle.py), seeded and repeatable
/// (`EXPANSION_KEEPER_SEED`; `EXPANSION_KEEPER_SOAK=1` runs 25× more cases).
final class ABIDifferentialTests: XCTestCase {
    var count: Int { ABITestSupport.soak ? 50_000 : 2_000 }

    /// eth-abi generates and encodes; we parse the JSON arguments, encode (must be byte-identical) and
    /// decode (must give the same canonical JSON).
    func testOurCodecMatchesEthAbiOnItsCases() throws {
        let seed = ABITestSupport.seed
        print("ABI differential (eth-abi → us): seed \(seed), \(count) cases")
        let output = try ABITestSupport.runPython("abi_oracle.py", ["generate", String(seed), String(count)])
        var checked = 0
        for line in output.split(separator: "\n") {
            let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let typeTexts = try XCTUnwrap(obj["types"] as? [String])
            let args = try XCTUnwrap(obj["args"] as? String)
            let encoded = try XCTUnwrap(obj["encoded"] as? String)
            let canonical = try XCTUnwrap(obj["canonical"] as? String)
            let types = try typeTexts.map { try ABIType(parsing: $0) }
            XCTAssertEqual(types.map(\.canonical), typeTexts)
            let values = try ABIValue.parseJSONArguments(args, types: types)
            let ours = try ABIEncoder.encode(values, as: types)
            XCTAssertEqual(Hex.encode(ours), encoded, "encode \(typeTexts) seed \(seed)")
            let decoded = try ABIDecoder.decode(types, from: Hex.decode(encoded))
            XCTAssertEqual(decoded, values, "decode \(typeTexts) seed \(seed)")
            let json = ABIValue.canonicalJSON(decoded)
            XCTAssertEqual(json, canonical, "canonical text \(typeTexts) seed \(seed)")
            checked += 1
        }
        XCTAssertEqual(checked, count)
    }

    /// We generate and encode; eth-abi decodes (strict) to the same canonical JSON and re-encodes the same bytes.
    func testEthAbiDecodesOurEncodings() throws {
        let seed = ABITestSupport.seed &+ 1
        print("ABI differential (us → eth-abi): seed \(seed), \(count) cases")
        var random = ABIRandom(seed: seed)
        var lines = ""
        for _ in 0..<count {
            let types = (0..<random.int(0...4)).map { _ in random.type() }
            let values = types.map { random.value($0) }
            let encoded = try ABIEncoder.encode(values, as: types)
            XCTAssertEqual(try ABIDecoder.decode(types, from: encoded), values)
            let obj: [String: Any] = ["types": types.map(\.canonical), "encoded": Hex.encode(encoded),
                                      "canonical": String(ABIValue.canonicalJSON(values))]
            lines += String(decoding: try JSONSerialization.data(withJSONObject: obj), as: UTF8.self) + "\n"
        }
        let result = try ABITestSupport.runPython("abi_oracle.py", ["check"], input: Data(lines.utf8))
        XCTAssertEqual(result.trimmingCharacters(in: .whitespacesAndNewlines), "ok \(count)", "seed \(seed)")
    }
}
