#!/usr/bin/env python3
"""Lists public/open declarations that lack a one-line `///` doc comment, and modules without a header.

Usage: deploy/dev/check_docs.py [Sources/Module ...]   (default: every module under Sources/)
Exit status 1 when something is missing. Run by deploy/dev/test.sh.
"""
import pathlib
import re
import sys

DECL = re.compile(r"^\s*(@\w+(\([^)]*\))?\s+)*(public|open)\s+(?!import)")
root = pathlib.Path(__file__).resolve().parents[2]
dirs = [pathlib.Path(a).resolve() for a in sys.argv[1:]] or [p for p in (root / "Sources").iterdir() if p.is_dir()]
missing = []
for d in dirs:
    files = sorted(d.rglob("*.swift"))
    if files and not any(f.read_text().lstrip().startswith("//") for f in files):
        missing.append(f"{d.name}: no file starts with a module header comment")
    for f in files:
        lines = f.read_text().splitlines()
        for i, line in enumerate(lines):
            if not DECL.match(line):
                continue
            j = i - 1
            while j >= 0 and (lines[j].strip().startswith("@") or lines[j].strip() == ""):
                if lines[j].strip() == "":
                    break
                j -= 1
            if j < 0 or not lines[j].strip().startswith("///"):
                missing.append(f"{f.relative_to(root)}:{i + 1}: {line.strip()[:100]}")
for m in missing:
    print(m)
print(f"check_docs: {len(missing)} undocumented public symbols", file=sys.stderr)
sys.exit(1 if missing else 0)
