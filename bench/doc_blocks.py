"""Blocks of a generated docs page that other benchmarks own: between
`<!-- NAME-bench:begin -->` and `<!-- NAME-bench:end -->`, kept when a generator rewrites the
rest of the page."""

from __future__ import annotations

import re

_BLOCK = re.compile(
    r"<!-- (?P<name>[a-z]+)-bench:begin -->.*?<!-- (?P=name)-bench:end -->", re.DOTALL
)


def markers(name: str) -> tuple[str, str]:
    """The begin and end markers of the block `name`."""
    return f"<!-- {name}-bench:begin -->", f"<!-- {name}-bench:end -->"


def kept_blocks(page: str) -> str:
    """Every marked block of `page`, in page order, for a generator that rewrites the rest."""
    blocks = [match.group(0) for match in _BLOCK.finditer(page)]
    return "".join("\n" + block + "\n" for block in blocks)
