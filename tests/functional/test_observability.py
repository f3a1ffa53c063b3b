"""Logs are JSON with tenant, scan and correlation id; metrics are EMF; keys are never logged."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Api, scan_body


def _json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict):
            lines.append(document)
    return lines


def test_flow_emits_structured_logs_and_metrics(
    api_url: str,
    keys: dict[str, str],
    pipeline: Any,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    from chalicelib import observability

    observability.logger().setLevel("INFO")
    api = Api(api_url, keys["acme"])
    accepted = api.post("/v1/scans", json=scan_body()).json()
    pipeline.drain()
    assert api.get(accepted["status_url"]).json()["status"] == "complete"
    # a redelivered record must not count the artifact twice
    out = capfd.readouterr().out
    documents = _json_lines(out)

    logs = [d for d in documents if "level" in d and "message" in d]
    queued = [d for d in logs if d["message"] == "scan queued"]
    complete = [d for d in logs if d["message"] == "scan complete"]
    assert queued and complete
    assert queued[0]["tenant_id"] == "acme" and queued[0]["service"] == "pipeguard"
    assert queued[0]["correlation_id"]
    assert complete[0]["scan_id"] == accepted["scan_id"]
    assert complete[0]["correlation_id"] == queued[0]["correlation_id"]

    metrics: dict[str, float] = {}
    for document in documents:
        if "_aws" not in document:
            continue
        assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Pipeguard"
        for definition in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = document[definition["Name"]]
            values = value if isinstance(value, list) else [value]
            metrics[definition["Name"]] = metrics.get(definition["Name"], 0) + sum(values)
    assert metrics["ArtifactsIngested"] == 1
    assert metrics["ArtifactsEvaluated"] == 1
    assert metrics["FindingsHigh"] >= 1
    assert metrics["EvaluationDuration"] > 0
    assert metrics["FindingsIndexed"] >= 1

    for secret in keys.values():
        assert secret not in out
    assert "FROM ubuntu" not in out, "artifact bodies must not be logged"
    observability.logger().setLevel("WARNING")
