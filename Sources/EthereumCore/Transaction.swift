/// An unsigned Ethereum transaction of one of the three envelope types the keeper signs:
/// legacy with EIP-155 replay protection, EIP-2930 (type 1) and EIP-1559 (type 2).
/// A pure value: its signing payload, raw encoding and hash live in `Transaction+RLP.swift`.
public struct Transaction: Hashable, Sendable {
    /// The envelope type and the fields only that type has.
    public enum Kind: Hashable, Sendable {
        /// Type 0 (legacy), signed with EIP-155 replay protection.
        case legacy(gasPrice: UInt256)
        /// Type 1 (EIP-2930): legacy fees plus an access list.
        case accessList(gasPrice: UInt256, accessList: [AccessListEntry])
        /// Type 2 (EIP-1559): priority fee and fee cap, plus an access list.
        case dynamicFee(maxPriorityFeePerGas: UInt256, maxFeePerGas: UInt256, accessList: [AccessListEntry])
    }

    /// Type and fee fields.
    public var kind: Kind
    /// The chain id (EIP-155). 0 only on a decoded pre-EIP-155 legacy transaction, which is never signed here.
    public var chainId: UInt64
    /// The sender's nonce.
    public var nonce: UInt64
    /// The gas limit.
    public var gasLimit: UInt64
    /// The recipient, or nil for a contract creation.
    public var to: Address?
    /// Wei sent with the call.
    public var value: UInt256
    /// Calldata, or init code for a contract creation.
    public var data: [UInt8]

    /// A transaction from all of its fields.
    public init(kind: Kind, chainId: UInt64, nonce: UInt64, gasLimit: UInt64, to: Address?, value: UInt256 = .zero, data: [UInt8] = []) {
        self.kind = kind
        self.chainId = chainId
        self.nonce = nonce
        self.gasLimit = gasLimit
        self.to = to
        self.value = value
        self.data = data
    }

    /// The envelope type byte: 0, 1 or 2.
    public var type: UInt8 {
        switch kind {
        case .legacy: return 0
        case .accessList: return 1
        case .dynamicFee: return 2
        }
    }

    /// The access list (empty for legacy).
    public var accessList: [AccessListEntry] {
        switch kind {
        case .legacy: return []
        case let .accessList(_, list), let .dynamicFee(_, _, list): return list
        }
    }

    /// True when `to` is nil: the transaction deploys `data` as init code.
    public var isContractCreation: Bool { to == nil }

    /// The least gas any transaction needs (the intrinsic cost of a plain transfer).
    public static let minimumGasLimit: UInt64 = 21_000
    /// Largest init code a contract creation may carry (EIP-3860: 2 × 24576 bytes).
    public static let maxInitCodeSize = 49_152

    /// Checks the fields a node would reject before the transaction is signed: a chain id of at least 1
    /// (EIP-155), a nonce below 2^64 - 1 (EIP-2681), a gas limit of at least 21000, a priority fee no
    /// larger than the fee cap (EIP-1559), and init code within the EIP-3860 limit.
    public func validate() throws(EthereumCoreError) {
        guard chainId >= 1 else {
            throw .invalidNumber(text: "chainId \(chainId)", reason: "must be at least 1 (EIP-155 replay protection)")
        }
        guard nonce < UInt64.max else {
            throw .invalidNumber(text: "nonce \(nonce)", reason: "must be below 2^64-1 (EIP-2681)")
        }
        guard gasLimit >= Self.minimumGasLimit else {
            throw .invalidNumber(text: "gas \(gasLimit)", reason: "below the intrinsic minimum of \(Self.minimumGasLimit)")
        }
        if case let .dynamicFee(priority, cap, _) = kind, priority > cap {
            throw .invalidNumber(text: "maxPriorityFeePerGas \(priority)", reason: "exceeds maxFeePerGas \(cap) (EIP-1559)")
        }
        if to == nil && data.count > Self.maxInitCodeSize {
            throw .invalidNumber(text: "data (\(data.count) bytes of init code)", reason: "exceeds \(Self.maxInitCodeSize) bytes (EIP-3860)")
        }
    }
}

/// A transaction with its secp256k1 signature (yParity, r, s), as it travels on the wire.
public struct SignedTransaction: Hashable, Sendable {
    /// The signed fields.
    public let transaction: Transaction
    /// The recovery id of the signature: 0 or 1.
    public let yParity: UInt8
    /// The signature's r.
    public let r: UInt256
    /// The signature's s (always in the lower half of the curve order: EIP-2).
    public let s: UInt256

    /// The secp256k1 group order n.
    public static let curveOrder = UInt256(l0: 0xBFD25E8CD0364141, l1: 0xBAAEDCE6AF48A03B, l2: 0xFFFFFFFFFFFFFFFE, l3: 0xFFFFFFFFFFFFFFFF)
    /// n / 2: the largest s EIP-2 allows.
    public static let halfCurveOrder = UInt256(l0: 0xDFE92F46681B20A0, l1: 0x5D576E7357A4501D, l2: 0xFFFFFFFFFFFFFFFF, l3: 0x7FFFFFFFFFFFFFFF)

    /// Attaches a signature; rejects a parity other than 0/1, r or s of 0 or ≥ n, and a high s (EIP-2).
    public init(transaction: Transaction, yParity: UInt8, r: UInt256, s: UInt256) throws(EthereumCoreError) {
        guard yParity <= 1 else { throw .invalidNumber(text: "yParity \(yParity)", reason: "must be 0 or 1") }
        guard !r.isZero, r < Self.curveOrder else { throw .invalidNumber(text: "signature r", reason: "must be in 1..<n") }
        guard !s.isZero, s <= Self.halfCurveOrder else {
            throw .invalidNumber(text: "signature s", reason: "must be in 1...n/2 (EIP-2 low-s)")
        }
        self.transaction = transaction
        self.yParity = yParity
        self.r = r
        self.s = s
    }

    /// The `v` value as encoded: yParity for typed transactions, 35 + 2·chainId + yParity for EIP-155
    /// legacy, 27 + yParity for pre-EIP-155 legacy.
    public var v: UInt256 {
        guard case .legacy = transaction.kind else { return UInt256(UInt64(yParity)) }
        if transaction.chainId == 0 { return UInt256(27 + UInt64(yParity)) }
        return UInt256(transaction.chainId) + UInt256(transaction.chainId) + UInt256(35 + UInt64(yParity))
    }
}
