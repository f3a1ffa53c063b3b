"""IAM Access Analyzer: the region's analyzers."""

from __future__ import annotations

from chalicelib.posture.collect import NOT_READ, Scope

GLOBAL = False


def collect(scope: Scope) -> None:
    analyzers = scope.pages("list_analyzers", "analyzers", feeds=["accessanalyzer.analyzers"])
    if analyzers is not NOT_READ:
        scope.fact("accessanalyzer.analyzers", analyzers)
