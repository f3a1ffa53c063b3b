"""GuardDuty: the region's detectors with their status and features."""

from __future__ import annotations

from chalicelib.posture.collect import NOT_READ, Scope

GLOBAL = False


def collect(scope: Scope) -> None:
    ids = scope.pages("list_detectors", "DetectorIds", feeds=["guardduty.detectors"])
    if ids is NOT_READ:
        return
    detectors = []
    for detector_id in ids:
        detector = scope.call("get_detector", feeds=["guardduty.detectors"], DetectorId=detector_id)
        if detector is NOT_READ:
            return
        detectors.append({"DetectorId": detector_id, **(detector or {})})
    scope.fact("guardduty.detectors", detectors)
