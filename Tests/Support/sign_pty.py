#!/usr/bin/env python3
"""Drives `expansion-keeper` under a pseudo-terminal to test its no-echo password prompt.

usage: sign_pty.py BINARY ANSWER1 ANSWER2 -- ARGS...
Runs BINARY ARGS with a pty as stdin/stdout/stderr, types ANSWER1 after the first prompt and ANSWER2 after
"Repeat" (if asked), and prints one JSON object: {"status": exit code, "transcript": everything the terminal
showed, "prompts": number of prompts seen}.
"""
import json
import os
import pty
import sys
import time

binary, first, second = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[sys.argv.index("--") + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(binary, [binary] + args)

transcript = b""
prompts = 0
answers = [first, second]
deadline = time.time() + 60
while time.time() < deadline:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    transcript += chunk
    # Answer each prompt ("...: ") once it has appeared.
    while prompts < len(answers) and transcript.count(b": ") > prompts:
        time.sleep(0.05)
        try:
            os.write(fd, answers[prompts].encode() + b"\n")
        except OSError:
            break
        prompts += 1
_, status = os.waitpid(pid, 0)
print(json.dumps({"status": os.waitstatus_to_exitcode(status), "transcript": transcript.decode(errors="replace"),
                  "prompts": prompts}))
