import ArgumentParser
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperStore
import KeeperSubmission

/// `expansion-keeper registrations --config FILE [--all] [--json]`.
struct RegistrationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registrations",
        abstract: "Registered stakers: share, since_block, total contributed, rewards seen/routed/skipped (from the store).")

    @OptionGroup var options: KeeperOptions

    @Flag(name: .long, help: "Include stakers who have opted out.")
    var all = false

    func run() throws {
        let config = try options.load()
        let store = try openStoreReadOnly(config)
        let report = try reporting { try RegistrationsReport.make(store: store, includeOptedOut: all) }
        options.emit(text: report.text, json: report.json)
    }
}
