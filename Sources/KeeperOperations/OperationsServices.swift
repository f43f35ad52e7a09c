import Dispatch
import EthereumCore
import Foundation
import KeeperCore
import KeeperIngest
import KeeperSubmission
#if canImport(Glibc)
import Glibc
#endif
import KeeperStore
import Logging
import ServiceLifecycle

extension EngineError {
    /// Whether this error halts ingestion for good (the operator must act): a reorg beyond the window or
    /// providers that disagree.
    public var isHalt: Bool {
        switch self {
        case .reorgTooDeep, .providerDisagreement: return true
        default: return false
        }
    }
}

/// Wraps the ingestion service: when it stops with a halting error, the process does not exit (systemd
/// would restart it into the same halt); it stays up for diagnosis, not ready, with `halted 1`,
/// `STATUS=halted: …` and the watchdog fed from this loop, until SIGTERM (an operator's restart). Any other error or a normal return passes through.
public final class HaltGuard: Service, Sendable {
    let inner: any Service
    let monitor: OperationsMonitor
    let interval: Duration
    let logger: Logger

    /// A guard around `inner` that reports to `monitor` and wakes every `interval` while halted.
    public init(_ inner: any Service, monitor: OperationsMonitor, interval: Duration, logger: Logger) {
        self.inner = inner; self.monitor = monitor; self.interval = interval; self.logger = logger
    }

    /// Runs the wrapped service; after a halt, stays up (fed, not ready) until graceful shutdown.
    public func run() async throws {
        do {
            try await inner.run()
        } catch let e as EngineError where e.isHalt {
            monitor.halted(e)
            logger.critical("ingestion halted; staying up for diagnosis (see deploy/docs/runbook.md)", metadata: ["error": "\(e)"])
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                monitor.haltedBeat()
                do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) } } catch { break }
            }
        }
    }
}

/// Samples what the poll loop does not see, on its own interval: the keeper's balance, nonce gap, pause
/// state and fee cap from the chain, and the journal's transaction counters and ages from the store.
/// Failures are logged at debug and leave the gauges as they were (the RPC metrics show the failure).
public final class OperationsSampler: Service, @unchecked Sendable {
    let monitor: OperationsMonitor
    let store: KeeperStore
    let chain: any SubmissionChain
    let reader: any ChainReader
    let settings: SubmissionSettings
    let treasury: Address
    let keeper: Address?
    let treasuryKind: KeeperConfig.TreasuryKind
    let interval: Duration
    let logger: Logger
    let started = Int64(Date().timeIntervalSince1970)
    var seenSettled = Set<Int64>()
    var sentCount: Int?
    var replacedCount: Int?

    /// A sampler; `keeper` is nil when no address is known (dry-run without a keystore).
    public init(monitor: OperationsMonitor, store: KeeperStore, chain: any SubmissionChain, reader: any ChainReader,
                settings: SubmissionSettings, treasury: Address, keeper: Address?, treasuryKind: KeeperConfig.TreasuryKind = .keeper,
                interval: Duration, logger: Logger) {
        self.monitor = monitor; self.store = store; self.chain = chain; self.reader = reader; self.settings = settings
        self.treasury = treasury; self.keeper = keeper; self.treasuryKind = treasuryKind; self.interval = interval; self.logger = logger
    }

    /// Runs until graceful shutdown.
    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // A sample waiting on a dead RPC must not hold up shutdown.
            await cancelWhenGracefulShutdown { await self.sampleOnce() }
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) } } catch { break }
        }
    }

    /// One sample (tests call it directly).
    public func sampleOnce() async {
        let m = monitor.metrics
        do {
            let journal = try store.read { r in try r.journal() }
            let now = Int64(Date().timeIntervalSince1970)
            let replaced = journal.filter { $0.replacedBy != nil }.count
            let sent = journal.count - replaced
            if sent > (sentCount ?? 0) { m.txSent.increment(by: sent - (sentCount ?? 0)) }
            if replaced > (replacedCount ?? 0) { m.txReplaced.increment(by: replaced - (replacedCount ?? 0)) }
            sentCount = sent; replacedCount = replaced
            for t in journal where (t.state == .mined || t.state == .confirmed) && !seenSettled.contains(t.id) {
                seenSettled.insert(t.id)
                // Confirmation time is measured to this sample (within `interval`); only for this process's sends.
                if t.createdAt >= started { m.txConfirm.recordSeconds(max(0, now - t.createdAt)) }
            }
            if treasuryKind == .proven {
                // How old the oldest claim still to route is, beside how far back the chain can verify one.
                let window = try await Bindings.verifiableWindow(chain: reader)
                let head = try await reader.head(.latest)
                let oldest = try store.read { r in try r.oldestWaitingClaimBlock() }
                m.provenVerifiableWindow.set(Double(window))
                m.provenOldestClaimAge.set(Double(oldest.map { head > $0 ? head - $0 : 0 } ?? 0))
            }
            let open = journal.filter { $0.state == .sent || $0.state == .mined }
            m.txInflight.set(Double(open.count))
            m.txOldestInflightSeconds.set(Double(open.map { max(0, now - $0.createdAt) }.max() ?? 0))
            if let keeper {
                let latest = try await chain.nonce(keeper, pending: false)
                let opens = try store.read { r in try r.openNonces() }
                m.nonceGap.set(Double(Self.missingNonces(latest: latest, openNonces: opens)))
                let balance = try await chain.balance(keeper)
                m.balanceEth.set(OperationsMonitor.tokens(balance))
            }
            let paused = try await SafetyGate(settings: settings, treasury: treasury).pauseReason(chain: reader)
            m.paused.set(paused == nil ? 0.0 : 1.0)
            let fees = try await chain.fees()
            let (wanted, overflow) = fees.nextBaseFee.addingReportingOverflow(fees.tip)
            m.feeCapReached.set(overflow || wanted > settings.maxFeePerGas ? 1.0 : 0.0)
        } catch {
            logger.debug("operations sample failed", metadata: ["error": "\(error)"])
        }
    }

    /// Nonces missing between the chain's `latest` count and the highest open journaled nonce.
    static func missingNonces(latest: UInt64, openNonces: [UInt64]) -> Int {
        let above = Set(openNonces.filter { $0 >= latest })
        guard let top = above.max() else { return 0 }
        return Int(top - latest + 1) - above.count
    }
}

/// SIGHUP: re-reads the config file; if it is valid, applies the safe subset (`apply`) and logs which
/// other keys differ from the running configuration (those need a restart); if it is not, logs the
/// problems and keeps running unchanged. Logs go to stderr (journald), so there is nothing to reopen.
public final class ReloadOnHangup: Service, Sendable {
    let path: String
    let running: String
    let sectionTypes: [any ConfigSection.Type]
    let apply: @Sendable (KeeperConfig) -> Void
    let logger: Logger

    /// Reloads `path`; `running` is the running config's rendering (to name changed keys).
    public init(path: String, running: KeeperConfig, logger: Logger, apply: @escaping @Sendable (KeeperConfig) -> Void) {
        self.path = path; self.running = running.renderTOML()
        self.sectionTypes = running.sectionTypes; self.logger = logger; self.apply = apply
    }

    /// Runs until graceful shutdown.
    public func run() async throws {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        signal(SIGHUP, SIG_IGN)  // delivered through the dispatch source instead of terminating the process
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler { continuation.yield() }
        source.resume()
        defer { source.cancel() }
        for await _ in stream.cancelOnGracefulShutdown() { reload() }
    }

    /// One reload (tests call it directly).
    public func reload() {
        do {
            let cfg = try KeeperConfig.load(path: path, checkKeys: false, sections: sectionTypes)
            apply(cfg)
            let changed = Self.changedKeys(running, cfg.renderTOML())
            logger.notice("SIGHUP: configuration re-read", metadata: [
                "applied": "metrics.ready_max_lag_blocks",
                "needs_restart": .string(changed.isEmpty ? "none" : changed.joined(separator: ",")),
            ])
        } catch {
            logger.error("SIGHUP: configuration invalid; keeping the running one", metadata: ["error": "\(error)"])
        }
    }

    /// `section.key` of every line that differs between two `renderTOML()` outputs (except the safe subset).
    static func changedKeys(_ a: String, _ b: String) -> [String] {
        func entries(_ s: String) -> [String: String] {
            var out: [String: String] = [:]
            var section = ""
            for line in s.split(separator: "\n") {
                if line.hasPrefix("[") { section = line.trimmingCharacters(in: CharacterSet(charactersIn: "[]")); continue }
                guard let eq = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
                out["\(section).\(line[..<eq].trimmingCharacters(in: .whitespaces))"] = String(line[eq...])
            }
            return out
        }
        let x = entries(a), y = entries(b)
        return Set(x.keys).union(y.keys).filter { x[$0] != y[$0] && $0 != "metrics.ready_max_lag_blocks" }.sorted()
    }
}
