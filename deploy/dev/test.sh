#!/usr/bin/env bash
# Installs what the tests need (deploy/dev/setup.sh) and runs every test: the Swift suites (unit,
# differential against Python's eth-abi/pycryptodome/rlp/eth-account, CLI tests of the built binary,
# RPC tests against the local chain), the documentation checks (check_docs.py: public Swift API;
# check_guides.py: the guides against the code) and the Python suites (contracts on py-evm, the local chain).
# Opt-in long runs: EXPANSION_KEEPER_SOAK=1. Fuzzing: deploy/dev/fuzz.sh (not part of this).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
deploy/dev/setup.sh
export EXPANSION_KEEPER_PYTHON="$root/.venv/bin/python"

echo "== swift build (warnings are errors; layering enforced)" >&2
swift build --build-tests --explicit-target-dependency-import-check error
echo "== public API documentation (every public symbol has a /// line)" >&2
deploy/dev/check_docs.py
echo "== guides (links, config keys, metrics, alerts, outside pointers; command blocks run with the built binary)" >&2
deploy/dev/check_guides.py
echo "== swift test" >&2
# A hung test must not eat CI's budget: bound the whole Swift run.
timeout --kill-after=60s 40m swift test --skip-build
echo "== pytest (contracts, local chain)" >&2
.venv/bin/python -m pytest -q Tests/ContractTests Tests/LocalChain Tests/Operations
echo "== pytest (the stakers' app in headless chromium, the public read API)" >&2
.venv/bin/python -m pytest -q Tests/Web
