"""Trends through the whole flow on moto: scans → findings → the findings stream → the index
handler's trend counters → `GET /v1/trends` over HTTP; a replay of the whole stream counts
nothing twice; bad queries are 422s naming the parameter; tenants see only their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Api, scan_body
from tests.spec import assert_matches

FIXED_DOCKERFILE = 'FROM ubuntu:24.04\nUSER app\nHEALTHCHECK CMD ["true"]\nCMD ["bash"]\n'


def _scan(api: Api, pipeline: Any, run_id: str, content: str | None = None) -> None:
    artifacts = (
        [{"type": "dockerfile", "path": "Dockerfile", "content": content}] if content else None
    )
    response = api.post("/v1/scans", json=scan_body(run_id=run_id, artifacts=artifacts))
    assert response.status_code == 202, response.text
    pipeline.drain()


def _today(api: Api, **params: str) -> dict[str, Any]:
    response = api.get("/v1/trends", params=params)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert_matches("TrendSeries", answer)
    return answer


def _replay_the_findings_stream(aws: Any, app_module: Any) -> None:
    """A second reader of the findings stream from its start: every record delivered again."""
    from chalice.local import LambdaContext

    from chalicelib.local.runner import DynamoDBStreamSource, SourceOptions

    source = DynamoDBStreamSource(
        name="index_findings",
        arn=aws.findings_stream_arn,
        handler=app_module.index_findings,
        options=SourceOptions(batch_size=7, retry_delay=0.001),
        dead_letter_queue_url=aws.dead_letter_queue_url,
        context_factory=lambda: LambdaContext("test", 512, max_runtime_ms=60_000),
    )
    source.discover(force=True)
    while source.poll():
        pass


def test_trends_count_the_lifecycle_once_and_only_for_the_tenant(
    api_url: str, keys: dict[str, str], pipeline: Any, aws: Any, app_module: Any
) -> None:
    acme, globex = Api(api_url, keys["acme"]), Api(api_url, keys["globex"])
    _scan(acme, pipeline, "run-1")
    opened = _today(acme)
    assert len(opened["series"]) == 30 and opened["bucket"] == "day"
    today = opened["series"][-1]
    found = acme.get("/v1/findings", params={"pipeline": "web"}).json()["findings"]
    assert today["opened"] == today["open"] == len(found) > 1
    assert today["fixed"] == 0 and opened["time_to_fix"] == {}

    _scan(acme, pipeline, "run-2", FIXED_DOCKERFILE)
    fixed = _today(acme)["series"][-1]
    still_open = {
        f["finding_id"]
        for f in acme.get("/v1/findings", params={"pipeline": "web"}).json()["findings"]
        if f["status"] != "fixed"
    }
    assert fixed["opened"] == today["opened"] + sum(
        1 for f in still_open if f not in {g["finding_id"] for g in found}
    )
    assert fixed["fixed"] >= 1 and fixed["open"] == len(still_open)
    answer = _today(acme)
    assert sum(v["fixed"] for v in answer["time_to_fix"].values()) == fixed["fixed"]

    _replay_the_findings_stream(aws, app_module)
    assert _today(acme) == answer

    assert all(b["opened"] == b["open"] == 0 for b in _today(globex)["series"])
    assert all(b["opened"] == 0 for b in _today(globex, pipeline="web")["series"])


def test_bad_trend_queries_are_422s_that_name_the_parameter(
    api_url: str, keys: dict[str, str]
) -> None:
    api = Api(api_url, keys["acme"])
    today = datetime.now(UTC).date()
    cases = {
        "from": {"from": "2026-13-01"},
        "to": {"to": "yesterday"},
        "bucket": {"bucket": "year"},
        "severity": {"severity": "urgent"},
        "colour": {"colour": "red"},
    }
    for field, params in cases.items():
        response = api.get("/v1/trends", params=params)
        assert response.status_code == 422, (params, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_failed"
        assert [d["field"] for d in error["details"]] == [field], error
    backwards = api.get("/v1/trends", params={"from": "2026-12-08", "to": "2026-12-01"})
    assert backwards.status_code == 422
    assert "from must be on or before to" in backwards.json()["error"]["message"]
    too_long = api.get("/v1/trends", params={"from": (today - timedelta(days=1100)).isoformat()})
    assert too_long.status_code == 422
    assert "at most 1100" in too_long.json()["error"]["message"]
    longest = api.get("/v1/trends", params={"from": (today - timedelta(days=1099)).isoformat()})
    assert longest.status_code == 200
    monthly = api.get(
        "/v1/trends", params={"from": "2026-01-15", "to": "2026-03-02", "bucket": "month"}
    )
    assert [(b["start"], b["end"]) for b in monthly.json()["series"]] == [
        ("2026-01-15", "2026-01-31"),
        ("2026-02-01", "2026-02-28"),
        ("2026-03-01", "2026-03-02"),
    ]
