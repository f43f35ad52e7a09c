import EthereumCore
import KeeperCore
import KeeperIngest
import KeeperPlanning
import KeeperStore

/// The next nonce, derived from the journal and the chain — never from a counter that could drift.
///
/// `next = max(latest, highest open journaled nonce + 1)`: with nothing in flight the chain's `latest`
/// count wins, so a local view that ran ahead (a dropped transaction, an operator's send, a reorg) is
/// repaired by construction. Journaled-but-unmined transactions keep their nonces reserved; the
/// `TransactionManager` reconciles them with the chain (rebroadcast, replace, supersede) before any new
/// batch is sent in the same poll.
public enum NonceManager {
    /// The nonce for a new transaction.
    public static func next(latest: UInt64, openNonces: [UInt64]) -> UInt64 {
        guard let top = openNonces.max() else { return latest }
        return max(latest, top &+ 1)
    }

    /// A gap: an open nonce above `latest` whose predecessors are neither open nor mined (a tx that can never
    /// be included until the gap is filled). Returns the first missing nonce, if any.
    public static func gap(latest: UInt64, openNonces: [UInt64]) -> UInt64? {
        var expected = latest
        for n in openNonces.sorted() where n >= latest {
            if n != expected { return expected }
            expected = n &+ 1
        }
        return nil
    }
}
