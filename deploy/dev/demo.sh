#!/usr/bin/env bash
# The main job, for now: installs what is needed, builds expansion-keeper and walks through the `abi`
# tools on a worked example — the calldata of a routing batch the keeper will send, decoded back, and
# a Venice `Claimed` reward log decoded the way the keeper reads it. (The keeper daemon's local-chain
# demo replaces this once the keeper issues land.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
deploy/dev/setup.sh
echo "== building expansion-keeper" >&2
swift build --product expansion-keeper >&2
bin="$(swift build --show-bin-path)/expansion-keeper"

step() { printf '\n$ expansion-keeper %s\n' "$*"; "$bin" "$@"; }

staker1=0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed
staker2=0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359
hash1=0x8d3b3e0e7c9a4f0f2a1b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012
hash2=0x0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9fa

echo "# 1. The reward event the keeper watches (research/venice-staking.md: the public analogue's topic0)"
step abi selector --event 'Claimed(address indexed user,uint256 amount)'
echo "# 2. The treasury's route() selector and a two-claim batch: (staker, amount, block, log index, block hash)"
step abi selector 'route((address,uint256,uint64,uint32,bytes32)[])'
claims="[[[\"$staker1\",\"1500000000000000000\",1234567,3,\"$hash1\"],[\"$staker2\",\"0x1bc16d674ec80000\",1234570,0,\"$hash2\"]]]"
calldata="$("$bin" abi encode 'route((address,uint256,uint64,uint32,bytes32)[])' "$claims")"
printf '\n$ expansion-keeper abi encode %s %s\n%s\n' "'route((address,uint256,uint64,uint32,bytes32)[])'" "'$claims'" "$calldata"
echo "# 3. The same calldata decoded back (canonical form: decimal integers, EIP-55 addresses)"
step abi decode 'route((address,uint256,uint64,uint32,bytes32)[])' "$calldata"
echo "# 4. A Claimed log as a node returns it, decoded"
topic0="$("$bin" abi selector --event 'Claimed(address,uint256)')"
step abi decode-log 'Claimed(address indexed user,uint256 amount)' \
  --topic "$topic0" --topic "0x000000000000000000000000${staker1:2}" \
  --data 0x00000000000000000000000000000000000000000000000014d1120d7b160000
echo "# 5. Keccak-256 of raw bytes and of text"
step abi keccak 0x
step abi keccak --text 'Routed(address,uint64,uint32,uint256,uint256,uint16)'
echo
echo "demo: ok"
