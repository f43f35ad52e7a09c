import EthereumABI
import EthereumCore
import Foundation
import XCTest

/// The JSON-ABI model.
final class ABIContractTests: XCTestCase {
    let sample = #"""
    [
      {"type":"constructor","inputs":[{"name":"owner","type":"address"}],"stateMutability":"nonpayable"},
      {"type":"function","name":"route","stateMutability":"nonpayable",
       "inputs":[{"name":"items","type":"tuple[]","components":[
          {"name":"staker","type":"address"},{"name":"amount","type":"uint256"},
          {"name":"inner","type":"tuple","components":[{"name":"a","type":"bytes"},{"name":"b","type":"uint8[2]"}]}]}],
       "outputs":[{"name":"","type":"bool"}]},
      {"type":"event","name":"Routed","anonymous":false,"inputs":[
          {"name":"staker","type":"address","indexed":true},{"name":"amount","type":"uint256","indexed":false}]},
      {"type":"error","name":"Unauthorized","inputs":[{"name":"caller","type":"address"}]},
      {"type":"receive","stateMutability":"payable"},
      {"type":"fallback"}
    ]
    """#

    func testParsesEveryEntryKind() throws {
        let c = try ABIContract(json: sample)
        XCTAssertEqual(c.constructorInputs?.map(\.type), [.address])
        let route = try XCTUnwrap(c.function(named: "route"))
        XCTAssertEqual(route.signature, "route((address,uint256,(bytes,uint8[2]))[])")
        XCTAssertEqual(route.inputs[0].components.map(\.name), ["staker", "amount", "inner"])
        XCTAssertEqual(route.outputs.map(\.type), [.bool])
        let routed = try XCTUnwrap(c.event(named: "Routed"))
        XCTAssertEqual(routed.parameters.map(\.indexed), [true, false])
        XCTAssertEqual(c.event(topic0: Keccak256.hash(text: "Routed(address,uint256)"))?.name, "Routed")
        XCTAssertEqual(c.error(named: "Unauthorized")?.signature, "Unauthorized(address)")
        XCTAssertEqual(c.error(named: "Unauthorized").map { Hex.encode($0.selector) }, Hex.encode(ABIFunction.selector(of: "Unauthorized(address)")))
        XCTAssertTrue(c.hasReceive)
        XCTAssertTrue(c.hasFallback)
    }

    func testErrorsNameTheEntryAndField() {
        let cases: [(String, ABIError)] = [
            ("{}", .invalidJSON(at: "", reason: "a JSON-ABI must be an array of entries, got an object")),
            (#"[{"type":"function"}]"#, .invalidJSON(at: "entry 0", reason: "missing \"name\"")),
            (#"[{"type":"event","name":"E","inputs":[{"name":"x","type":"uint7"}]}]"#,
             .invalidType(text: "uint7", reason: "\"uint7\" is not a valid integer type (uint8…uint256 / int8…int256 in steps of 8)", offset: 0)),
            (#"[{"type":"function","name":"f","inputs":[{"name":"x","type":"tuple"}]}]"#,
             .invalidJSON(at: "entry 0.inputs[0].components", reason: "a tuple needs components")),
            (#"[{"type":"wat"}]"#, .invalidJSON(at: "entry 0.type", reason: "unknown entry type \"wat\"")),
            ("[1,]", .invalidJSON(at: "character 3", reason: "unexpected character")),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try ABIContract(json: text), text) { XCTAssertEqual($0 as? ABIError, expected, text) }
        }
    }

    /// The project's own ABI files (written by the contracts engineer) parse, and their events are consistent.
    func testProjectABIFilesParse() throws {
        let dir = ABITestSupport.root.appendingPathComponent("ABI")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }) ?? []
        for file in files {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            let c = try ABIContract(json: text)
            XCTAssertFalse(c.functions.isEmpty && c.events.isEmpty, file)
            for e in c.events { XCTAssertEqual(e.topic0, Keccak256.hash(text: e.signature), file) }
        }
    }
}
