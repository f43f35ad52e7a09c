import EthereumCore
import Foundation
import KeeperTesting
import XCTest

final class TxCLITests: XCTestCase {
    /// A keystore holding EIP-155's example key 0x46…46 (address 0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F).
    func makeKeystore(_ s: KeysScratch) throws -> (keystore: String, password: String) {
        let pw = try s.file("pw", "tx password\n")
        let keyFile = try s.file("key", "0x" + String(repeating: "46", count: 32) + "\n")
        let imported = try KeeperProcess.run(["keys", "import", "--keystore-dir", s.root + "/keys", "--password-file", pw,
                                              "--private-key-file", keyFile, "--light"])
        XCTAssertEqual(imported.stdout, "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F\n", imported.stderr)
        let list = try KeeperProcess.run(["keys", "list", "--keystore-dir", s.root + "/keys"])
        let path = try XCTUnwrap(list.stdout.split(separator: " ").last).trimmingCharacters(in: .newlines)
        return (path, pw)
    }

    /// EIP-155's example transaction, signed through the CLI, with quantities in all three JSON forms.
    func testSignsTheEIP155Example() throws {
        let s = try KeysScratch("tx155")
        let (keystore, pw) = try makeKeystore(s)
        let expected = "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
        let forms = [
            #"{"type":0,"chainId":1,"nonce":9,"gas":21000,"gasPrice":20000000000,"to":"0x3535353535353535353535353535353535353535","value":1000000000000000000}"#,
            #"{"type":"0","chainId":"1","nonce":"9","gas":"21000","gasPrice":"20000000000","to":"0x3535353535353535353535353535353535353535","value":"1000000000000000000","data":"0x"}"#,
            #"{"type":"0x0","chainId":"0x1","nonce":"0x9","gas":"0x5208","gasPrice":"0x4a817c800","to":"0x3535353535353535353535353535353535353535","value":"0xde0b6b3a7640000"}"#,
        ]
        for json in forms {
            let result = try KeeperProcess.run(["tx", "sign", "--keystore", keystore, "--password-file", pw, json])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout, expected + "\n", json)
            XCTAssertEqual(result.stderr, "")
        }
        // From a file and from stdin.
        let file = try s.file("tx.json", forms[0])
        XCTAssertEqual(try KeeperProcess.run(["tx", "sign", "--keystore", keystore, "--password-file", pw, "@" + file]).stdout, expected + "\n")
        XCTAssertEqual(try KeeperProcess.run(["tx", "sign", "--keystore", keystore, "--password-file", pw, "-"], stdin: forms[2]).stdout,
                       expected + "\n")
    }

    /// Type 1 and 2 (default type), an access list, a contract creation: identical to eth-account's bytes.
    func testTypedTransactionsMatchEthAccount() throws {
        let s = try KeysScratch("tx1559")
        let (keystore, pw) = try makeKeystore(s)
        let cases: [[String: Any]] = [
            ["chainId": 8453, "nonce": 7, "gas": 250_000, "maxFeePerGas": "0x59682f00", "maxPriorityFeePerGas": "1000000",
             "to": "0xacfE6019Ed1A7Dc6f7B508C02d1b04ec88cC21bf", "value": 0, "data": "0xa9059cbb" + String(repeating: "00", count: 64),
             "accessList": [["address": "0x321b7ff75154472B18EDb199033fF4D116F340Ff",
                             "storageKeys": ["0x" + String(repeating: "00", count: 31) + "01"]]]],
            ["type": 1, "chainId": 1, "nonce": 0, "gas": 100_000, "gasPrice": "1000000000", "to": NSNull(),
             "data": "0x6080604052", "accessList": []],
            ["type": 2, "chainId": 31337, "nonce": "18446744073709551614", "gas": 21000, "maxFeePerGas": "115792089237316195423570985008687907853269984665640564039457584007913129639935",
             "maxPriorityFeePerGas": "0", "to": "0x0000000000000000000000000000000000000000", "value": "0xffffffffffffffffffffffffffffffff"],
        ]
        var requests: [[String: Any]] = []
        for tx in cases {
            let json = String(decoding: try JSONSerialization.data(withJSONObject: tx), as: UTF8.self)
            let result = try KeeperProcess.run(["tx", "sign", "--keystore", keystore, "--password-file", pw, json])
            XCTAssertEqual(result.status, 0, "\(json): \(result.stderr)")
            var fields = tx
            if fields["type"] == nil { fields["type"] = 2 }
            if fields["to"] is NSNull { fields["to"] = nil }
            for (k, v) in fields { if let n = v as? Int, k != "type" { fields[k] = String(n) } }
            requests.append(["op": "sign_tx", "key": "0x" + String(repeating: "46", count: 32), "tx": fields,
                             "ours": result.stdout.trimmingCharacters(in: .newlines)])
        }
        let answers = try signOracle(requests)
        for (i, answer) in answers.enumerated() {
            XCTAssertEqual(answer["raw"] as? String, requests[i]["ours"] as? String, "case \(i): \(answer)")
            XCTAssertEqual(answer["ours_sender"] as? String, "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F")
        }
    }

    func testBadInputIsOneLineNamingTheProblem() throws {
        let s = try KeysScratch("txbad")
        let (keystore, pw) = try makeKeystore(s)
        let to = "\"to\":\"0x3535353535353535353535353535353535353535\""
        let cases: [(String, String)] = [
            ("{\"chainId\":1,", "bad JSON"),
            ("[1,2]", "expected an object"),
            ("{\"chainId\":1,\"nonce\":0,\"maxFeePerGas\":1,\"maxPriorityFeePerGas\":1,\(to)}", "missing field gas"),
            ("{\"chainId\":1,\"nonce\":0,\"gasLimit\":21000,\"maxFeePerGas\":1,\"maxPriorityFeePerGas\":1,\(to)}", "unknown field \"gasLimit\""),
            ("{\"type\":0,\"chainId\":1,\"nonce\":0,\"gas\":21000,\"maxFeePerGas\":1,\(to)}", "maxFeePerGas does not belong"),
            ("{\"type\":2,\"chainId\":1,\"nonce\":0,\"gas\":21000,\"gasPrice\":1,\(to)}", "gasPrice does not belong"),
            ("{\"type\":3,\"chainId\":1,\"nonce\":0,\"gas\":21000,\"gasPrice\":1,\(to)}", "not 0, 1 or 2"),
            ("{\"chainId\":1,\"nonce\":0,\"gas\":21000,\"maxFeePerGas\":1e30,\"maxPriorityFeePerGas\":1,\(to)}", "maxFeePerGas"),
            ("{\"chainId\":1,\"nonce\":0,\"gas\":21000,\"maxFeePerGas\":1.5,\"maxPriorityFeePerGas\":1,\(to)}", "maxFeePerGas"),
            ("{\"chainId\":1,\"nonce\":-1,\"gas\":21000,\"maxFeePerGas\":1,\"maxPriorityFeePerGas\":1,\(to)}", "nonce"),
            ("{\"chainId\":1,\"nonce\":0,\"gas\":21000,\"maxFeePerGas\":1,\"maxPriorityFeePerGas\":2,\(to)}", "maxPriorityFeePerGas"),
            ("{\"chainId\":0,\"nonce\":0,\"gas\":21000,\"maxFeePerGas\":1,\"maxPriorityFeePerGas\":1,\(to)}", "chainId"),
            ("{\"chainId\":1,\"nonce\":0,\"gas\":21000,\"maxFeePerGas\":1,\"maxPriorityFeePerGas\":1}", "contract creation"),
            ("{\"chainId\":1,\"nonce\":0,\"gas\":21000,\"maxFeePerGas\":1,\"maxPriorityFeePerGas\":1,\"to\":\"0x35353535\"}", "field to"),
            ("{\"chainId\":1,\"nonce\":0,\"gas\":21000,\"maxFeePerGas\":1,\"maxPriorityFeePerGas\":1,\(to),\"data\":\"0xabc\"}", "field data"),
            ("{\"chainId\":1,\"nonce\":0,\"gas\":21000,\"maxFeePerGas\":1,\"maxPriorityFeePerGas\":1,\(to),\"accessList\":[{\"address\":\"0x00\"}]}", "accessList[0].address"),
        ]
        for (json, expected) in cases {
            assertCLIFailure(try KeeperProcess.run(["tx", "sign", "--keystore", keystore, "--password-file", pw, json]), contains: expected)
        }
        let wrong = try s.file("wrong", "nope\n")
        assertCLIFailure(try KeeperProcess.run(["tx", "sign", "--keystore", keystore, "--password-file", wrong,
                                                "{\"chainId\":1,\"nonce\":0,\"gas\":21000,\"maxFeePerGas\":1,\"maxPriorityFeePerGas\":1,\(to)}"]),
                         contains: "wrong password")
    }

    /// Runs Tests/Support/sign_oracle.py (eth-account); fails, never skips, without Python.
    func signOracle(_ requests: [[String: Any]]) throws -> [[String: Any]] {
        try PythonOracle.ask("sign_oracle.py", requests)
    }
}
