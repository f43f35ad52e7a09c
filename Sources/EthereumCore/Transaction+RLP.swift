/// Signing payloads, raw encodings, hashes and strict decoding of transactions
/// (legacy + EIP-155, EIP-2718 typed envelopes: EIP-2930 type 1, EIP-1559 type 2).
extension Transaction {
    /// The RLP list of this transaction's fields (followed by `tail`: the EIP-155 suffix or a signature),
    /// split around `data` so large calldata is hashed in place and copied at most once.
    fileprivate func encoding(tail: [RLPItem]) -> TransactionEncoding {
        let to: RLPItem = self.to.map { .address($0) } ?? .bytes([])
        var head: [RLPItem]
        var tailItems: [RLPItem] = []
        switch kind {
        case let .legacy(gasPrice):
            head = [.uint(nonce), .uint(gasPrice), .uint(gasLimit), to, .uint(value)]
        case let .accessList(gasPrice, list):
            head = [.uint(chainId), .uint(nonce), .uint(gasPrice), .uint(gasLimit), to, .uint(value)]
            tailItems = [AccessListEntry.rlpItem(list)]
        case let .dynamicFee(priority, cap, list):
            head = [.uint(chainId), .uint(nonce), .uint(priority), .uint(cap), .uint(gasLimit), to, .uint(value)]
            tailItems = [AccessListEntry.rlpItem(list)]
        }
        tailItems += tail
        var headBytes: [UInt8] = []
        headBytes.reserveCapacity(160)
        for item in head { RLP.append(item, to: &headBytes) }
        // `data` as an RLP string: a single byte below 0x80 is its own encoding; otherwise a length header.
        if !(data.count == 1 && data[0] < 0x80) { RLP.appendHeader(length: data.count, short: 0x80, to: &headBytes) }
        var suffix: [UInt8] = []
        for item in tailItems { RLP.append(item, to: &suffix) }
        var prefix: [UInt8] = []
        prefix.reserveCapacity(headBytes.count + 10)
        if type != 0 { prefix.append(type) }
        RLP.appendHeader(length: headBytes.count + data.count + suffix.count, short: 0xc0, to: &prefix)
        prefix += headBytes
        return TransactionEncoding(prefix: prefix, data: data, suffix: suffix)
    }

    /// The EIP-155 suffix `[chainId, 0, 0]` of a legacy signing payload (none for chain id 0 or typed transactions).
    private var unsignedTail: [RLPItem] {
        if case .legacy = kind, chainId != 0 { return [.uint(chainId), .bytes([]), .bytes([])] }
        return []
    }

    /// The bytes whose Keccak-256 is signed: EIP-155 `rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0])`
    /// for legacy (the six-field form when chainId is 0), `type || rlp([...])` for typed transactions (EIP-2718).
    public var signingPayload: [UInt8] { encoding(tail: unsignedTail).bytes }

    /// Keccak-256 of the signing payload: the digest the sender signs (hashed without building the payload).
    public var signingHash: Bytes32 { encoding(tail: unsignedTail).keccak256() }
}

/// An RLP transaction encoding as three pieces: everything before the calldata, the calldata, everything after.
fileprivate struct TransactionEncoding {
    let prefix: [UInt8]
    let data: [UInt8]
    let suffix: [UInt8]

    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(prefix.count + data.count + suffix.count)
        out += prefix
        out += data
        out += suffix
        return out
    }

    func keccak256() -> Bytes32 {
        var hasher = Keccak256()
        hasher.update(prefix)
        hasher.update(data)
        hasher.update(suffix)
        return hasher.finalize()
    }
}

extension SignedTransaction {
    private var signedEncoding: TransactionEncoding {
        let parity: RLPItem = if case .legacy = transaction.kind { .uint(v) } else { .uint(UInt64(yParity)) }
        return transaction.encoding(tail: [parity, .uint(r), .uint(s)])
    }

    /// The canonical raw transaction as sent to `eth_sendRawTransaction`.
    public var rawBytes: [UInt8] { signedEncoding.bytes }

    /// The transaction hash: Keccak-256 of the raw bytes.
    public var hash: Bytes32 { signedEncoding.keccak256() }

    /// Decodes a raw signed transaction (legacy or typed 1/2), strictly: canonical RLP, exact field counts,
    /// canonical integers, 20-byte or empty `to`, yParity 0/1, r and s in range with low s. Errors name the field.
    /// The sender is recovered by `EthereumSigning` (`recoverSender()`).
    public static func decode(_ raw: [UInt8]) throws(EthereumCoreError) -> SignedTransaction {
        guard let first = raw.first else { throw .invalidRLP(reason: "empty transaction", offset: 0) }
        if first >= 0xc0 { return try decodeLegacy(raw) }
        guard first == 1 || first == 2 else {
            throw .invalidRLP(reason: "unsupported transaction type 0x\(Hex.encode([first], prefix: false))", offset: 0)
        }
        let fields = try RLP.decode(Array(raw.dropFirst())).list("transaction")
        let expected = first == 1 ? 11 : 12
        guard fields.count == expected else {
            throw .invalidRLP(reason: "type \(first) transaction: expected \(expected) fields, got \(fields.count)", offset: 1)
        }
        let chainId = try fields[0].uint64("chainId")
        let nonce = try fields[1].uint64("nonce")
        var i = 2
        let kind: Transaction.Kind
        if first == 1 {
            let gasPrice = try fields[2].uint256("gasPrice")
            let list = try AccessListEntry.decodeList(fields[7])
            kind = .accessList(gasPrice: gasPrice, accessList: list)
            i = 3
        } else {
            let priority = try fields[2].uint256("maxPriorityFeePerGas")
            let cap = try fields[3].uint256("maxFeePerGas")
            let list = try AccessListEntry.decodeList(fields[8])
            kind = .dynamicFee(maxPriorityFeePerGas: priority, maxFeePerGas: cap, accessList: list)
            i = 4
        }
        let gasLimit = try fields[i].uint64("gas")
        let to = try decodeTo(fields[i + 1])
        let value = try fields[i + 2].uint256("value")
        let data = try fields[i + 3].bytes("data")
        let parity = try fields[i + 5].uint64("yParity")
        guard parity <= 1 else { throw .invalidRLP(reason: "yParity: expected 0 or 1, got \(parity)", offset: 0) }
        let tx = Transaction(kind: kind, chainId: chainId, nonce: nonce, gasLimit: gasLimit, to: to, value: value, data: data)
        return try SignedTransaction(transaction: tx, yParity: UInt8(parity),
                                     r: try fields[i + 6].uint256("r"), s: try fields[i + 7].uint256("s"))
    }

    private static func decodeLegacy(_ raw: [UInt8]) throws(EthereumCoreError) -> SignedTransaction {
        let fields = try RLP.decode(raw).list("transaction")
        guard fields.count == 9 else {
            throw .invalidRLP(reason: "legacy transaction: expected 9 fields, got \(fields.count)", offset: 0)
        }
        let v = try fields[6].uint256("v")
        let chainId: UInt64
        let parity: UInt8
        if v == UInt256(27) || v == UInt256(28) {
            chainId = 0
            parity = UInt8(v.l0 - 27)
        } else if v >= UInt256(37) {
            let (q, rem) = (v - UInt256(35)).quotientAndRemainder(dividingBy: 2 as UInt64)
            guard let id = q.uint64 else { throw .invalidRLP(reason: "v: chain id exceeds 64 bits", offset: 0) }
            chainId = id
            parity = UInt8(rem)
        } else {
            throw .invalidRLP(reason: "v: \(v) is neither 27/28 nor EIP-155 (35 + 2·chainId + parity)", offset: 0)
        }
        let tx = Transaction(kind: .legacy(gasPrice: try fields[1].uint256("gasPrice")), chainId: chainId,
                             nonce: try fields[0].uint64("nonce"), gasLimit: try fields[2].uint64("gas"),
                             to: try decodeTo(fields[3]), value: try fields[4].uint256("value"), data: try fields[5].bytes("data"))
        return try SignedTransaction(transaction: tx, yParity: parity, r: try fields[7].uint256("r"), s: try fields[8].uint256("s"))
    }

    private static func decodeTo(_ item: RLPItem) throws(EthereumCoreError) -> Address? {
        let b = try item.bytes("to")
        if b.isEmpty { return nil }
        guard b.count == 20 else { throw .invalidRLP(reason: "to: expected 20 bytes or empty, got \(b.count)", offset: 0) }
        return try Address(b)
    }
}
