#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fails on an import circle between the parts of a module folder (default: director/).

A part is a file `b.rs` or a subfolder `b/` with a `mod.rs`. A file `a.rs` depends on its
sibling `b` when it names `super::b` or `crate::<dir>::b`, in a `use` or in a path; a
subfolder depends on what any of its files names as `super::super::b` or
`crate::<dir>::b`. The folder's `mod.rs` is the root that knows every part and is left
out. Subfolders are checked the same way, in turn. Prints each circle found, as
`a -> b -> a`, and exits 1 if there is any.
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


def named_parts(text, prefix):
    """The first segments after `prefix::` in `text`, lists included."""
    named = set()
    # `super::b`, `crate::director::b`, and the lists of `use super::{b, c::{D, E}}`.
    for m in re.finditer(rf"\b(?:{prefix})::(\{{|\w+)", text):
        if m.group(1) == "{":
            named.update(top_level_names(text, m.start(1)))
        else:
            named.add(m.group(1))
    return named


def deps(path, siblings, folder):
    """The siblings that part `path` (a file, or a subfolder) names."""
    if path.is_dir():
        named = set()
        for p in path.rglob("*.rs"):
            # In the subfolder's mod.rs, `super` is this folder; in its files, `super::super`.
            up = "super" if p == path / "mod.rs" else "super::super"
            named |= named_parts(strip_comments(p.read_text()), f"{up}|crate::{folder}")
    else:
        named = named_parts(strip_comments(path.read_text()), f"super|crate::{folder}")
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


def check(root):
    """Checks one folder and its subfolders; returns the number of circles found."""
    parts = {p.stem: p for p in root.glob("*.rs") if p.stem != "mod"}
    subfolders = sorted(p for p in root.iterdir() if (p / "mod.rs").is_file())
    parts.update({p.name: p for p in subfolders})
    graph = {name: deps(p, parts, root.name) for name, p in parts.items()}
    found = circles(graph)
    for c in found:
        print(f"import circle in {root}/: " + " -> ".join(c))
    if not found:
        for name in sorted(graph):
            print(f"{root}/{name}: {', '.join(graph[name]) or '-'}")
    return len(found) + sum(check(p) for p in subfolders)


def main():
    return 1 if check(Path(sys.argv[1] if len(sys.argv) > 1 else "director")) else 0


if __name__ == "__main__":
    sys.exit(main())
