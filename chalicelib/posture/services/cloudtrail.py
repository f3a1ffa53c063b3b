"""CloudTrail: the trails that cover the region (multi-region trails show up in every region
and are recorded once, in their home region), with their status and event selectors."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.collect import NOT_READ, Scope

GLOBAL = False


def collect(scope: Scope) -> None:
    response = scope.call(
        "describe_trails",
        feeds=["AWS::CloudTrail::Trail", "cloudtrail.trails"],
        includeShadowTrails=True,
    )
    if response is NOT_READ:
        return
    trails = response.get("trailList") or []
    scope.fact("cloudtrail.trails", [t.get("TrailARN") for t in trails])
    scope.each([t for t in trails if scope.sink.claim("trail:" + t["TrailARN"])],
               lambda trail: _trail(scope, trail))  # fmt: skip


def _trail(scope: Scope, trail: dict[str, Any]) -> None:
    arn = trail["TrailARN"]
    home = trail.get("HomeRegion") or scope.region
    config = dict(trail)
    missing: dict[str, str] = {}
    scope.section(config, missing, "Status", "get_trail_status", resource=arn, Name=arn)
    scope.section(
        config,
        missing,
        "EventSelectors",
        "get_event_selectors",
        pick=lambda r: {k: r.get(k) for k in ("EventSelectors", "AdvancedEventSelectors")},
        resource=arn,
        TrailName=arn,
    )
    scope.add(
        "AWS::CloudTrail::Trail", arn, trail.get("Name") or arn, config, region=home,
        not_assessed=missing,
    )  # fmt: skip
