"""Hostile artifacts are reported as parse errors of that artifact: no crash, no 5xx, no reads."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api

YAML_BOMB = """\
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
Resources: *h
"""
XML_BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<testsuite name="&lol3;"><testcase name="t"/></testsuite>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<testsuite name="&xxe;"><testcase name="t"/></testsuite>
"""
DEEP_YAML = (
    "Resources:\n  R:\n    Type: AWS::S3::Bucket\n    Properties: " + "[" * 5000 + "]" * 5000
)
HOSTILE = [
    ("cloudformation", "bomb.yaml", YAML_BOMB),
    ("cloudformation", "deep.yaml", DEEP_YAML),
    ("cloudformation", "deep.json", '{"Resources": ' + "[" * 20000 + "]" * 20000 + "}"),
    ("junit", "bomb.xml", XML_BOMB),
    ("junit", "xxe.xml", XXE),
    ("junit", "binary.xml", "\x00\x01\x02 not text"),
    ("dockerfile", "empty.Dockerfile", ""),
    ("dockerfile", "Dockerfile.bin", "\x00" * 100),
    ("cloudformation", "nul.yaml", "Resources:\n  A: \x00\n"),
]


def test_hostile_artifacts_become_parse_errors(api_url: str, keys: dict, pipeline: Any) -> None:
    api = Api(api_url, keys["acme"])
    body = {
        "pipeline": "hostile",
        "run_id": "r1",
        "artifacts": [{"type": t, "path": p, "content": c} for t, p, c in HOSTILE],
    }
    accepted = api.post("/v1/scans", json=body)
    assert accepted.status_code == 202, accepted.text
    pipeline.drain()
    scan = api.get(accepted.json()["status_url"]).json()
    assert scan["status"] == "complete"
    assert scan["verdict"] == "fail"  # unreadable artifacts fail the default policy
    for artifact in scan["artifacts"]:
        assert artifact["status"] == "error", artifact
        assert artifact["error"] and len(artifact["error"]) < 500
    report = api.get(accepted.json()["status_url"] + "/report").text
    assert "root:" not in report  # /etc/passwd was never read


def test_invalid_utf8_body_is_a_400(api_url: str, keys: dict) -> None:
    api = Api(api_url, keys["acme"])
    raw = b'{"pipeline": "p", "run_id": "r", "artifacts": [{"type": "dockerfile", '
    raw += b'"path": "D", "content": "FROM \xff\xfe"}]}'
    response = api.post("/v1/scans", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
