#!/usr/bin/env python3
"""Prints, as a bash script, every command shown in a Markdown file.

A command is a line starting with "$ " inside a fenced ```sh block; it goes on
over the lines of a here-document it opens, or after a trailing backslash.
Other lines of a block are sample output and are not run. Each command is
echoed, run in the same shell (so `cd` and variables carry on), and must exit
0, else the script stops and says which one failed.

Usage: doc-commands.py FILE [--replace 'COMMAND=>REPLACEMENT']...
"""
import re
import shlex
import sys


def commands(text):
    in_block = False
    cmd = None
    heredoc = None
    for line in text.splitlines():
        if cmd is not None and heredoc is not None:
            cmd.append(line)
            if line == heredoc:
                heredoc = None
                yield "\n".join(cmd)
                cmd = None
            continue
        if cmd is not None and cmd[-1].endswith("\\"):
            cmd.append(line)
            if not line.endswith("\\"):
                yield "\n".join(cmd)
                cmd = None
            continue
        fence = re.match(r"^```(\S*)", line)
        if fence:
            in_block = not in_block and fence.group(1) in ("sh", "console", "shell")
            continue
        if in_block and line.startswith("$ "):
            cmd = [line[2:]]
            m = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line)
            if m:
                heredoc = m.group(1)
            elif not line.endswith("\\"):
                yield cmd[0]
                cmd = None


def main():
    path = sys.argv[1]
    replace = {}
    args = sys.argv[2:]
    while args:
        if args[0] == "--replace":
            a, b = args[1].split("=>", 1)
            replace[a] = b
            args = args[2:]
        else:
            sys.exit("unknown argument " + args[0])
    with open(path, encoding="utf-8") as f:
        text = f.read()
    print("set -o pipefail")
    n = 0
    for cmd in commands(text):
        n += 1
        run = replace.get(cmd, cmd)
        print("printf '%%s\\n' %s" % shlex.quote("$ " + cmd))
        print("{\n%s\n} || { echo %s; exit 1; }" % (run, shlex.quote("FAILED: " + cmd.splitlines()[0])))
    print("echo %s" % shlex.quote("ran %d commands from %s" % (n, path)))
    if n == 0:
        print("echo 'no commands found'; exit 1")


main()
