import EthereumABI
import EthereumCore
import Foundation
import KeeperStore

/// `plan`: the batches the submitter would send now, each simulated with `eth_call` against the live chain.
public struct PlanReport: Sendable {
    /// One simulated batch.
    public struct Batch: Sendable {
        /// The pending intents in this batch, in claim order (at most `max_batch`).
        public var intents: [RouteIntent]
        /// Length in bytes of the batch's `route(claims)` calldata.
        public var calldataSize: Int
        /// Sum of the intents' expected contributions, in wei.
        public var expectedTotal: UInt256
        /// `route`'s return value (total pulled) when the call did not revert.
        public var simulatedTotal: UInt256?
        /// The revert message when it reverted.
        public var revert: String?
        /// Claims the treasury would skip, with the reason found by a per-claim check.
        public var skips: [(claim: LogPosition, reason: String)]
        /// `eth_estimateGas` for the batch; nil when the call reverted or the estimate failed.
        public var estimatedGas: UInt64?
        /// Why the gas estimate failed; nil when it succeeded or was not attempted (the call reverted).
        public var gasError: String?
    }
    /// The batches in the order they would be sent; empty when nothing is pending.
    public var batches: [Batch]
    /// The `from` of every simulation (`simulate_from`); nil simulates without a sender.
    public var simulateFrom: Address?

    /// The calldata of `route(claims)` for `intents`.
    public static func calldata(_ intents: [RouteIntent]) throws -> [UInt8] {
        let claims = intents.map { i in
            ABIValue.tuple(ABIList([.address(i.staker), .uint(i.amount), .uint(UInt256(i.claim.block)), .uint(UInt256(UInt64(i.claim.logIndex))),
                                    .fixedBytes(i.blockHash, count: 32)]))
        }
        return try Bindings.route.encodeCall([.array(ABIList(claims))])
    }

    /// Plans from the store's pending intents (claim order, `max_batch` per batch) and simulates each batch.
    public static func make(config: KeeperConfig, store: KeeperStore, chain: any ChainReader) async throws -> PlanReport {
        let pending = try store.read { r in try r.intents(states: [.pending]) }
        let from = config.keeper.simulateFrom
        var batches: [Batch] = []
        var start = 0
        while start < pending.count {
            let intents = Array(pending[start..<min(pending.count, start + config.keeper.maxBatch)])
            start += intents.count
            let data = try calldata(intents)
            var expected = UInt256.zero
            for i in intents { expected = expected.addingReportingOverflow(i.expected).partialValue }
            var b = Batch(intents: intents, calldataSize: data.count, expectedTotal: expected, simulatedTotal: nil, revert: nil,
                          skips: [], estimatedGas: nil, gasError: nil)
            switch try await chain.call(from: from, to: config.contracts.treasury, data: data) {
            case let .reverted(message, _):
                b.revert = message
            case let .returned(out):
                let total = (try? ABIDecoder.decode([.uint256], from: out)).flatMap { v -> UInt256? in
                    if case let .uint(x)? = v.first { return x }; return nil
                }
                b.simulatedTotal = total
                if total != expected { b.skips = try await diagnose(intents, config: config, chain: chain) }
                do { b.estimatedGas = try await chain.estimateGas(from: from, to: config.contracts.treasury, data: data) } catch {
                    b.gasError = "\(error)"
                }
            }
            batches.append(b)
        }
        return PlanReport(batches: batches, simulateFrom: from)
    }

    /// Simulates each claim alone; for those that pull nothing (or less than expected), asks the treasury
    /// for the staker's registration to name the reason.
    static func diagnose(_ intents: [RouteIntent], config: KeeperConfig, chain: any ChainReader) async throws -> [(claim: LogPosition, reason: String)] {
        var out: [(LogPosition, String)] = []
        for i in intents {
            guard case let .returned(data) = try await chain.call(from: config.keeper.simulateFrom, to: config.contracts.treasury,
                                                                  data: try calldata([i])) else { continue }
            let pulled = (try? ABIDecoder.decode([.uint256], from: data)).flatMap { v -> UInt256? in if case let .uint(x)? = v.first { return x }; return nil }
            if pulled == i.expected { continue }
            var reason = "pulls \(pulled?.decimalString ?? "?") instead of \(i.expected.decimalString)"
            if case let .returned(reg) = try await chain.call(from: nil, to: config.contracts.treasury,
                                                              data: try Bindings.registration.encodeCall([.address(i.staker)])),
               let v = try? ABIDecoder.decode([.uint(bits: 16), .uint(bits: 64)], from: reg),
               case let .uint(share) = v[0], case let .uint(since) = v[1] {
                if share.isZero { reason = "NOT_REGISTERED (the staker is not registered on chain now)" }
                else if since > UInt256(i.claim.block) { reason = "BEFORE_OPT_IN (registered since block \(since))" }
                else if pulled?.isZero == true { reason = "already routed, or the transfer would fail (allowance/balance)" }
            }
            out.append((i.claim, reason))
        }
        return out
    }

    /// The JSON document.
    public var json: [String: Any] {
        ["simulate_from": JSONOut.orNull(simulateFrom?.checksummed), "batches": batches.map { b -> [String: Any] in
            ["claims": b.intents.map { i -> [String: Any] in
                ["staker": i.staker.checksummed, "claim_block": i.claim.block, "claim_log_index": Int(i.claim.logIndex),
                 "block_hash": i.blockHash.hexString, "reward": i.amount.decimalString, "share_bps": Int(i.shareBps),
                 "expected_contribution": i.expected.decimalString]
            },
             "calldata_bytes": b.calldataSize, "expected_total": b.expectedTotal.decimalString,
             "simulated_total": JSONOut.orNull(b.simulatedTotal?.decimalString), "reverted": JSONOut.orNull(b.revert),
             "would_skip": b.skips.map { ["claim_block": $0.claim.block, "claim_log_index": Int($0.claim.logIndex), "reason": $0.reason] },
             "estimated_gas": JSONOut.orNull(b.estimatedGas), "gas_error": JSONOut.orNull(b.gasError)]
        }]
    }

    /// The human table.
    public var text: String {
        if batches.isEmpty { return "nothing to route: no pending intents\n" }
        var out = ""
        for (n, b) in batches.enumerated() {
            out += "batch \(n + 1): \(b.intents.count) claim(s), calldata \(b.calldataSize) bytes, expected \(b.expectedTotal) wei, "
            if let r = b.revert { out += "eth_call REVERTS: \(r)\n" }
            else { out += "eth_call pulls \(b.simulatedTotal?.decimalString ?? "?") wei, gas \(b.estimatedGas.map(String.init) ?? "? (\(b.gasError ?? ""))")\n" }
            var t = TextTable(["staker", "claim", "reward_wei", "share_bps", "contribution_wei", "simulation"])
            for i in b.intents {
                let skip = b.skips.first { $0.claim == i.claim }
                t.add([i.staker.checksummed, "\(i.claim)", i.amount.decimalString, "\(i.shareBps)", i.expected.decimalString,
                       skip.map { "SKIP: \($0.reason)" } ?? (b.revert == nil ? "ok" : "-")])
            }
            out += t.render()
        }
        return out
    }
}
