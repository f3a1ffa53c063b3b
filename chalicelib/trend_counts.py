"""Trend counter changes derived from a finding's history entries (pure: the live consumer and
the rebuild both count with `changes`, so they agree by construction).

Per entry: `opened` when the finding first appears, `fixed` when it becomes fixed (with a time
to fix, fixed_at − first_seen), `reopened` when a fixed finding comes back, `waived` when a
waiver starts to cover it, and the change of the `open` total (open = neither fixed, waived
nor suppressed), each on the UTC day of the entry and the finding's pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalicelib.finding_history import history_of

FIELDS = ("opened", "fixed", "reopened", "waived", "open")


@dataclass(frozen=True)
class Update:
    """One change record's finding, as the trends need it."""

    tenant_id: str
    finding_id: str
    version: int
    pipeline: str
    first_seen: str
    history: list[dict[str, Any]]

    @classmethod
    def of(cls, item: dict[str, Any]) -> Update:
        return cls(
            item["tenant_id"],
            item["finding_id"],
            int(item.get("version", 0)),
            str(item.get("pipeline")),
            str(item.get("first_seen")),
            history_of(item),
        )


@dataclass(frozen=True)
class Fix:
    """One fix of a finding: its time to fix, keyed by (finding id, version)."""

    finding_id: str
    version: int
    day: str
    pipeline: str
    severity: str
    seconds: float


@dataclass
class Changes:
    """Counter increments by (day, pipeline, severity, field), and the fixes."""

    counts: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    fixes: list[Fix] = field(default_factory=list)

    def add(self, key: tuple[str, str, str, str], amount: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + amount

    def merge(self, other: Changes) -> None:
        for key, amount in other.counts.items():
            self.add(key, amount)
        self.fixes.extend(other.fixes)

    def by_day(self) -> dict[tuple[str, str], dict[tuple[str, str], int]]:
        """(day, pipeline) → {(field, severity): amount}, zero amounts left out."""
        grouped: dict[tuple[str, str], dict[tuple[str, str], int]] = {}
        for (day, pipeline, severity, name), amount in sorted(self.counts.items()):
            if amount:
                grouped.setdefault((day, pipeline), {})[(name, severity)] = amount
        return grouped


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def day_of(text: str) -> str:
    """The UTC day (YYYY-MM-DD) of an ISO 8601 timestamp."""
    return _instant(text).date().isoformat()


def changes(update: Update, after: int) -> Changes:
    """The counter changes of the update's history entries with a version above `after` (the
    version the counters already hold for this finding; -1 for none)."""
    out = Changes()
    for entry in update.history:
        if int(entry["v"]) <= after:
            continue
        before, to = entry.get("from"), entry["to"]
        day = day_of(entry["at"])

        def count(name: str, severity: str, amount: int = 1, day: str = day) -> None:
            out.add((day, update.pipeline, severity, name), amount)

        if before is None:
            count("opened", to[1])
        if to[0] == "fixed" and (before is None or before[0] != "fixed"):
            count("fixed", to[1])
            seconds = (_instant(entry["at"]) - _instant(update.first_seen)).total_seconds()
            out.fixes.append(
                Fix(update.finding_id, int(entry["v"]), day, update.pipeline, to[1], seconds)
            )
        if before is not None and before[0] == "fixed" and to[0] != "fixed":
            count("reopened", to[1])
        if to[0] == "waived" and (before is None or before[0] != "waived"):
            count("waived", to[1])
        if before is not None and before[0] == "open":
            count("open", before[1], -1)
        if to[0] == "open":
            count("open", to[1])
    return out
