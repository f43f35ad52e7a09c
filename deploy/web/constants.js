// Every function selector, event topic and revert text the page relies on, in one place.
// Tests/Web/test_constants.py checks each selector/topic against ABI/*.json and
// the contracts' build artifacts in deploy/contracts/out/ (keccak of the signature), and that every revert string
// of ExpansionTreasury.vy, ProvenExpansionTreasury.vy and the token has words here. No other module may hold a
// selector literal.

// { abi: the ABI file (ABI/<abi>.json) that declares it, sig: canonical signature, sel: first 4 bytes of keccak }
export const FN = {
  opt_in: { abi: "ExpansionTreasury", sig: "opt_in(uint16)", sel: "0xe53e9443" },
  opt_out: { abi: "ExpansionTreasury", sig: "opt_out()", sel: "0xd904a8f6" },
  registration: { abi: "ExpansionTreasury", sig: "registration(address)", sel: "0x0840605a" },
  contributed: { abi: "ExpansionTreasury", sig: "contributed(address)", sel: "0x995c5e9d" },
  total_contributed: { abi: "ExpansionTreasury", sig: "total_contributed()", sel: "0xb8214969" },
  paused: { abi: "ExpansionTreasury", sig: "paused()", sel: "0x5c975abb" },
  route_proven: { abi: "ProvenExpansionTreasury", sig: "route_proven(bytes[],bytes,(uint8,uint32,uint32,uint256)[])", sel: "0x471db2df" },
  balanceOf: { abi: "MockVVV", sig: "balanceOf(address)", sel: "0x70a08231" },
  allowance: { abi: "MockVVV", sig: "allowance(address,address)", sel: "0xdd62ed3e" },
  approve: { abi: "MockVVV", sig: "approve(address,uint256)", sel: "0x095ea7b3" },
  pendingRewards: { abi: "VeniceStaking", sig: "pendingRewards(address)", sel: "0x31d7a262" },
  stakedOf: { abi: "VeniceStaking", sig: "balanceOf(address)", sel: "0x70a08231" },
  stakedTotal: { abi: "VeniceStaking", sig: "totalSupply()", sel: "0x18160ddd" },
  emissionRate: { abi: "VeniceStaking", sig: "emissionRatePerSecond()", sel: "0xa80152d6" },
};

// { abi, sig, topic: keccak of the signature } — read from receipts to say what a write did.
export const EV = {
  OptedIn: { abi: "ExpansionTreasury", sig: "OptedIn(address,uint16,uint64)", topic: "0xcd0f58784ea10bc7fb7f4e624430aaebdcbea7ac4673c15f3814a720c937ad06" },
  OptedOut: { abi: "ExpansionTreasury", sig: "OptedOut(address)", topic: "0x85facaba9625f61d57ffb8e5f5142ece22dc5da68628f9d870e784fa7b27faa0" },
  ProvenRouted: { abi: "ProvenExpansionTreasury", sig: "Routed(address,uint64,uint32,uint32,uint256,uint256,uint16)", topic: "0x6cae68f29e4fcf3f124c1d0e9c2238caa102bd30871b7ccc444f654a95a6bae4" },
  ProvenRouteSkipped: { abi: "ProvenExpansionTreasury", sig: "RouteSkipped(address,uint64,uint32,uint32,uint8)", topic: "0xab9a06bbcc213b8fe1a5d51026b9381ce1314f4dfd74e397ee610828bb928121" },
  Approval: { abi: "MockVVV", sig: "Approval(address,address,uint256)", topic: "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925" },
};

// Solidity/Vyper revert payloads (not in any ABI: checked by keccak alone).
export const ERR = {
  Error: { abi: null, sig: "Error(string)", sel: "0x08c379a0" },
  Panic: { abi: null, sig: "Panic(uint256)", sel: "0x4e487b71" },
};

// The revert strings of both treasuries and of the token (MockVVV.vy), in words for a staker.
export const REVERTS = {
  "share_bps out of range": "The share must be between 0.01 % and 100 %.",
  "not registered": "You are not opted in, so there is nothing to opt out of.",
  "not keeper": "Only the keeper may route rewards.",
  "paused": "The treasury is paused by its owner.",
  "not owner": "Only the owner may do this.",
  "not pending owner": "Only the proposed new owner may accept ownership.",
  "keeper is zero": "The keeper address is zero.",
  "already paused": "The treasury is already paused.",
  "not paused": "The treasury is not paused.",
  "to is zero": "The recipient is the zero address.",
  "amount is zero": "The amount is zero.",
  "transfer failed": "The token transfer failed.",
  "owner is zero": "The owner is the zero address.",
  "reward source is zero": "The reward source is the zero address.",
  "reward topic is zero": "The reward event topic is zero.",
  "reward token is not a contract": "The reward token is not a contract.",
  "not minter": "Only a minter may create tokens.",
  "mint to zero": "Tokens cannot be minted to the zero address.",
  "transfer to zero": "Tokens cannot be sent to the zero address.",
  "insufficient balance": "Your VVV balance is too small.",
  "insufficient allowance": "Your allowance to the treasury is too small.",
};

// RouteSkipped reason codes in words, in code order (1, 2, …: the same numbers in both treasuries; 11–16 are the
// ProvenExpansionTreasury's own). The API's reason is shown for any other code.
export const SKIPS = {
  NOT_REGISTERED: "You were not opted in when this reward was routed.",
  BEFORE_OPT_IN: "Paid before your opt-in (or share change) took effect.",
  DUPLICATE: "This reward had already been routed.",
  FUTURE: "Reported for a block that had not happened yet.",
  ORPHANED: "Its block was reorganised out of the chain.",
  ZERO_CONTRIBUTION: "Your share of this reward rounds down to zero.",
  NO_ALLOWANCE: "Your allowance to the treasury was too small: approve more to contribute again.",
  NO_BALANCE: "Your VVV balance was too small for the contribution.",
  TRANSFER_FAILED: "The token transfer failed.",
  OVERFLOW: "The amount would overflow the treasury's total.",
  UNVERIFIABLE: "Its block is older than the chain can verify: the reward stays with you.",
  BAD_HEADER: "The block header sent with it was not valid.",
  BAD_PROOF: "The proof sent with it did not match the block's receipts.",
  BAD_RECEIPT: "The proven receipt holds no such reward log.",
  NOT_REWARD_SOURCE: "The log was not emitted by the staking contract.",
  NOT_REWARD_EVENT: "The log is not a staking reward.",
};

// EIP-1193 / EIP-1474 error codes the page explains.
export const WALLET_ERRORS = {
  4001: "You declined the request in your wallet. Nothing was sent.",
  4100: "The wallet has not authorised this site: connect again.",
  4200: "The wallet does not support this request.",
  4900: "The wallet is disconnected from every chain.",
  4901: "The wallet is not connected to this chain.",
  4902: "The wallet does not know this chain.",
  "-32002": "Your wallet already has a request waiting: open it to answer.",
};

// Chains the page can name (others are "chain N").
export const CHAINS = { 1: "Ethereum", 8453: "Base", 84532: "Base Sepolia", 1337: "Local dev chain", 31337: "Local dev chain" };
