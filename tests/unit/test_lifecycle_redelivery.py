"""A redelivered record reports the same fixed findings as its first delivery."""

from __future__ import annotations

from chalicelib.lifecycle import fixed_since

AT = "2026-12-01T10:00:00.000+00:00"


def _stored(finding_id: str, lifecycle: str, fixed_in_scan: str | None = None) -> dict:
    return {
        "finding_id": finding_id,
        "scan_id": "scn_old",
        "lifecycle": lifecycle,
        "status": lifecycle,
        "fixed_at": AT if fixed_in_scan else None,
        "fixed_in_scan": fixed_in_scan,
    }


def test_fixed_by_this_scan_is_reported_again_unchanged_and_older_fixes_are_not() -> None:
    previous = {
        "a": _stored("a", "open"),
        "b": _stored("b", "fixed", fixed_in_scan="scn_this"),  # an earlier delivery wrote it
        "c": _stored("c", "fixed", fixed_in_scan="scn_before"),
        "d": _stored("d", "open"),
    }
    fixed = fixed_since(previous, {"d"}, "scn_this", AT)
    assert sorted(f["finding_id"] for f in fixed) == ["a", "b"]
    assert {f["fixed_in_scan"] for f in fixed} == {"scn_this"}
    assert {(f["lifecycle"], f["status"], f["fixed_at"]) for f in fixed} == {("fixed", "fixed", AT)}
    first_delivery = fixed_since({"a": _stored("a", "open")}, set(), "scn_this", AT)
    assert [f for f in fixed if f["finding_id"] == "a"] == first_delivery
