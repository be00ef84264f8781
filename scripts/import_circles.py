#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fails on an import circle between the files of a module folder (default: director/).

A file `a.rs` depends on its sibling `b.rs` when it names `super::b` or `crate::<dir>::b`,
in a `use` or in a path; the folder's `mod.rs` is the root that knows every part and is
left out. Prints each circle found, as `a -> b -> a`, and exits 1 if there is any.
"""
import re
import sys
from pathlib import Path


def strip_comments(text):
    """Drops line comments, which may name modules in prose."""
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def top_level_names(text, start):
    """The first path segment of each item in the brace list that opens at text[start]."""
    depth, item, names = 0, "", []
    for ch in text[start:]:
        if ch == "{":
            depth += 1
            if depth == 1:
                continue
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
        if depth == 1 and ch == ",":
            names.append(item)
            item = ""
        elif depth >= 1:
            item += ch
    names.append(item)
    return [n.strip().split("::", 1)[0].strip() for n in names if n.strip()]


def deps(path, siblings, folder):
    """The siblings that file `path` names."""
    text = strip_comments(path.read_text())
    named = set()
    # `super::b`, `crate::director::b`, and the lists of `use super::{b, c::{D, E}}`.
    for m in re.finditer(rf"\b(?:super|crate::{folder})::(\{{|\w+)", text):
        if m.group(1) == "{":
            named.update(top_level_names(text, m.start(1)))
        else:
            named.add(m.group(1))
    return sorted(n for n in named if n in siblings and n != path.stem)


def circles(graph):
    """Every elementary circle, each once, from its smallest member."""
    found = []

    def walk(start, node, path, seen):
        for nxt in graph[node]:
            if nxt == start:
                found.append(path + [start])
            elif nxt > start and nxt not in seen:
                walk(start, nxt, path + [nxt], seen | {nxt})

    for start in sorted(graph):
        walk(start, start, [start], {start})
    return found


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "director")
    files = {p.stem: p for p in root.glob("*.rs") if p.stem != "mod"}
    graph = {name: deps(p, files, root.name) for name, p in files.items()}
    found = circles(graph)
    for c in found:
        print(f"import circle in {root}/: " + " -> ".join(c))
    if not found:
        for name in sorted(graph):
            print(f"{name}: {', '.join(graph[name]) or '-'}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
