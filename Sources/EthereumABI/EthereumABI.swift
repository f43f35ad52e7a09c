// EthereumABI — placeholder until its module lands.
