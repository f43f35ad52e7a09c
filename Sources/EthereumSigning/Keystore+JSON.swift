import EthereumCore
import Foundation

/// Reading and writing the keystore's JSON form. Errors name the JSON path of the offending field.
extension Keystore {
    /// Largest keystore file accepted (real ones are under 1 KiB).
    public static let maxJSONBytes = 64 * 1024

    /// Parses keystore JSON (version 3; `crypto` or geth's legacy `Crypto`; hex with or without `0x`).
    public static func parse(json: [UInt8]) throws(SigningError) -> Keystore {
        guard json.count <= maxJSONBytes else {
            throw .corruptKeystore(field: "file", reason: "\(json.count) bytes exceeds the \(maxJSONBytes)-byte limit for a keystore")
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(json))
        } catch {
            throw .corruptKeystore(field: "file", reason: "not valid JSON (truncated or malformed)")
        }
        guard let root = parsed as? [String: Any] else { throw .corruptKeystore(field: "file", reason: "not a JSON object") }
        let version = try integer(root["version"], "version")
        guard version == 3 else { throw .unsupportedKeystore(field: "version", value: String(version)) }
        guard let crypto = (root["crypto"] ?? root["Crypto"]) as? [String: Any] else {
            throw .corruptKeystore(field: "crypto", reason: "missing or not an object")
        }
        let cipher = try string(crypto["cipher"], "crypto.cipher")
        guard cipher == "aes-128-ctr" else { throw .unsupportedKeystore(field: "crypto.cipher", value: cipher) }
        guard let cipherparams = crypto["cipherparams"] as? [String: Any] else {
            throw .corruptKeystore(field: "crypto.cipherparams", reason: "missing or not an object")
        }
        let iv = try hex(cipherparams["iv"], "crypto.cipherparams.iv")
        guard iv.count == 16 else { throw .corruptKeystore(field: "crypto.cipherparams.iv", reason: "expected 16 bytes, got \(iv.count)") }
        let ciphertext = try hex(crypto["ciphertext"], "crypto.ciphertext")
        guard ciphertext.count == 32 else {
            throw .corruptKeystore(field: "crypto.ciphertext", reason: "expected 32 bytes, got \(ciphertext.count)")
        }
        let macBytes = try hex(crypto["mac"], "crypto.mac")
        guard macBytes.count == 32, let mac = try? Bytes32(macBytes) else {
            throw .corruptKeystore(field: "crypto.mac", reason: "expected 32 bytes, got \(macBytes.count)")
        }
        let kdfName = try string(crypto["kdf"], "crypto.kdf")
        guard let params = crypto["kdfparams"] as? [String: Any] else {
            throw .corruptKeystore(field: "crypto.kdfparams", reason: "missing or not an object")
        }
        let kdf: KDF
        switch kdfName {
        case "scrypt":
            kdf = .scrypt(n: try integer(params["n"], "crypto.kdfparams.n"), r: try integer(params["r"], "crypto.kdfparams.r"),
                          p: try integer(params["p"], "crypto.kdfparams.p"))
        case "pbkdf2":
            let prf = try string(params["prf"], "crypto.kdfparams.prf")
            guard prf == "hmac-sha256" else { throw .unsupportedKeystore(field: "crypto.kdfparams.prf", value: prf) }
            kdf = .pbkdf2(c: try integer(params["c"], "crypto.kdfparams.c"))
        default:
            throw .unsupportedKeystore(field: "crypto.kdf", value: kdfName)
        }
        let dklen = try integer(params["dklen"], "crypto.kdfparams.dklen")
        let salt = try hex(params["salt"], "crypto.kdfparams.salt")
        var address: Address?
        if let field = root["address"], !(field is NSNull) {
            let text = try string(field, "address")
            let bytes = try hexBytes(text, "address")
            guard bytes.count == 20, let a = try? Address(bytes) else {
                throw .corruptKeystore(field: "address", reason: "expected 20 bytes, got \(bytes.count)")
            }
            address = a
        }
        let id = root["id"] as? String
        return Keystore(kdf: kdf, dklen: dklen, salt: salt, iv: iv, ciphertext: ciphertext, mac: mac, address: address, id: id)
    }

    /// The keystore as JSON in the layout go-ethereum writes (lowercase hex without `0x`, address included).
    public var jsonText: String {
        let kdfJSON: String
        switch kdf {
        case let .scrypt(n, r, p):
            kdfJSON = "\"kdf\":\"scrypt\",\"kdfparams\":{\"dklen\":\(dklen),\"n\":\(n),\"p\":\(p),\"r\":\(r),\"salt\":\"\(Hex.encode(salt, prefix: false))\"}"
        case let .pbkdf2(c):
            kdfJSON = "\"kdf\":\"pbkdf2\",\"kdfparams\":{\"c\":\(c),\"dklen\":\(dklen),\"prf\":\"hmac-sha256\",\"salt\":\"\(Hex.encode(salt, prefix: false))\"}"
        }
        var fields: [String] = []
        if let address { fields.append("\"address\":\"\(Hex.encode(address.bytes, prefix: false))\"") }
        fields.append("\"crypto\":{\"cipher\":\"aes-128-ctr\",\"ciphertext\":\"\(Hex.encode(ciphertext, prefix: false))\","
                      + "\"cipherparams\":{\"iv\":\"\(Hex.encode(iv, prefix: false))\"},\(kdfJSON),"
                      + "\"mac\":\"\(Hex.encode(mac.bytes, prefix: false))\"}")
        if let id { fields.append("\"id\":\"\(Keystore.escape(id))\"") }
        fields.append("\"version\":3")
        return "{" + fields.joined(separator: ",") + "}"
    }

    private static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func string(_ value: Any?, _ field: String) throws(SigningError) -> String {
        guard let value else { throw .corruptKeystore(field: field, reason: "missing") }
        guard let s = value as? String else { throw .corruptKeystore(field: field, reason: "not a string") }
        return s
    }

    private static func integer(_ value: Any?, _ field: String) throws(SigningError) -> Int {
        guard let value else { throw .corruptKeystore(field: field, reason: "missing") }
        guard !(value is String), let number = value as? NSNumber else {
            throw .corruptKeystore(field: field, reason: "not a number")
        }
        let d = number.doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) < 9.0e15, let i = Int(exactly: d) else {
            throw .corruptKeystore(field: field, reason: "not an integer in range")
        }
        return i
    }

    private static func hex(_ value: Any?, _ field: String) throws(SigningError) -> [UInt8] {
        try hexBytes(try string(value, field), field)
    }

    private static func hexBytes(_ text: String, _ field: String) throws(SigningError) -> [UInt8] {
        do {
            return try Hex.decode(text, requirePrefix: false)
        } catch {
            throw .corruptKeystore(field: field, reason: error.description)
        }
    }
}
