#!/usr/bin/env python3
"""Import circles between the top-level modules of a crate, and its longest source files.

    python3 scripts/modules.py [crate_src_dir ...]     (default: src www/src)

A top-level module is `src/<name>.rs` or `src/<name>/` (with everything under it). Module A uses
module B when a file of A names `crate::B` (in a `use`, a path or a doc link). Prints each strongly connected set of more than one module
(an import circle) with one edge path through it, then the files over 1,000 lines. Exits 1 when
`--check` is given and there is a circle or a file over the limit (issue "One home per
subsystem"); without it, it only reports.
"""
import os
import re
import sys

LIMIT = 1000


def top_module(src, path):
    rel = os.path.relpath(path, src)
    first = rel.split(os.sep)[0]
    if first.endswith(".rs"):
        first = first[:-3]
    return first


def scan(src):
    edges = {}
    long_files = []
    pat = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")
    for root, _dirs, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(root, f)
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            n = text.count("\n")
            if n > LIMIT:
                long_files.append((n, path))
            a = top_module(src, path)
            if a in ("lib", "main"):
                continue
            for b in pat.findall(text):
                is_module = os.path.exists(os.path.join(src, b + ".rs")) or os.path.isdir(os.path.join(src, b))
                if b != a and is_module:
                    edges.setdefault(a, set()).add(b)
    return edges, sorted(long_files, reverse=True)


def sccs(edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    nodes = set(edges) | {b for bs in edges.values() for b in bs}

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            strong(v)
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    check = "--check" in sys.argv
    bad = False
    for src in args or ["src", "www/src"]:
        edges, long_files = scan(src)
        circles = sccs(edges)
        print(f"{src}: {len(edges)} modules with uses, {len(circles)} import circle(s), "
              f"{len(long_files)} file(s) over {LIMIT} lines")
        for comp in circles:
            inner = {a: sorted(b for b in edges.get(a, ()) if b in comp) for a in comp}
            print(f"  circle of {len(comp)}: " + "; ".join(f"{a} -> {', '.join(bs)}" for a, bs in inner.items()))
        for n, path in long_files:
            print(f"  {n:6d} lines  {path}")
        bad = bad or bool(circles) or bool(long_files)
    if check and bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
