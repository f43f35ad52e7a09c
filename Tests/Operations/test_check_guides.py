"""deploy/dev/check_guides.py can fail: a small, correct repository passes, and each kind of stale or broken
guide — a dead link or anchor, a config key or metric the code does not have, an incomplete config or metrics
table, an alert without its runbook section, a pointer outside the repository, a README that is no longer a
front page, a command block that fails or prints something else, a missing binary — makes it exit 1 naming
the file, the line and the problem. The real repository's guides pass (command blocks are run by test.sh)."""
import os
import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHECKER = ROOT / "deploy/dev/check_guides.py"

SCHEMA = """\
enum ConfigSchema {
    static let sections: [String: [String]] = [
        "chain": ["rpc_urls", "chain_id"],
        "keeper": ["data_dir", "dry_run"],
    ]
    static let arrayKeys: Set<String> = []
}
"""

OPERATOR = """\
# Operator guide

See the [runbook](runbook.md#alert-expansionkeeperdown) and `deploy/dev/check_guides.py`.

<!-- BEGIN config-reference -->
| key | default | meaning |
|---|---|---|
| `[chain] rpc_urls` | required | endpoints |
| `[chain] chain_id` | required | the chain |
| `[keeper] data_dir` | required | the store |
| `[keeper] dry_run` | `false` | never sign |
<!-- END config-reference -->

<!-- BEGIN metrics -->
| name | type | labels | meaning |
|---|---|---|---|
| `expansion_keeper_ready` | gauge | — | ready |
| `expansion_keeper_rpc_request_duration_seconds` | histogram | method | durations |
<!-- END metrics -->

`chain.chain_id`, `[keeper] dry_run = true`, EXPANSION_KEEPER_KEEPER_DRY_RUN=1 and
`expansion_keeper_rpc_request_duration_seconds_bucket` all exist.

```toml
[chain]
rpc_urls = ["http://127.0.0.1:8545"]
# chain_id = 8453
```
"""

RUNBOOK = """\
# Runbook

## Handling each alert

#### Alert: ExpansionKeeperDown
Run `systemctl status expansion-keeper`.
"""

ALERTS = """\
groups:
  - name: expansion-keeper
    rules:
      - alert: ExpansionKeeperDown
        expr: expansion_keeper_ready == 0
        annotations:
          runbook_url: "file:///usr/local/share/doc/expansion-keeper/deploy/docs/runbook.md#alert-expansionkeeperdown"
"""

README = """\
# Fake

Guides: [operator](deploy/docs/operator-guide.md), [runbook](deploy/docs/runbook.md#runbook).
"""


def make_repo(tmp_path, **overrides):
    files = {
        "Sources/KeeperCore/KeeperConfig.swift": SCHEMA,
        "Tests/Operations/golden_metrics.txt": "# golden\nexpansion_keeper_ready gauge\n"
                                               "expansion_keeper_rpc_request_duration_seconds histogram\n",
        "deploy/docs/operator-guide.md": OPERATOR,
        "deploy/docs/runbook.md": RUNBOOK,
        "deploy/prometheus/alerts.yml": ALERTS,
        "deploy/dev/check_guides.py": "# stands in for the checker (a path the guide names)\n",
        "README.md": README,
    }
    files.update(overrides)
    for rel, text in files.items():
        if text is None:
            continue
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return tmp_path


def check(root, *args, binary=None):
    env = {k: v for k, v in os.environ.items() if k != "EXPANSION_KEEPER_BIN"}
    if binary is not None:
        env["EXPANSION_KEEPER_BIN"] = str(binary)
    r = subprocess.run([sys.executable, str(CHECKER), "--root", str(root), *args], capture_output=True, text=True,
                       env=env, timeout=300)
    return r.returncode, r.stdout, r.stderr


def fake_binary(tmp_path):
    b = tmp_path / "fakebin" / "keeper"
    b.parent.mkdir()
    b.write_text("#!/bin/sh\necho \"fake $*\"\n")
    b.chmod(0o755)
    return b


def test_a_correct_repository_passes(tmp_path):
    code, out, err = check(make_repo(tmp_path), "--no-run")
    assert code == 0, out + err
    assert "0 problem(s)" in err


def test_dead_link_and_dead_anchor(tmp_path):
    root = make_repo(tmp_path, **{"README.md": README + "\n[gone](deploy/docs/gone.md) [bad](deploy/docs/runbook.md#nope)\n"})
    code, out, _ = check(root, "--no-run")
    assert code == 1
    assert "README.md:5: dead link deploy/docs/gone.md" in out
    assert "README.md:5: dead anchor deploy/docs/runbook.md#nope" in out


def test_link_outside_the_repository_and_outside_references(tmp_path):
    root = make_repo(tmp_path, **{"deploy/docs/runbook.md": RUNBOOK + "\n[spec](../../../SPEC.md) and research/venice-staking.md\n"})
    code, out, _ = check(root, "--no-run")
    assert code == 1
    assert "points outside the repository" in out
    assert "cites research notes" in out and "cites a SPEC" in out


def test_missing_repository_path(tmp_path):
    root = make_repo(tmp_path, **{"deploy/docs/runbook.md": RUNBOOK + "\nRun `deploy/dev/nothing.sh`.\n"})
    code, out, _ = check(root, "--no-run")
    assert code == 1 and "names deploy/dev/nothing.sh, which does not exist" in out


def test_unknown_config_keys_in_every_form(tmp_path):
    extra = "\n`chain.nope`, `[keeper] max_nope = 1`, EXPANSION_KEEPER_METRICS_NOPE=1.\n\n```toml\n[keeper]\nnope = 1\n[bogus]\n```\n"
    root = make_repo(tmp_path, **{"deploy/docs/runbook.md": RUNBOOK + extra})
    code, out, _ = check(root, "--no-run")
    assert code == 1
    for what in ["config key chain.nope", "config key keeper.max_nope", "config section [metrics]",
                 "config key keeper.nope", "config section [bogus]"]:
        assert what in out, (what, out)
    assert "keeper.sqlite" not in out   # a file name, not a key


def test_config_reference_must_list_exactly_the_accepted_keys(tmp_path):
    guide = OPERATOR.replace("| `[keeper] dry_run` | `false` | never sign |\n", "| `[keeper] gone` | `1` | no |\n")
    code, out, _ = check(make_repo(tmp_path, **{"deploy/docs/operator-guide.md": guide}), "--no-run")
    assert code == 1
    assert "config reference lacks [keeper] dry_run" in out
    assert "config reference lists [keeper] gone, which the keeper does not accept" in out


def test_unknown_metric_and_incomplete_metrics_table(tmp_path):
    guide = OPERATOR.replace("| `expansion_keeper_ready` | gauge | — | ready |\n", "") + "\n`expansion_keeper_made_up_total`\n"
    code, out, _ = check(make_repo(tmp_path, **{"deploy/docs/operator-guide.md": guide}), "--no-run")
    assert code == 1
    assert "metric expansion_keeper_made_up_total is not served" in out
    assert "metrics table lacks expansion_keeper_ready" in out


def test_alert_without_runbook_section(tmp_path):
    alerts = ALERTS + ALERTS.split("rules:\n")[1].replace("ExpansionKeeperDown", "ExpansionKeeperLost")
    code, out, _ = check(make_repo(tmp_path, **{"deploy/prometheus/alerts.yml": alerts}), "--no-run")
    assert code == 1
    assert "ExpansionKeeperLost has no '#### Alert: ExpansionKeeperLost' section" in out
    assert "ExpansionKeeperLost's runbook_url does not name deploy/docs/runbook.md#alert-expansionkeeperlost" in out


def test_front_page_length_and_unlinked_guide(tmp_path):
    root = make_repo(tmp_path, **{"README.md": "# Fake\n" + "line\n" * 200, "deploy/docs/orphan.md": "# Orphan\n"})
    code, out, _ = check(root, "--no-run")
    assert code == 1
    assert "README.md has 201 lines" in out
    assert "README.md does not link deploy/docs/orphan.md" in out


def test_readme_shows_what_ci_runs(tmp_path):
    root = make_repo(tmp_path, **{".ci/run": "#!/usr/bin/env bash\ndeploy/dev/test.sh --all\n",
                                  "deploy/dev/test.sh": "#!/bin/sh\n",
                                  "README.md": README + "\n```sh\ndeploy/dev/test.sh     # every test\n```\n"})
    code, out, _ = check(root, "--no-run")
    assert code == 1 and ".ci/run:2: CI runs `deploy/dev/test.sh --all`" in out
    (root / ".ci/run").write_text("#!/usr/bin/env bash\ndeploy/dev/test.sh\n")
    code, out, err = check(root, "--no-run")
    assert code == 0, out + err


def test_command_blocks_run_and_must_succeed(tmp_path):
    blocks = ("\n<!-- check: run -->\n```sh\nexpansion-keeper ok\n```\n"
              "\n<!-- check: run -->\n```sh\nfalse\n```\n"
              "\n<!-- check: run -->\n```console\n$ expansion-keeper hello\nfake hello\n$ expansion-keeper bye\nfake hi\n"
              "$ sh -c 'exit 3'\n[exit 3]\n$ sh -c 'exit 2'\n```\n")
    root = make_repo(tmp_path, **{"deploy/docs/runbook.md": RUNBOOK + blocks})
    code, out, err = check(root, binary=fake_binary(tmp_path))
    assert code == 1, out + err
    assert "command blocks run: 3" in err
    lines = out.splitlines()
    assert any(l.startswith("deploy/docs/runbook.md:14: command block exited 1") for l in lines), out
    assert "printed 'fake bye' where the guide says 'fake hi'" in out
    assert "`sh -c 'exit 2'` exited 2, the guide says 0" in out
    assert "expansion-keeper hello" not in out and "exit 3" not in out   # those steps are right


def test_command_blocks_need_the_binary(tmp_path):
    root = make_repo(tmp_path, **{"deploy/docs/runbook.md": RUNBOOK + "\n<!-- check: run -->\n```sh\ntrue\n```\n"})
    code, out, _ = check(root, binary=tmp_path / "no-such-binary")
    assert code == 1 and "cannot run this block" in out and "no-such-binary does not exist" in out
    code, out, err = check(root, "--no-run", binary=tmp_path / "no-such-binary")
    assert code == 0, out + err


def test_the_repository_guides_pass():
    code, out, err = check(ROOT, "--no-run")
    assert code == 0, out + err
