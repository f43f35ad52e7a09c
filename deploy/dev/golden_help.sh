#!/usr/bin/env bash
# Regenerates the CLI's --help golden files (Tests/Golden/help/*.txt) from a built binary: one file per
# command and subcommand, found by walking the SUBCOMMANDS sections from `expansion-keeper --help` down.
# CLITests/HelpGoldenTests compares the binary with them byte for byte. After an intended change to the CLI
# (a new option, command or help text), build, run this, review `git diff Tests/Golden/help` and commit it:
#     swift build && deploy/dev/golden_help.sh            # or: deploy/dev/golden_help.sh PATH/TO/expansion-keeper
# The width is fixed (COLUMNS=80, LINES=25: ArgumentParser wraps help to COLUMNS, else to the terminal) so the
# files do not depend on the terminal this runs in.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${1:-$root/.build/debug/expansion-keeper}"
out="$root/Tests/Golden/help"
[[ -x "$bin" ]] || { echo "golden_help.sh: no executable at $bin (build first, or pass the binary's path)" >&2; exit 1; }
export COLUMNS=80 LINES=25
mkdir -p "$out"
rm -f "$out"/*.txt

# walk FILE_STEM [WORD…]: writes `bin WORD… --help` to FILE_STEM.txt, then recurses into its subcommands.
# File names: expansion-keeper.txt for the root, else the command words joined by '.' (keys.change-password.txt).
walk() {
    local stem="$1"; shift
    "$bin" "$@" --help > "$out/$stem.txt"
    local sub
    # Subcommand rows are indented two spaces; wrapped help lines are indented further.
    for sub in $(sed -n '/^SUBCOMMANDS:$/,/^$/s/^  \([a-z][a-z0-9-]*\)\( .*\)\{0,1\}$/\1/p' "$out/$stem.txt"); do
        if [[ $# -eq 0 ]]; then walk "$sub" "$sub"; else walk "$stem.$sub" "$@" "$sub"; fi
    done
}
walk expansion-keeper
echo "wrote $(ls "$out"/*.txt | wc -l) files to ${out#"$root"/}" >&2
