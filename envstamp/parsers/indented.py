"""Indented ``key: value`` text (system_profiler, amd-smi without --json) as a tree."""

from __future__ import annotations

import re
from typing import Any

import attrs

_LINE = re.compile(r"^(?P<indent>[ \t]*)(?P<key>[^:]+?):(?:[ \t]+(?P<value>.*?))?[ \t]*$")


@attrs.define
class Node:
    """One ``key: value`` line and the lines indented under it."""

    key: str
    value: str | None
    indent: int
    children: list[Node] = attrs.field(factory=list)


def tree(text: str) -> list[Node]:
    """The indentation tree of ``key: value`` lines (other lines are skipped)."""
    roots: list[Node] = []
    stack: list[Node] = []
    for line in text.expandtabs(4).splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        node = Node(match["key"].strip(), match["value"] or None, len(match["indent"]))
        while stack and stack[-1].indent >= node.indent:
            stack.pop()
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)
    return roots


def as_dict(nodes: list[Node]) -> dict[str, Any]:
    """Nested mapping of lower-cased keys: a node with children is a mapping, else its value."""
    return {n.key.lower(): as_dict(n.children) if n.children else n.value for n in nodes}
