#!/usr/bin/env python3
"""check-layers: src/'s folders are layers; no folder calls into one above it.

    scripts/check-layers.py [--srcdir DIR] [--objdir DIR]

The order is read from docs/architecture.md (the line that starts with
"Layers, top to bottom:"), so that the documentation and the check cannot
disagree. Calls are read from the object files of the build (--objdir, a
build directory where `make` ran): every global symbol an object leaves
undefined that another folder's object defines is a call from the first
folder into the second. Includes are read from the sources (--srcdir): a
file may include the headers of its own folder and of the folders below it.

Also checks that every folder under src/ is a documented layer, that src/
itself holds no source but main (git-train.c), and that modules never
print: only the command layer (cmd/) touches stdout, stderr or the
terminal; the rest speak through util/ui.h. The exceptions are util/util.c,
which defines the msg_*() lines the commands print with, and aws/trace.c,
whose GIT_TRAIN_TRACE lines are for debugging.

Prints one line per violation and exits 1 when there is any, 0 otherwise.
"""
import argparse
import os
import re
import subprocess
import sys

MARKER = "Layers, top to bottom:"
MAIN = "git-train.c"


def read_layers(srcdir):
    path = os.path.join(srcdir, "docs", "architecture.md")
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip().startswith(MARKER):
                names = line.strip()[len(MARKER):].strip().rstrip(".")
                layers = [n.strip().strip("`") for n in names.split(",") if n.strip()]
                if layers:
                    return layers
    sys.exit("check-layers: %s has no line '%s ...'" % (path, MARKER))


def folder_of(relpath, layers):
    """The most specific layer holding relpath ("aws/creds/imds.c" -> "aws/creds")."""
    best = None
    for layer in layers:
        if relpath.startswith(layer + "/") and (best is None or len(layer) > len(best)):
            best = layer
    return best


def nm_all(paths, *flags):
    """{path: [lines]} of `nm flags` over every path, in one run of nm."""
    out = subprocess.run(["nm", "-A", *flags, *paths], check=True, capture_output=True,
                         text=True)
    lines = {p: [] for p in paths}
    for line in out.stdout.splitlines():
        # "path:0000000000000000 T sym", "path:                 U sym"
        path, _, rest = line.rpartition(":")
        if path in lines:
            lines[path].append(rest.strip())
    return lines


def object_files(objdir, srcdir):
    """The objects of src/, skipping stale ones whose source is gone."""
    base = os.path.join(objdir, "src")
    for root, _, files in os.walk(base):
        for name in files:
            if not name.endswith(".o"):
                continue
            full = os.path.join(root, name)
            rel = os.path.relpath(full, base)
            stem = re.sub(r"^[A-Za-z0-9_]+-", "", name[:-2]) if "-" in name else name[:-2]
            for cand in (name[:-2], stem):
                src = os.path.join(os.path.dirname(rel), cand + ".c")
                if (os.path.exists(os.path.join(srcdir, "src", src)) or
                        os.path.exists(os.path.join(objdir, "src", src))):
                    yield full, rel
                    break


def layered_objects(objdir, srcdir, layers):
    """(path, rel, folder) of every object in a layer; main's is left out."""
    objects = []
    for full, rel in object_files(objdir, srcdir):
        folder = folder_of(rel, layers)
        if folder is not None:
            objects.append((full, rel, folder))
    if not objects:
        sys.exit("check-layers: no object files under %s/src (run make first)" % objdir)
    return objects


def check_calls(objects, rank, undefined):
    defined = {}  # symbol -> (folder, object)
    symbols = nm_all([full for full, _, _ in objects], "--defined-only", "-g")
    for full, rel, folder in objects:
        for line in symbols[full]:
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBRCVW":
                defined[parts[2]] = (folder, rel)
    errors = []
    for full, rel, folder in objects:
        for sym in undefined[full]:
            if sym not in defined:
                continue
            callee, where = defined[sym]
            if rank[callee] < rank[folder]:
                errors.append("%s calls %s (%s): %s may not call into %s, a layer above it"
                              % (rel, sym, where, folder, callee))
    return errors


# What printing to the terminal takes, as symbols an object file references.
PRINTING = {"stdout", "stderr", "printf", "vprintf", "puts", "putchar", "perror", "isatty",
            "msg_error", "msg_warning", "msg_hint", "msg_warning_lines", "err_report"}
PRINTING_ALLOWED = {"cmd"}
PRINTING_EXCEPTIONS = {"util/util.o", "aws/trace.o"}


def check_printing(objects, undefined):
    errors = []
    for full, rel, folder in objects:
        if folder in PRINTING_ALLOWED or rel in PRINTING_EXCEPTIONS:
            continue
        used = sorted(set(undefined[full]) & PRINTING)
        if used:
            errors.append("%s uses %s: only cmd/ prints; modules speak through util/ui.h"
                          % (rel, ", ".join(used)))
    return errors


INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def check_sources(srcdir, layers, rank):
    errors = []
    src = os.path.join(srcdir, "src")
    for name in sorted(os.listdir(src)):
        full = os.path.join(src, name)
        if os.path.isdir(full):
            continue
        if name.endswith((".c", ".h")) and name != MAIN:
            errors.append("src/%s: every source but %s goes in a subsystem folder" % (name, MAIN))
    for root, dirs, files in os.walk(src):
        rel_root = os.path.relpath(root, src)
        if rel_root != "." and rel_root not in layers:
            errors.append("src/%s/: a folder that docs/architecture.md does not list as a layer"
                          % rel_root)
            continue
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            rel = os.path.normpath(os.path.join(rel_root, name))
            folder = folder_of(rel, layers)
            with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
                for no, line in enumerate(f, 1):
                    if "#include_next" in line:
                        errors.append("src/%s:%d: #include_next" % (rel, no))
                    m = INCLUDE.match(line)
                    if not m or folder is None:
                        continue
                    target = folder_of(m.group(1), layers)
                    if target is None:
                        errors.append("src/%s:%d: include \"%s\" names no folder"
                                      % (rel, no, m.group(1)))
                    elif rank[target] < rank[folder]:
                        errors.append("src/%s:%d: includes %s: %s may not depend on %s, "
                                      "a layer above it" % (rel, no, m.group(1), folder, target))
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--srcdir", default=os.path.dirname(here))
    ap.add_argument("--objdir", default=None, help="a build directory (default: skip calls)")
    args = ap.parse_args()
    layers = read_layers(args.srcdir)
    rank = {name: i for i, name in enumerate(layers)}  # 0 is the top
    errors = check_sources(args.srcdir, layers, rank)
    if args.objdir:
        objects = layered_objects(args.objdir, args.srcdir, layers)
        undefined = {path: [line.split()[-1] for line in lines]
                     for path, lines in nm_all([o[0] for o in objects], "-u").items()}
        errors += check_calls(objects, rank, undefined)
        errors += check_printing(objects, undefined)
    for e in errors:
        print("error: " + e)
    if errors:
        print("layers, top to bottom: " + ", ".join(layers))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
