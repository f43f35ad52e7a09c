"""The operator guide's Base checklist, run as written against the local chain (issue 17).

The block after `<!-- check: base-checklist -->` in deploy/docs/operator-guide.md is extracted and run with bash in
one shell, with only these rewrites (everything else runs verbatim):

- the systemd layout moves into a temporary root: /etc/expansion-keeper, /var/lib/expansion-keeper and /run/ are
  prefixed with it (so the config's password_file, the unit's credential path, does not exist: as outside a unit);
- the values at the top: RPC = the local chain, MULTISIG = one of its accounts, CHAIN_ID = its chain id; Base's
  staking address = the local mock's;
- root and systemd: `sudo -u expansion-keeper ` and `sudo ` are dropped, `chown -R expansion-keeper: …` is a no-op;
  `$S` (systemd-run with LoadCredential=keeper-password:/etc/expansion-keeper/keeper-password) becomes the binary
  with CREDENTIALS_DIRECTORY=<root>/etc/expansion-keeper, the folder of that very file — what the credential is;
- the build-and-install line is done by this test beforehand (install.sh's config: the example with the mock's ABI);
  the funding prompt becomes a transfer from a dev account; `systemctl enable --now` becomes
  `$S run $C --exit-when-caught-up`; the curl of /readyz (no server in that mode) is skipped.

Then it checks what the checklist promised: the treasury deployed with the multisig as pending owner, the config's
treasury, treasury_deploy_block and start_block set to the deploy block, and status/plan answering. Bounded by a
180 s timeout (121 s measured on a shared 2-core machine at load 18; three standard-scrypt unlocks dominate).
The working directory stands for the checkout: its deploy/, ABI/ and Tests/ link to the repository.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PY = os.environ.get("EXPANSION_KEEPER_PYTHON") or os.path.join(ROOT, ".venv", "bin", "python")
GUIDE = os.path.join(ROOT, "deploy", "docs", "operator-guide.md")
MARK = "<!-- check: base-checklist -->"
BASE_STAKING = "0x321b7ff75154472B18EDb199033fF4D116F340Ff"


def binary() -> str:
    path = os.environ.get("EXPANSION_KEEPER_BIN") or os.path.join(ROOT, ".build", "debug", "expansion-keeper")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not built: run `swift build` first (deploy/dev/test.sh does) or set EXPANSION_KEEPER_BIN")
    return path


def checklist() -> str:
    lines = open(GUIDE, encoding="utf-8").read().split("\n")
    start = lines.index(MARK)
    assert lines[start + 1].startswith("```sh"), "the checklist marker must precede a ```sh block"
    end = next(i for i in range(start + 2, len(lines)) if lines[i].startswith("```"))
    return "\n".join(lines[start + 2:end]) + "\n"


def rewrite(script: str, root: str, url: str, chain_id: int, multisig: str, staking: str) -> str:
    out = []
    for line in script.split("\n"):
        if line.startswith("RPC="):
            line = f'RPC="{url}"'
        elif line.startswith("MULTISIG="):
            line = f'MULTISIG="{multisig}"'
        elif line.startswith("CHAIN_ID="):
            line = f"CHAIN_ID={chain_id}"
        elif line.startswith("S="):
            line = f'S="env CREDENTIALS_DIRECTORY={root}/etc/expansion-keeper expansion-keeper"'
        elif line.startswith("swift build"):
            line = "true  # built and installed by the test"
        elif line.startswith("read "):
            line = f'"{PY}" "{ROOT}/Tests/Support/submit_oracle.py" fund --url "$RPC" --to "$KEEPER" > /dev/null'
        elif line.startswith("sudo systemctl enable --now expansion-keeper"):
            line = "$S run $C --exit-when-caught-up"
        elif line.startswith("curl -s 127.0.0.1:9464/readyz"):
            line = "true  # no metrics server with --exit-when-caught-up"
        line = line.replace("sudo -u expansion-keeper ", "").replace("sudo ", "")
        if line.startswith("chown -R expansion-keeper:"):
            line = "true  # no service user here"
        line = re.sub(r"(?<![\w/])/(etc/expansion-keeper|var/lib/expansion-keeper|run/)", root + r"/\1", line)
        out.append(line.replace(BASE_STAKING, staking))
    return "\n".join(out)


def install(root: str, staking: str) -> None:
    """What deploy/systemd/install.sh leaves behind (folders, ABI files, the config from the example)."""
    etc, state = f"{root}/etc/expansion-keeper", f"{root}/var/lib/expansion-keeper"
    os.makedirs(f"{etc}/abi")
    os.makedirs(f"{state}/keystore", mode=0o700)
    os.chmod(state, 0o700)
    os.makedirs(f"{root}/run/expansion-keeper")
    for f in os.listdir(os.path.join(ROOT, "ABI")):
        if f.endswith(".json"):
            shutil.copy(os.path.join(ROOT, "ABI", f), f"{etc}/abi/{f}")
    text = open(os.path.join(ROOT, "deploy/config/expansion-keeper.example.toml"), encoding="utf-8").read()
    text = re.sub(r"(?m)^staking_abi = .*$", 'staking_abi = "abi/MockVeniceStaking.json"', text)
    text = re.sub(r'"/(var/lib/expansion-keeper|run/)', '"' + root + r"/\1", text).replace(BASE_STAKING, staking)
    with open(f"{etc}/config.toml", "w", encoding="utf-8") as fh:
        fh.write(text)


@pytest.fixture()
def chain():
    p = subprocess.Popen([PY, os.path.join(ROOT, "Tests/LocalChain/localchain.py"), "serve", "--port", "0", "--accounts", "12"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    assert line, "local chain did not start"
    yield json.loads(line)
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


def test_base_checklist_runs_as_written(chain, tmp_path):
    exe = binary()
    url = chain["url"]
    root, work, bindir = str(tmp_path / "root"), tmp_path / "work", tmp_path / "bin"
    work.mkdir()
    bindir.mkdir()
    # "Commands run from a checkout": the working directory has the repository's entries (contracts deploy finds
    # deploy/contracts/out/ExpansionTreasury.json there), as check_guides.py's command blocks do.
    for entry in ("deploy", "ABI", "Tests"):
        os.symlink(os.path.join(ROOT, entry), work / entry)
    os.symlink(exe, bindir / "expansion-keeper")
    r = subprocess.run([PY, os.path.join(ROOT, "Tests/LocalChain/scenario.py"), "deploy", "--rpc", url, "--state",
                        str(tmp_path / "state.json"), "--no-treasury"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    staking = json.loads(r.stdout)["staking"]
    multisig = chain["accounts"][-1]["address"]
    install(root, staking)
    script = rewrite(checklist(), root, url, chain["chain_id"], multisig, staking)
    (tmp_path / "checklist.sh").write_text(script)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPANSION_KEEPER_") and k != "CREDENTIALS_DIRECTORY"}
    env["PATH"] = f"{bindir}:{env.get('PATH', '/usr/bin:/bin')}"
    r = subprocess.run(["bash", "-euo", "pipefail", str(tmp_path / "checklist.sh")], cwd=work, env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, f"the checklist failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}\nscript:\n{script}"

    deployed = json.loads((work / "deploy.json").read_text())
    assert deployed["pending_owner"].lower() == multisig.lower(), deployed
    assert deployed["start_block"] == deployed["deploy_block"]
    config = open(f"{root}/etc/expansion-keeper/config.toml", encoding="utf-8").read()
    assert f'treasury = "{deployed["address"]}"' in config, config
    assert re.search(rf"(?m)^start_block = {deployed['deploy_block']}\b", config), config
    assert re.search(rf"(?m)^treasury_deploy_block = {deployed['deploy_block']}\b", config), config
    assert "keeper address: 0x" in r.stdout, r.stdout
    assert re.search(rf"(?m)^chain id\s+{chain['chain_id']}$", r.stdout), r.stdout
    assert "nothing to route" in r.stdout, r.stdout
    # The deploy refused nothing and printed the config lines to set; the keystore decrypted from the credential.
    assert "contracts.treasury_deploy_block" in r.stderr, r.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
