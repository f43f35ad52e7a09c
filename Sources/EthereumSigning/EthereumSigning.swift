// EthereumSigning — placeholder until its module lands.
