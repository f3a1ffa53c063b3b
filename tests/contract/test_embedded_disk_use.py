"""What a stored finding costs on disk: a finding of the usual size fits in its table's page
(no overflow page per row, which would make each one take a whole extra page)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from chalicelib.stores import embedded


def _finding(n: int) -> dict[str, object]:
    """A finding shaped like the ones evaluation stores (about 1 KiB of JSON)."""
    return {
        "tenant_id": "acme",
        "finding_id": f"fnd_{n:024x}",
        "artifact_key": f"acme#{n:032x}",
        "pipeline_key": f"acme#{n + 1:032x}",
        "artifact_type": "cloudformation",
        "commit": f"{n:040x}",
        "first_seen": "2026-12-07T18:22:48.504+00:00",
        "last_seen": "2026-12-07T18:22:48.504+00:00",
        "fixed_at": None,
        "fixed_in_scan": None,
        "lifecycle": "open",
        "line": 51,
        "lines": [51],
        "message": "the security group rule has no Description: say what the rule is for",
        "path": "infra/template.yaml",
        "pipeline": "acme/service-05@main",
        "resource": "securityGroupIngress",
        "rule_id": "CF-EC2-011",
        "run_id": f"run-{n:08d}",
        "scan_id": f"scn_{n:024x}",
        "severity": "low",
        "status": "open",
        "suppression": None,
        "title": "Security group rule without a description",
        "waiver_expires_at": None,
        "waiver_id": None,
        "account": None,
        "region": None,
        "service": None,
        "remediation": "Add a Description to each ingress and egress rule " * 4,
    }


def test_a_finding_of_the_usual_size_needs_no_overflow_page(tmp_path: Path) -> None:
    path = tmp_path / "pipeguard.db"
    findings = [_finding(n) for n in range(300)]
    assert 1000 < len(json.dumps(findings[0])) < 1500
    embedded.build(str(path)).findings.put_many("acme", findings)
    conn = sqlite3.connect(path)
    overflow = conn.execute(
        "SELECT COUNT(*) FROM dbstat WHERE name = 'findings' AND pagetype = 'overflow'"
    ).fetchone()[0]
    stored = conn.execute("SELECT COUNT(*) FROM findings").fetchone()[0]
    conn.close()
    assert stored == 300
    assert overflow == 0, f"{overflow} overflow pages for {stored} findings"
