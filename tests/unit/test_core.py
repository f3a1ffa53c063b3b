"""Identities, keys, verdicts and request validation: the small pieces everything relies on."""

from __future__ import annotations

import json

import pytest

from chalicelib import ids
from chalicelib.errors import BadRequest, PayloadTooLarge, ValidationFailed
from chalicelib.ingest import parse_scan_request
from chalicelib.models import Severity
from chalicelib.policy import Policy, empty_counts, verdict
from chalicelib.stores import dynamo
from chalicelib.tenancy import Principal, bearer_token, hash_key


def test_finding_id_depends_on_identity_not_on_the_run() -> None:
    base = ids.finding_id("t1", "web", "Dockerfile", None, "DF-USER-001")
    assert base == ids.finding_id("t1", "web", "Dockerfile", None, "DF-USER-001")
    others = {
        ids.finding_id("t2", "web", "Dockerfile", None, "DF-USER-001"),
        ids.finding_id("t1", "api", "Dockerfile", None, "DF-USER-001"),
        ids.finding_id("t1", "web", "api/Dockerfile", None, "DF-USER-001"),
        ids.finding_id("t1", "web", "Dockerfile", "X", "DF-USER-001"),
        ids.finding_id("t1", "web", "Dockerfile", None, "DF-BASE-001"),
    }
    assert base not in others
    assert len(others) == 5
    assert base == ids.finding_id("t1", "web", "Dockerfile", "", "DF-USER-001")
    assert base.startswith("fnd_") and len(base) == 28


def test_scan_id_is_per_tenant_pipeline_and_run() -> None:
    assert ids.scan_id("a", "p", "1") == ids.scan_id("a", "p", "1")
    assert (
        len({ids.scan_id("a", "p", "1"), ids.scan_id("b", "p", "1"), ids.scan_id("a", "p", "2")})
        == 3
    )
    # the separator keeps ("a", "p1") and ("ap", "1") apart
    assert ids.scan_id("a", "p1", "x") != ids.scan_id("ap", "1", "x")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer pgk_" + "a" * 43, "pgk_" + "a" * 43),
        ("bearer   pgk_" + "a" * 43 + "  ", "pgk_" + "a" * 43),
        ("Bearer pgk_short", None),
        ("Token pgk_" + "a" * 43, None),
        ("pgk_" + "a" * 43, None),
        ("Bearer pgk_" + "a" * 40 + "'; --", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header: str | None, expected: str | None) -> None:
    assert bearer_token(header) == expected


def test_keys_are_stored_as_hashes_and_principal_round_trips() -> None:
    assert hash_key("pgk_x") != "pgk_x" and len(hash_key("pgk_x")) == 64
    principal = Principal("acme", "key_1", frozenset({"read", "ingest"}))
    assert Principal.from_context(principal.to_context()) == principal
    assert all(isinstance(v, str) for v in principal.to_context().values())


def test_verdict_threshold_and_parse_errors() -> None:
    counts = empty_counts()
    assert verdict(counts, 0).value == "pass"
    counts["medium"] = 3
    assert verdict(counts, 0).value == "pass"
    assert verdict(counts, 0, Policy(fail_on=Severity.MEDIUM)).value == "fail"
    assert verdict(counts, 1).value == "fail"
    assert verdict(counts, 1, Policy(fail_on_parse_error=False)).value == "pass"
    counts["critical"] = 1
    assert verdict(counts, 0).value == "fail"


def test_dynamo_round_trip_keeps_python_types() -> None:
    item = {"s": "x", "n": 3, "f": 0.25, "none": None, "l": [1, "a"], "m": {"k": [2]}}
    restored = dynamo.deserialize(dynamo.serialize(item))
    assert restored == item
    assert isinstance(restored["n"], int)


def _body(**overrides: object) -> bytes:
    document = {
        "pipeline": "web",
        "run_id": "1",
        "artifacts": [{"type": "dockerfile", "path": "Dockerfile", "content": "FROM a\n"}],
    }
    document.update(overrides)
    return json.dumps(document).encode()


def test_scan_request_validation() -> None:
    request = parse_scan_request(_body(commit="abc123"))
    assert request.artifacts[0].type.value == "dockerfile"
    with pytest.raises(BadRequest):
        parse_scan_request(b"")
    with pytest.raises(BadRequest):
        parse_scan_request(b"\xff\xfe")
    with pytest.raises(ValidationFailed) as bad_name:
        parse_scan_request(_body(pipeline="../etc"))
    assert bad_name.value.details[0]["field"] == "pipeline"
    with pytest.raises(ValidationFailed) as control:
        parse_scan_request(
            _body(artifacts=[{"type": "dockerfile", "path": "a\nb", "content": "FROM a"}])
        )
    assert control.value.details[0]["field"] == "artifacts.0.path"
    with pytest.raises(PayloadTooLarge):
        parse_scan_request(b" " * (6 * 1024 * 1024 + 1))
