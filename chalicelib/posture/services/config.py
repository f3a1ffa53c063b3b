"""AWS Config: the region's configuration recorders and whether they are recording."""

from __future__ import annotations

from chalicelib.posture.collect import NOT_READ, Scope

GLOBAL = False


def collect(scope: Scope) -> None:
    recorders = scope.call("describe_configuration_recorders", feeds=["config.recorders"])
    if recorders is NOT_READ:
        return
    status = scope.call("describe_configuration_recorder_status", feeds=["config.recorders"])
    if status is NOT_READ:
        return
    states = {s.get("name"): s for s in status.get("ConfigurationRecordersStatus") or []}
    scope.fact(
        "config.recorders",
        [
            {**r, "Status": states.get(r.get("name"), {})}
            for r in recorders.get("ConfigurationRecorders") or []
        ],
    )
