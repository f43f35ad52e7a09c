// JSONRPC — placeholder until its module lands.
