import EthereumABI
import EthereumCore
import KeeperTesting

/// Seeded random ABI types and values for the differential and mutation tests.
struct ABIRandom {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

    mutating func type(depth: Int = 0) -> ABIType {
        let r = Double.random(in: 0..<1, using: &rng)
        if depth >= 3 || r < 0.55 {
            switch int(0...6) {
            case 0: return .uint(bits: 8 * int(1...32))
            case 1: return .int(bits: 8 * int(1...32))
            case 2: return .address
            case 3: return .bool
            case 4: return .fixedBytes(count: int(1...32))
            case 5: return .bytes
            default: return .string
            }
        }
        if r < 0.7 { return .fixedArray(type(depth: depth + 1), count: int(1...3)) }
        if r < 0.85 { return .array(type(depth: depth + 1)) }
        return .tuple((0..<int(1...4)).map { _ in type(depth: depth + 1) })
    }

    mutating func word() -> UInt256 {
        UInt256(l0: rng.next(), l1: rng.next(), l2: rng.next(), l3: rng.next())
    }

    mutating func value(_ t: ABIType) -> ABIValue {
        switch t {
        case let .uint(bits):
            switch int(0...3) {
            case 0: return .uint(.zero)
            case 1: return .uint(UInt256.max >> (256 - bits))
            default: return .uint(word() >> (256 - bits))
            }
        case let .int(bits):
            let mag = word() >> (257 - bits)  // < 2^(bits-1)
            switch int(0...4) {
            case 0: return .int(Int256(bitPattern: ~(UInt256.max >> (256 - bits)) | (UInt256.one << (bits - 1))))  // min
            case 1: return .int(try! Int256(negative: false, magnitude: UInt256.max >> (257 - bits)))  // max
            case 2: return .int(try! Int256(negative: true, magnitude: mag))
            default: return .int(try! Int256(negative: false, magnitude: mag))
            }
        case .address:
            return .address(Address(lowBytesOf: word().word))
        case .bool:
            return .bool(chance(0.5))
        case let .fixedBytes(n):
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            return ABIValue.fixedBytes(bytes)!
        case .bytes:
            let n = [0, 1, 31, 32, 33, int(0...70)][int(0...5)]
            return .bytes((0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) })
        case .string:
            let alphabet: [Character] = ["a", "Z", " ", "\"", "\\", "\n", "é", "中", "😀", "/", "\u{1}"]
            return .string(String((0..<int(0...40)).map { _ in alphabet[int(0...alphabet.count - 1)] }))
        case let .fixedArray(e, n):
            return .array(ABIList((0..<n).map { _ in value(e) }))
        case let .array(e):
            return .array(ABIList((0..<int(0...3)).map { _ in value(e) }))
        case let .tuple(ts):
            return .tuple(ABIList(ts.map { value($0) }))
        }
    }
}
