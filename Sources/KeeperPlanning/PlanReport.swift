// KeeperPlanning — what the keeper would do and what it did: `plan` (batches simulated against the chain, the
// per-claim diagnosis the submitter also uses), `status` and `registrations` reports, and the strict `audit`
// from chain data alone. Imports KeeperCore, KeeperIngest (event decoding, the contribution rule), KeeperStore.
import EthereumABI
import EthereumCore
import Foundation
import KeeperCore
import KeeperIngest
import KeeperStore

/// `plan`: the batches the submitter would send now, each simulated with `eth_call` against the live chain.
public struct PlanReport: Sendable {
    /// One simulated batch.
    public struct Batch: Sendable {
        /// The pending intents in this batch, in claim order (at most `max_batch`).
        public var intents: [RouteIntent]
        /// Length in bytes of the batch's calldata (`route(claims)`, or `route_proven(…)` with its proofs).
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
        let calls = RouteCalls(config: config, chain: chain)
        var batches: [Batch] = []
        var start = 0
        while start < pending.count {
            let candidates = Array(pending[start..<min(pending.count, start + config.keeper.maxBatch)])
            let built = try await calls.build(candidates)
            // What a proven call could not hold waits for the next batch; a claim that cannot be proven is reported.
            let next = candidates.firstIndex { c in !built.included.contains(c) && !built.held.contains { $0.intent == c } } ?? candidates.count
            start += max(1, min(candidates.count, next))
            let intents = built.included
            let data = built.data
            var expected = UInt256.zero
            for i in intents { expected = expected.addingReportingOverflow(i.expected).partialValue }
            var b = Batch(intents: intents, calldataSize: data.count, expectedTotal: expected, simulatedTotal: nil, revert: nil,
                          skips: built.held.map { ($0.intent.claim, $0.reason) }, estimatedGas: nil, gasError: nil)
            if intents.isEmpty { batches.append(b); continue }
            switch try await chain.call(from: from, to: config.contracts.treasury, data: data) {
            case let .reverted(message, _):
                b.revert = message
            case let .returned(out):
                let total = (try? ABIDecoder.decode([.uint256], from: out)).flatMap { v -> UInt256? in
                    if case let .uint(x)? = v.first { return x }; return nil
                }
                b.simulatedTotal = total
                if total != expected {
                    b.skips += try await diagnose(intents, treasury: config.contracts.treasury, from: from, chain: chain, calls: calls)
                }
                do { b.estimatedGas = try await chain.estimateGas(from: from, to: config.contracts.treasury, data: data) } catch {
                    b.gasError = "\(error)"
                }
            }
            batches.append(b)
        }
        return PlanReport(batches: batches, simulateFrom: from)
    }

    /// Simulates each claim alone from `from` and names, in words, why the treasury would not route those that
    /// pull less than their contribution: the call reverts, the staker is not registered on chain now, the claim
    /// predates the registration, the staker gave no allowance, an allowance below the contribution, a balance
    /// below it — or, when none of these holds, what it would pull instead (e.g. already routed). Used by
    /// `plan` and by the submitter before it sends a batch.
    public static func diagnose(_ intents: [RouteIntent], treasury: Address, from: Address?,
                                chain: any ChainReader, calls: RouteCalls) async throws -> [(claim: LogPosition, reason: String)] {
        var out: [(LogPosition, String)] = []
        var token: Address??
        for i in intents {
            let built = try await calls.build([i])
            guard !built.included.isEmpty else {
                out.append((i.claim, built.held.first?.reason ?? "cannot be put in a call"))
                continue
            }
            let pulled: UInt256?
            switch try await chain.call(from: from, to: treasury, data: built.data) {
            case let .reverted(message, _): out.append((i.claim, "reverts alone: \(message)")); continue
            case let .returned(data):
                pulled = (try? ABIDecoder.decode([.uint256], from: data)).flatMap { v -> UInt256? in if case let .uint(x)? = v.first { return x }; return nil }
            }
            if pulled == i.expected { continue }
            out.append((i.claim, try await reason(i, pulled: pulled, treasury: treasury, token: &token, chain: chain)))
        }
        return out
    }

    static func reason(_ i: RouteIntent, pulled: UInt256?, treasury: Address, token: inout Address??,
                       chain: any ChainReader) async throws -> String {
        if case let .returned(reg) = try await chain.call(from: nil, to: treasury, data: try Bindings.registration.encodeCall([.address(i.staker)])),
           let v = try? ABIDecoder.decode([.uint(bits: 16), .uint(bits: 64)], from: reg),
           case let .uint(share) = v[0], case let .uint(since) = v[1] {
            if share.isZero { return "NOT_REGISTERED (the staker is not registered on chain now)" }
            if since > UInt256(i.claim.block) { return "BEFORE_OPT_IN (registered since block \(since))" }
        }
        if token == nil { token = .some(try await Bindings.rewardToken(treasury: treasury, chain: chain)) }
        if let t = token ?? nil {
            func read(_ signature: String, _ args: [ABIValue]) async throws -> UInt256? {
                guard case let .returned(out) = try await chain.call(from: nil, to: t, data: try ABIFunction(signature: signature).encodeCall(args)),
                      case let .uint(x)? = try? ABIDecoder.decode([.uint256], from: out).first else { return nil }
                return x
            }
            if let allowance = try await read("allowance(address,address)", [.address(i.staker), .address(treasury)]), allowance < i.expected {
                return allowance.isZero ? "no allowance (the staker's allowance to the treasury is 0)"
                    : "allowance below the amount (allowance \(allowance) wei < contribution \(i.expected) wei)"
            }
            if let balance = try await read("balanceOf(address)", [.address(i.staker)]), balance < i.expected {
                return "balance below the amount (balance \(balance) wei < contribution \(i.expected) wei)"
            }
        }
        return "pulls \(pulled?.decimalString ?? "?") instead of \(i.expected.decimalString) (already routed, or the token refuses the transfer)"
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
