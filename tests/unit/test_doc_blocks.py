"""Generated benchmark pages keep the blocks other benchmarks own."""

from __future__ import annotations

from bench.doc_blocks import kept_blocks, markers


def test_every_marked_block_is_kept_in_page_order_and_nothing_else() -> None:
    posture, facets = markers("posture"), markers("facets")
    page = (
        "# Benchmarks\nold corpus figures\n"
        f"{posture[0]}\n## Posture\n12 s\n{posture[1]}\n"
        "stray text\n"
        f"{facets[0]}\n## Facets\np95 22 ms\n{facets[1]}\n"
    )
    kept = kept_blocks(page)
    assert "old corpus figures" not in kept and "stray text" not in kept
    assert kept.index("## Posture") < kept.index("## Facets")
    assert kept_blocks("# Benchmarks\n" + kept) == kept  # rewriting twice changes nothing


def test_an_unclosed_block_is_not_kept() -> None:
    begin, _ = markers("facets")
    assert kept_blocks(f"{begin}\n## Facets\n") == ""
