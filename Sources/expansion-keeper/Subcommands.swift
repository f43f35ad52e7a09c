import ArgumentParser

extension ExpansionKeeper {
    /// Every subcommand group, in the order `--help` lists them. Add a group here when its file lands.
    static let groups: [any ParsableCommand.Type] = [
        ABICommand.self,
        KeysCommand.self,
        TxCommand.self,
        LogsCommand.self,
        RunCommand.self,
        ConfigCommand.self,
        StatusCommand.self,
        RegistrationsCommand.self,
        PlanCommand.self,
        AuditCommand.self,
        ContractsCommand.self,
        ProveCommand.self,
        StoreCommand.self,
    ]
}
