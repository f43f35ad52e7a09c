#!/usr/bin/env python3
"""Checks the guides against the repository, so that what they say stays true.

The guides are README.md, deploy/docs/*.md and every README.md under deploy/, ABI/ and Tests/. Checks:

  links     every relative link resolves to a file or folder inside the repository, and a #anchor to a
            heading of the target (or of the same file); repository paths named in the text
            (`deploy/dev/test.sh`, `Tests/Support/submit_oracle.py`, …) exist.
  config    every config key named as `section.key`, `[section] key`, EXPANSION_KEEPER_<SECTION>_<KEY> or in a
            ```toml block is a key the code accepts (ConfigSchema in Sources/KeeperCore/KeeperConfig.swift and
            each module's ConfigSection, e.g. Sources/KeeperOperations/MetricsSettings.swift);
            the operator guide's config reference lists exactly those keys, and (when the binary runs) its
            defaults are the ones `config check` prints.
  metrics   every expansion_keeper_* name exists (Tests/Operations/golden_metrics.txt, else Sources/), and the
            operator guide's metrics table lists every served metric.
  alerts    every alert of deploy/prometheus/alerts.yml has a "#### Alert: NAME" section in the runbook, which its
            runbook_url names.
  commands  a fenced block right after the line `<!-- check: run -->` runs, in a fresh temp dir whose entries
            link to the repository's top level, with the built expansion-keeper first on PATH:
            ```sh blocks must exit 0; ```console blocks are transcripts: each `$ command` (continued by lines
            while they end in `\\`) must print exactly the lines that follow it (stdout and stderr together)
            and exit 0, or the status given by a last line `[exit N]`.
  outside   no guide points outside the repository (research notes, a SPEC, /work/ paths).
  front     README.md has at most 200 lines, links every guide, and shows the commands .ci/run runs verbatim.

Usage: deploy/dev/check_guides.py [--root DIR] [--no-run]
  EXPANSION_KEEPER_BIN  the binary for command blocks (default: ROOT/.build/debug/expansion-keeper); when it is
                        missing and a block needs it, that is a failure (--no-run skips command blocks).
Exit status 1 on any problem, each printed as FILE:LINE: message. Run by deploy/dev/test.sh after the build.
"""
import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata

RUN_MARK = "<!-- check: run -->"
SECTIONS = ("chain", "contracts", "keeper", "metrics")
# Text that points outside the repository: the project's private research notes and spec, machine paths.
OUTSIDE = [("research/", "cites research notes a reader of the repository does not have"),
           ("SPEC.md", "cites a SPEC a reader of the repository does not have"),
           ("SPEC §", "cites a SPEC a reader of the repository does not have"),
           ("../shared", "points outside the repository"),
           ("/work/", "names a path on a development machine")]
# Known, owned elsewhere: (file, pattern) pairs reported as notes, not failures. The contracts guide is
# being rewritten with the contract; drop the entry when it no longer cites the SPEC.
OUTSIDE_EXCEPTIONS = {("deploy/contracts/README.md", "SPEC §")}
# `chain.py`, `keeper.sqlite`: file names, not `section.key`.
FILE_SUFFIXES = {"py", "swift", "md", "json", "toml", "sh", "sqlite", "txt", "yml", "yaml", "vy", "in", "log", "conf"}
TOP = r"(?:\.ci|ABI|Sources|Tests|deploy)"
REPO_PATH = re.compile(r"(?<![\w./~$@-])" + TOP + r"/[A-Za-z0-9_.*/+-]*")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
METRIC = re.compile(r"\bexpansion_keeper_[a-z0-9_]*[a-z0-9]")
ENV_KEY = re.compile(r"\bEXPANSION_KEEPER_(CHAIN|CONTRACTS|KEEPER|METRICS)_([A-Z0-9_]+)\b")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")


class Problems:
    def __init__(self, root):
        self.root, self.items, self.notes = root, [], []

    def add(self, path, line, msg):
        self.items.append(f"{self.rel(path)}:{line}: {msg}")

    def note(self, msg):
        self.notes.append(msg)

    def rel(self, path):
        try:
            return str(pathlib.Path(path).relative_to(self.root))
        except ValueError:
            return str(path)


# ------------------------------------------------------------------ markdown model

class Doc:
    """A markdown file split into prose lines and fenced blocks (with the marker that precedes each)."""

    def __init__(self, path):
        self.path = path
        self.text = path.read_text(encoding="utf-8")
        self.lines = self.text.splitlines()
        self.prose = []    # (line number, text)
        self.blocks = []   # dict(lang, start, lines, marked)
        fence = None
        last_nonblank = ""
        for n, line in enumerate(self.lines, 1):
            m = FENCE.match(line)
            if fence is None and m:
                fence = {"lang": m.group(3).lower(), "start": n, "lines": [], "marked": last_nonblank.strip() == RUN_MARK,
                         "close": m.group(2)[0] * len(m.group(2)), "indent": len(m.group(1))}
                continue
            if fence is not None:
                if line.strip().startswith(fence["close"]) and line.strip().strip(fence["close"][0]) == "":
                    self.blocks.append(fence)
                    fence = None
                    last_nonblank = line
                else:
                    fence["lines"].append((n, line[fence["indent"]:] if line[:fence["indent"]].strip() == "" else line))
                continue
            self.prose.append((n, line))
            if line.strip():
                last_nonblank = line
        if fence is not None:
            self.blocks.append(fence)

    def headings(self):
        """GitHub's anchors for the headings (and explicit <a id/name> anchors)."""
        seen, out = {}, set()
        for _, line in self.prose:
            m = re.match(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$", line)
            if m:
                slug = github_slug(m.group(2))
                k = seen.get(slug, 0)
                seen[slug] = k + 1
                out.add(slug if k == 0 else f"{slug}-{k}")
            for a in re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", line):
                out.add(a)
        return out


def github_slug(title):
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", title)    # links keep their text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    text = text.strip().lower()
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "-_ " or cat[0] in "LN" or cat == "Mn":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


def strip_code(line):
    return INLINE_CODE.sub("", line)


# ------------------------------------------------------------------ sources of truth

def config_schema(root):
    src = (root / "Sources/KeeperCore/KeeperConfig.swift").read_text(encoding="utf-8")
    m = re.search(r"static let sections: \[String: \[String\]\] = \[(.*?)\n\s*\]\n", src, re.S)
    if not m:
        raise SystemExit("check_guides: ConfigSchema.sections not found in Sources/KeeperCore/KeeperConfig.swift")
    schema = {}
    for sec, keys in re.findall(r"\"(\w+)\":\s*\[([^\]]*)\]", m.group(1)):
        schema[sec] = set(re.findall(r"\"(\w+)\"", keys))
    # Module-owned tables (ConfigSection conformances): `static let name = "…"` and `static let keys = [...]`.
    sources = root / "Sources"
    for path in sorted(sources.rglob("*.swift")) if sources.is_dir() else []:
        text = path.read_text(encoding="utf-8")
        if "ConfigSection" not in text:
            continue
        name = re.search(r"static let name = \"(\w+)\"", text)
        keys = re.search(r"static let keys = \[([^\]]*)\]", text)
        if name and keys:
            schema[name.group(1)] = set(re.findall(r"\"(\w+)\"", keys.group(1)))
    return schema


def golden_metrics(root):
    names = {}
    for line in (root / "Tests/Operations/golden_metrics.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#"):
            names[parts[0]] = parts[1]
    return names


def metric_known(name, golden, sources_text):
    if name in golden:
        return True
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and golden.get(name[: -len(suffix)]) == "histogram":
            return True
    return f'"{name}"' in sources_text


def guide_files(root):
    files = [root / "README.md"]
    files += sorted((root / "deploy/docs").glob("*.md")) if (root / "deploy/docs").is_dir() else []
    for top in ("deploy", "ABI", "Tests"):
        if (root / top).is_dir():
            files += sorted(p for p in (root / top).rglob("README.md") if ".build" not in p.parts)
    return [f for f in dict.fromkeys(files) if f.is_file()]


# ------------------------------------------------------------------ checks

def check_links(doc, root, problems, anchors_of):
    n_links = 0
    for n, line in doc.prose:
        bare = strip_code(line)
        targets = [m.group(1) for m in LINK.finditer(bare)]
        m = REF_DEF.match(bare)
        if m:
            targets.append(m.group(1))
        for t in targets:
            n_links += 1
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", t):
                continue    # http(s), mailto, file: not a repository link
            path_part, _, anchor = t.partition("#")
            target = (doc.path.parent / path_part).resolve() if path_part else doc.path
            if root not in target.parents and target != root:
                problems.add(doc.path, n, f"link {t} points outside the repository")
                continue
            if not target.exists():
                problems.add(doc.path, n, f"dead link {t} (no {problems.rel(target)})")
                continue
            if anchor and target.suffix == ".md":
                if anchor not in anchors_of(target):
                    problems.add(doc.path, n, f"dead anchor {t} (no heading #{anchor} in {problems.rel(target)})")
    # Repository paths named in the text (prose, inline code and code blocks alike).
    lines = list(doc.prose) + [l for b in doc.blocks for l in b["lines"]]
    for n, line in lines:
        for m in REPO_PATH.finditer(line):
            p = m.group(0).rstrip(".,:;)")
            if "*" in p:
                if not list(root.glob(p)):
                    problems.add(doc.path, n, f"no file matches {p}")
            elif not (root / p).exists():
                problems.add(doc.path, n, f"names {p}, which does not exist")
    return n_links


def check_config_mentions(doc, schema, problems):
    count = 0

    def known(sec, key, n, how):
        nonlocal count
        count += 1
        if sec not in schema:
            problems.add(doc.path, n, f"config section [{sec}] ({how}) does not exist")
        elif key not in schema[sec]:
            problems.add(doc.path, n, f"config key {sec}.{key} ({how}) is not accepted by the keeper "
                                      f"(allowed in [{sec}]: {', '.join(sorted(schema[sec]))})")

    for n, line in doc.prose:
        for _, code in INLINE_CODE.findall(line):
            code = code.strip()
            m = re.fullmatch(r"(\w+)\.([a-z0-9_]+)", code)
            if m and m.group(1) in SECTIONS and m.group(2) not in FILE_SUFFIXES:
                known(m.group(1), m.group(2), n, f"`{code}`")
            m = re.match(r"\[(\w+)\]\s+([a-z0-9_]+)", code)
            if m and m.group(1) in SECTIONS:
                known(m.group(1), m.group(2), n, f"`{code}`")
    for n, line in doc.prose + [l for b in doc.blocks for l in b["lines"]]:
        for sec, key in ENV_KEY.findall(line):
            known(sec.lower(), key.lower(), n, f"EXPANSION_KEEPER_{sec}_{key}")
    for b in doc.blocks:
        if b["lang"] == "toml":
            count += check_toml_lines(doc.path, b["lines"], schema, problems)
    return count


def check_toml_lines(path, lines, schema, problems):
    sec, count = None, 0
    for n, line in lines:
        s = line.strip()
        m = re.match(r"^\[([\w.]+)\]\s*(#.*)?$", s)
        if m:
            sec = m.group(1)
            if sec not in schema:
                problems.add(path, n, f"config section [{sec}] does not exist (sections: {', '.join(sorted(schema))})")
            continue
        m = re.match(r"^#?\s*([a-z][a-z0-9_]*)\s*=", s)
        if m and sec in schema:
            count += 1
            if m.group(1) not in schema[sec]:
                problems.add(path, n, f"config key {sec}.{m.group(1)} is not accepted by the keeper")
    return count


def marked_table_rows(doc, name):
    """Rows of the markdown table between <!-- BEGIN name --> and <!-- END name -->: (line, [cells])."""
    inside, rows = False, []
    for n, line in doc.prose:
        if line.strip() == f"<!-- BEGIN {name} -->":
            inside = True
        elif line.strip() == f"<!-- END {name} -->":
            return rows, True
        elif inside and line.lstrip().startswith("|") and not re.match(r"^\s*\|[\s:|-]+\|\s*$", line):
            rows.append((n, [c.strip() for c in line.strip().strip("|").split("|")]))
    return rows, False


def check_config_reference(doc, schema, problems, effective):
    rows, found = marked_table_rows(doc, "config-reference")
    if not found:
        problems.add(doc.path, 1, "no <!-- BEGIN config-reference --> … <!-- END config-reference --> table")
        return
    listed = {}
    for n, cells in rows:
        m = re.fullmatch(r"`\[(\w+)\]\s+([a-z0-9_]+)`", cells[0])
        if not m:
            continue
        listed[(m.group(1), m.group(2))] = (n, cells)
    want = {(s, k) for s, keys in schema.items() for k in keys}
    for s, k in sorted(want - set(listed)):
        problems.add(doc.path, 1, f"config reference lacks [{s}] {k} (a key the keeper accepts)")
    for (s, k), (n, cells) in sorted(listed.items()):
        if (s, k) not in want:
            problems.add(doc.path, n, f"config reference lists [{s}] {k}, which the keeper does not accept")
        if effective is None or len(cells) < 2:
            continue
        m = re.fullmatch(r"`([^`]+)`", cells[1])
        have = effective.get((s, k))
        if m and have is not None and m.group(1) != have:
            problems.add(doc.path, n, f"config reference: default of [{s}] {k} is `{m.group(1)}` here but "
                                      f"`config check` prints {have}")


def check_metrics(doc, golden, sources_text, problems):
    count = 0
    for n, line in enumerate(doc.lines, 1):
        for name in METRIC.findall(line):
            count += 1
            if not metric_known(name, golden, sources_text):
                problems.add(doc.path, n, f"metric {name} is not served (not in Tests/Operations/golden_metrics.txt)")
    return count


def check_metrics_table(doc, golden, problems):
    rows, found = marked_table_rows(doc, "metrics")
    if not found:
        problems.add(doc.path, 1, "no <!-- BEGIN metrics --> … <!-- END metrics --> table")
        return
    listed = {cells[0].strip("`"): (n, cells) for n, cells in rows}
    for name, kind in sorted(golden.items()):
        if name not in listed:
            problems.add(doc.path, 1, f"metrics table lacks {name}")
        elif len(listed[name][1]) < 2 or listed[name][1][1] != kind:
            problems.add(doc.path, listed[name][0], f"metrics table: {name} is a {kind}")


def check_alerts(root, runbook, problems):
    alerts_file = root / "deploy/prometheus/alerts.yml"
    if not alerts_file.exists():
        return
    text = alerts_file.read_text(encoding="utf-8")
    anchors = runbook.headings() if runbook else set()
    for m in re.finditer(r"- alert: (\w+)(.*?)(?=\n\s*- alert:|\Z)", text, re.S):
        name, body = m.group(1), m.group(2)
        line = text[: m.start()].count("\n") + 1
        anchor = "alert-" + name.lower()
        if runbook is None or anchor not in anchors:
            problems.add(alerts_file, line, f"{name} has no '#### Alert: {name}' section in deploy/docs/runbook.md")
        if f"deploy/docs/runbook.md#{anchor}\"" not in body:
            problems.add(alerts_file, line, f"{name}'s runbook_url does not name deploy/docs/runbook.md#{anchor}")


def check_outside(doc, root, problems):
    rel = problems.rel(doc.path)
    for n, line in enumerate(doc.lines, 1):
        for pattern, why in OUTSIDE:
            if pattern in line:
                if (rel, pattern) in OUTSIDE_EXCEPTIONS:
                    problems.note(f"{rel}:{n}: {why} ({pattern!r}; known exception, owned elsewhere)")
                else:
                    problems.add(doc.path, n, f"{why} ({pattern!r})")


def check_front_page(root, readme, problems, guides):
    if len(readme.lines) > 200:
        problems.add(readme.path, len(readme.lines), f"README.md has {len(readme.lines)} lines; the front page keeps to 200")
    linked = set()
    for _, line in readme.prose:
        for m in LINK.finditer(strip_code(line)):
            t = m.group(1).partition("#")[0]
            if t and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", t):
                linked.add((root / t).resolve())
    # The setup commands on the front page are the ones CI runs (.ci/run calls them verbatim).
    ci = root / ".ci/run"
    if ci.exists():
        shown = {l.split("#")[0].strip() for b in readme.blocks if b["lang"] == "sh" for _, l in b["lines"]}
        for n, line in enumerate(ci.read_text(encoding="utf-8").splitlines(), 1):
            cmd = line.split("#")[0].strip()
            if re.match(r"^deploy/\S+\.sh\b", cmd) and cmd not in shown:
                problems.add(ci, n, f"CI runs `{cmd}`, which README.md's setup commands do not show verbatim")
    for g in guides:
        if g != readme.path and g.parent.name != "Vectors" and g.resolve() not in linked:
            problems.add(readme.path, 1, f"README.md does not link {problems.rel(g)} (every guide is one click away)")


# ------------------------------------------------------------------ command blocks

class Runner:
    def __init__(self, root, problems):
        self.root, self.problems = root, problems
        self.binary = pathlib.Path(os.environ.get("EXPANSION_KEEPER_BIN", root / ".build/debug/expansion-keeper"))
        self.bindir = None
        self.ran = 0

    def ready(self, path, line):
        if not self.binary.is_file() or not os.access(self.binary, os.X_OK):
            self.problems.add(path, line, f"cannot run this block: {self.binary} does not exist (build it with "
                                          f"`swift build --product expansion-keeper`, or set EXPANSION_KEEPER_BIN)")
            return False
        if self.bindir is None:
            self.bindir = tempfile.mkdtemp(prefix="check-guides-bin-")
            os.symlink(self.binary.resolve(), os.path.join(self.bindir, "expansion-keeper"))
        return True

    def workdir(self):
        work = tempfile.mkdtemp(prefix="check-guides-")
        for entry in self.root.iterdir():
            if not entry.name.startswith("."):
                os.symlink(entry, os.path.join(work, entry.name))
        return work

    def execute(self, script, work):
        env = dict(os.environ, PATH=self.bindir + os.pathsep + os.environ.get("PATH", ""), LC_ALL="C.UTF-8")
        env.pop("EXPANSION_KEEPER_PASSWORD_FILE", None)
        return subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    def run_sh(self, doc, block):
        work = self.workdir()
        try:
            script = "set -euo pipefail\n" + "\n".join(l for _, l in block["lines"]) + "\n"
            r = self.execute(script, work)
            self.ran += 1
            if r.returncode != 0:
                tail = (r.stdout + r.stderr).strip().splitlines()[-5:]
                self.problems.add(doc.path, block["start"], f"command block exited {r.returncode}: " + " | ".join(tail))
        except subprocess.TimeoutExpired:
            self.problems.add(doc.path, block["start"], "command block did not finish within 120 s")
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def run_console(self, doc, block):
        steps = []   # dict(line, command, expected, status)
        lines = block["lines"]
        i = 0
        while i < len(lines):
            n, l = lines[i]
            if not l.startswith("$ "):
                if not steps:
                    self.problems.add(doc.path, n, "console block: output before the first `$ ` command")
                    return
                steps[-1]["expected"].append(l)
                i += 1
                continue
            cmd = [l[2:]]
            while cmd[-1].endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd.append(lines[i][1])
            steps.append({"line": n, "command": "\n".join(cmd), "expected": [], "status": 0})
            i += 1
        for s in steps:
            while s["expected"] and s["expected"][-1] == "":
                s["expected"].pop()
            if s["expected"] and re.fullmatch(r"\[exit \d+\]", s["expected"][-1]):
                s["status"] = int(s["expected"].pop()[6:-1])
        sep = "@@check-guides-step@@"
        script = "".join(f"{s['command']}\nprintf '\\n{sep} %d\\n' \"$?\"\n" for s in steps)
        work = self.workdir()
        try:
            r = self.execute("exec 2>&1\n" + script, work)
            self.ran += 1
        except subprocess.TimeoutExpired:
            self.problems.add(doc.path, block["start"], "console block did not finish within 120 s")
            return
        finally:
            shutil.rmtree(work, ignore_errors=True)
        # Each step's output is followed by "\n<sep> <status>\n": drop that added newline, then split into lines
        # (a final newline ends the last line; it does not start an empty one).
        outputs = re.split(rf"{sep} (\d+)\n", r.stdout)
        for k, s in enumerate(steps):
            if 2 * k + 1 >= len(outputs):
                self.problems.add(doc.path, s["line"], f"`{s['command']}` did not run (the block stopped earlier)")
                break
            got, status = outputs[2 * k][:-1], int(outputs[2 * k + 1])
            got_lines = got.split("\n")
            if got_lines[-1] == "":
                got_lines.pop()
            if status != s["status"]:
                self.problems.add(doc.path, s["line"], f"`{s['command']}` exited {status}, the guide says {s['status']}: "
                                                       + " | ".join(got_lines[-3:]))
            elif got_lines != s["expected"]:
                diff = next((j for j in range(max(len(got_lines), len(s["expected"])))
                             if j >= len(got_lines) or j >= len(s["expected"]) or got_lines[j] != s["expected"][j]), 0)
                want = s["expected"][diff] if diff < len(s["expected"]) else "(nothing)"
                have = got_lines[diff] if diff < len(got_lines) else "(nothing)"
                self.problems.add(doc.path, s["line"] + 1 + diff,
                                  f"`{s['command'].splitlines()[0]}` printed {have!r} where the guide says {want!r}")

    def effective_defaults(self, schema):
        """The defaults `config check` fills in for a minimal config: {(section, key): value text}."""
        if not self.binary.is_file():
            return None
        work = tempfile.mkdtemp(prefix="check-guides-config-")
        try:
            abi = self.root / "ABI/MockVeniceStaking.json"
            cfg = pathlib.Path(work) / "minimal.toml"
            cfg.write_text(f"[chain]\nrpc_urls = [\"http://127.0.0.1:8545\"]\nchain_id = 1337\n\n[contracts]\n"
                           f"staking = \"0x321b7ff75154472B18EDb199033fF4D116F340Ff\"\nstaking_abi = \"{abi}\"\n"
                           f"treasury = \"0x000000000000000000000000000000000000dEaD\"\n\n"
                           f"[keeper]\ndata_dir = \"{work}/data\"\ndry_run = true\n")
            set_here = {("chain", "rpc_urls"), ("chain", "chain_id"), ("contracts", "staking"),
                        ("contracts", "staking_abi"), ("contracts", "treasury"), ("keeper", "data_dir"), ("keeper", "dry_run")}
            env = {k: v for k, v in os.environ.items() if not k.startswith("EXPANSION_KEEPER_")}
            r = subprocess.run([str(self.binary), "config", "check", "--config", str(cfg)], capture_output=True, text=True,
                               env=env, timeout=60)
            if r.returncode != 0:
                self.problems.add(cfg, 1, f"`config check` of a minimal config failed: {r.stderr.strip()}")
                return None
            out, sec = {}, None
            for line in r.stdout.splitlines():
                m = re.match(r"^\[(\w+)\]$", line)
                if m:
                    sec = m.group(1)
                    continue
                m = re.match(r"^([a-z0-9_]+) = (.*)$", line)
                if m and sec and (sec, m.group(1)) not in set_here and not m.group(2).startswith("#"):
                    # Defaults derived from data_dir (pause_file) are written `<data_dir>/…` in the guide.
                    out[(sec, m.group(1))] = m.group(2).strip().replace(f"{work}/data/", "<data_dir>/")
            return out
        finally:
            shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------ main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=pathlib.Path(__file__).resolve().parents[2], type=pathlib.Path)
    ap.add_argument("--no-run", action="store_true", help="skip command blocks and the config-defaults comparison")
    args = ap.parse_args(argv)
    root = args.root.resolve()
    problems = Problems(root)
    schema = config_schema(root)
    # Every table the keeper accepts (KeeperCore's and the modules' own) is checked, not a fixed list.
    global SECTIONS, ENV_KEY
    SECTIONS = tuple(sorted(set(SECTIONS) | set(schema)))
    ENV_KEY = re.compile(r"\bEXPANSION_KEEPER_(" + "|".join(x.upper() for x in SECTIONS) + r")_([A-Z0-9_]+)\b")
    golden = golden_metrics(root)
    sources_text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in (root / "Sources").rglob("*.swift")) \
        if (root / "Sources").is_dir() else ""
    guides = guide_files(root)
    docs, anchor_cache = {}, {}

    def doc_of(path):
        path = pathlib.Path(path).resolve()
        if path not in docs:
            docs[path] = Doc(path)
        return docs[path]

    def anchors_of(path):
        path = pathlib.Path(path).resolve()
        if path not in anchor_cache:
            anchor_cache[path] = doc_of(path).headings()
        return anchor_cache[path]

    runner = Runner(root, problems)
    n_links = n_keys = n_metrics = 0
    for g in guides:
        d = doc_of(g)
        n_links += check_links(d, root, problems, anchors_of)
        n_keys += check_config_mentions(d, schema, problems)
        n_metrics += check_metrics(d, golden, sources_text, problems)
        check_outside(d, root, problems)
        for b in d.blocks:
            if not b["marked"]:
                continue
            if b["lang"] not in ("sh", "console"):
                problems.add(d.path, b["start"], f"{RUN_MARK} marks a ```{b['lang']} block; only sh and console blocks run")
            elif not args.no_run and runner.ready(d.path, b["start"]):
                (runner.run_sh if b["lang"] == "sh" else runner.run_console)(d, b)
    example = root / "deploy/config/expansion-keeper.example.toml"
    if example.exists():
        n_keys += check_toml_lines(example, list(enumerate(example.read_text(encoding="utf-8").splitlines(), 1)),
                                   schema, problems)
    alerts = root / "deploy/prometheus/alerts.yml"
    if alerts.exists():
        for n, line in enumerate(alerts.read_text(encoding="utf-8").splitlines(), 1):
            for name in METRIC.findall(line):
                if not metric_known(name, golden, sources_text):
                    problems.add(alerts, n, f"metric {name} is not served")
    operator = root / "deploy/docs/operator-guide.md"
    runbook = root / "deploy/docs/runbook.md"
    if operator.exists():
        effective = None if args.no_run else runner.effective_defaults(schema)
        check_config_reference(doc_of(operator), schema, problems, effective)
        check_metrics_table(doc_of(operator), golden, problems)
    else:
        problems.add(operator, 1, "the operator guide is missing")
    check_alerts(root, doc_of(runbook) if runbook.exists() else None, problems)
    check_front_page(root, doc_of(root / "README.md"), problems, guides)
    if runner.bindir:
        shutil.rmtree(runner.bindir, ignore_errors=True)

    for p in problems.items:
        print(p)
    for n in problems.notes:
        print("note: " + n, file=sys.stderr)
    ran = "skipped (--no-run)" if args.no_run else str(runner.ran)
    print(f"check_guides: {len(guides)} guides, {n_links} links, {n_keys} config keys, {n_metrics} metric names, "
          f"command blocks run: {ran}; {len(problems.items)} problem(s)", file=sys.stderr)
    return 1 if problems.items else 0


if __name__ == "__main__":
    sys.exit(main())
