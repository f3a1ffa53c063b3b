"""Which catalog controls the rules assess, and which rules stand behind each control."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["covered_controls", "rules_by_control"]


def rules_by_control(framework_id: str, metas: Iterable[Any]) -> dict[str, list[Any]]:
    """control id → the rules (`RuleMeta`s, by id) that check it, for one framework."""
    found: dict[str, list[Any]] = {}
    for meta in sorted(metas, key=lambda m: m.id):
        for control in meta.controls:
            if control.framework == framework_id:
                found.setdefault(control.control, []).append(meta)
    return found


def covered_controls(framework_id: str, metas: Iterable[Any]) -> set[str]:
    """The ids of the framework's catalog controls that at least one rule checks."""
    from chalicelib.compliance.catalog import FRAMEWORKS

    listed = {c.id for c in FRAMEWORKS[framework_id].controls}
    return listed & set(rules_by_control(framework_id, metas))
