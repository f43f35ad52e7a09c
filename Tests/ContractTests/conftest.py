"""Fixtures for the contract tests: a chain with MockVVV, MockVeniceStaking and ExpansionTreasury deployed
once per module; every test runs from that state and is rolled back afterwards (evm snapshot/revert)."""

import os
import sys

import pytest

LOCALCHAIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "LocalChain")
if LOCALCHAIN not in sys.path:
    sys.path.insert(0, os.path.abspath(LOCALCHAIN))

from treasury_env import TreasuryEnv  # noqa: E402


@pytest.fixture(scope="module")
def module_env():
    return TreasuryEnv()


@pytest.fixture
def env(module_env):
    sid = module_env.chain.snapshot()
    yield module_env
    module_env.chain.drop_pool()
    module_env.chain.automine = True
    assert module_env.chain.revert(sid)
