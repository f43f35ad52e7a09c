/// One entry of an EIP-2930 access list: an address and the storage slots a transaction declares it will touch.
public struct AccessListEntry: Hashable, Sendable {
    /// The account.
    public var address: Address
    /// Its storage keys, in the order given.
    public var storageKeys: [Bytes32]

    /// An entry for `address` with `storageKeys`.
    public init(address: Address, storageKeys: [Bytes32] = []) {
        self.address = address
        self.storageKeys = storageKeys
    }
}

/// RLP of access lists (EIP-2930: `[[address, [storageKey, …]], …]`).
extension AccessListEntry {
    /// The RLP item `[address, [keys…]]`.
    public var rlpItem: RLPItem {
        .list([.address(address), .list(storageKeys.map { .bytes($0.bytes) })])
    }

    /// The RLP list of a whole access list.
    public static func rlpItem(_ list: [AccessListEntry]) -> RLPItem { .list(list.map(\.rlpItem)) }

    /// Decodes an access list, strictly: each entry has exactly two items, a 20-byte address and 32-byte keys.
    public static func decodeList(_ item: RLPItem, field: String = "accessList") throws(EthereumCoreError) -> [AccessListEntry] {
        var out: [AccessListEntry] = []
        for (i, entry) in try item.list(field).enumerated() {
            let parts = try entry.list("\(field)[\(i)]")
            guard parts.count == 2 else {
                throw .invalidRLP(reason: "\(field)[\(i)]: expected 2 items (address, storageKeys), got \(parts.count)", offset: 0)
            }
            let addressBytes = try parts[0].bytes("\(field)[\(i)].address")
            guard addressBytes.count == 20 else {
                throw .invalidRLP(reason: "\(field)[\(i)].address: expected 20 bytes, got \(addressBytes.count)", offset: 0)
            }
            var keys: [Bytes32] = []
            for (k, key) in try parts[1].list("\(field)[\(i)].storageKeys").enumerated() {
                let b = try key.bytes("\(field)[\(i)].storageKeys[\(k)]")
                guard b.count == 32 else {
                    throw .invalidRLP(reason: "\(field)[\(i)].storageKeys[\(k)]: expected 32 bytes, got \(b.count)", offset: 0)
                }
                keys.append(try Bytes32(b))
            }
            out.append(AccessListEntry(address: try Address(addressBytes), storageKeys: keys))
        }
        return out
    }
}
