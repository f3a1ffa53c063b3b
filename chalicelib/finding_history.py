"""A stored finding's `version` and `history`, kept by the findings service on every write.

`version` grows by one with each write that changes the finding (a rewrite of the same content
keeps the stored item and its version). `history` lists the finding's trend transitions, each
`{"v": version, "at": when, "from": [state, severity] | null, "to": [state, severity]}`: the
trend state is `open`, `fixed`, `waived` or `suppressed`. The trend counters are derived from
these entries alone, live from the change stream and again by a rebuild from the table.
"""

from __future__ import annotations

from typing import Any

TRACKED = ("version", "history")
STATES = ("open", "fixed", "waived", "suppressed")


def trend_state(item: dict[str, Any]) -> str:
    """Where the finding stands for the trends: fixed, waived, suppressed, else open."""
    if item.get("lifecycle") == "fixed":
        return "fixed"
    status = item.get("status")
    return status if status in ("waived", "suppressed") else "open"


def _point(item: dict[str, Any]) -> list[str]:
    return [trend_state(item), str(item.get("severity"))]


def _at(item: dict[str, Any]) -> str:
    """When the item's latest change happened: its fix, else the scan that last saw it."""
    if item.get("lifecycle") == "fixed" and item.get("fixed_at"):
        return str(item["fixed_at"])
    return str(item.get("last_seen") or item.get("first_seen"))


def bare(item: dict[str, Any]) -> dict[str, Any]:
    """The finding without the fields this module keeps."""
    return {k: v for k, v in item.items() if k not in TRACKED}


def history_of(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The item's transitions. An item stored before histories were kept gets them from what it
    carries: opened at `first_seen`, then its current state (at its fix or last sighting)."""
    if "history" in item:
        return [dict(entry) for entry in item["history"]]
    version = int(item.get("version", 0))
    opened = ["open", str(item.get("severity"))]
    entries = [{"v": version, "at": str(item.get("first_seen")), "from": None, "to": opened}]
    if _point(item) != opened:
        entries.append({"v": version, "at": _at(item), "from": opened, "to": _point(item)})
    return entries


def stamp(previous: dict[str, Any] | None, item: dict[str, Any]) -> dict[str, Any] | None:
    """`item` as it is to be stored after `previous` (the stored one, or None): with the next
    version and, when its trend state or severity changed, one more history entry. None when it
    says nothing new (the stored item stays as it is)."""
    new = bare(item)
    if previous is None:
        return {**new, "version": 1, "history": [_entry(1, None, new)]}
    if bare(previous) == new:
        return None
    version = int(previous.get("version", 0)) + 1
    history = history_of(previous)
    if _point(previous) != _point(new):
        history.append(_entry(version, _point(previous), new))
    return {**new, "version": version, "history": history}


def _entry(version: int, before: list[str] | None, item: dict[str, Any]) -> dict[str, Any]:
    at = str(item.get("first_seen")) if before is None else _at(item)
    return {"v": version, "at": at, "from": before, "to": _point(item)}
