"""Finding lifecycle across runs of a pipeline: new, open, fixed, reopened; suppressed and waived
findings keep their lifecycle underneath and stay visible.

The rules are pure functions of (what this scan found, what was stored before), so a redelivered
record computes exactly what its first delivery wrote.
"""

from __future__ import annotations

from typing import Any

from chalicelib import waivers as waiver_rules

ACTIVE = ("new", "open", "reopened")
NOT_COUNTED = ("suppressed", "waived")  # visible, but they do not fail a verdict


def lifecycle_of(previous: dict[str, Any] | None, scan_id: str) -> str:
    """Where a finding seen by `scan_id` stands, given its stored state before this scan."""
    if previous is None:
        return "new"
    if previous.get("scan_id") == scan_id:  # this scan already wrote it: keep what it decided
        return previous.get("lifecycle", "new")
    return "reopened" if previous.get("lifecycle") == "fixed" else "open"


def apply_overlays(
    item: dict[str, Any], suppression: str | None, waivers: list[dict], at: str
) -> None:
    """Set `status`: a waiver or an inline suppression shows over the lifecycle."""
    waiver = waiver_rules.matching(waivers, item, at)
    item["waiver_id"] = waiver["waiver_id"] if waiver else None
    item["waiver_expires_at"] = waiver["expires_at"] if waiver else None
    item["suppression"] = suppression
    if waiver:
        item["status"] = "waived"
    elif suppression:
        item["status"] = "suppressed"
    else:
        item["status"] = item["lifecycle"]


def fixed_since(
    previous: dict[str, dict[str, Any]], seen: set[str], scan_id: str, at: str
) -> list[dict[str, Any]]:
    """Stored findings of this artifact that this scan no longer sees: they are now fixed.

    A finding this same scan already marked fixed (an earlier delivery of the record) is listed
    again, unchanged, so a redelivery reports what the first delivery reported.
    """
    fixed = []
    for finding_id, item in previous.items():
        if finding_id in seen:
            continue
        if item.get("lifecycle") == "fixed" and item.get("fixed_in_scan") != scan_id:
            continue
        fixed.append(
            {
                **item,
                "lifecycle": "fixed",
                "status": "fixed",
                "fixed_at": at,
                "fixed_in_scan": scan_id,
            }
        )
    return fixed


def public_status(item: dict[str, Any], now: str) -> str:
    """The status to show now: a waiver that has expired since no longer applies."""
    expires = item.get("waiver_expires_at")
    waiver = {"status": "active", "expires_at": expires}
    if item.get("status") == "waived" and expires and not waiver_rules.is_active(waiver, now):
        return item.get("lifecycle", "open")
    return item.get("status", "open")
