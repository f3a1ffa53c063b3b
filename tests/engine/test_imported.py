"""Results of other scanners as findings: rule ids, severities, identity across runs, what is
left out, suppressions in the log, and the tenant's policy over them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from chalicelib import ids, policy
from chalicelib.engine import imported
from chalicelib.engine.registry import all_rules
from chalicelib.engine.runner import RawFinding, evaluate
from chalicelib.models import ArtifactType
from chalicelib.waivers import WaiverRequest
from tests.sarif_tools import LOGS, at, dumps, minimal_log, result

SARIF = ArtifactType.SARIF


def _findings(document: dict[str, Any] | str, **kwargs: Any) -> tuple[list[RawFinding], list]:
    text = document if isinstance(document, str) else dumps(document)
    report = evaluate(SARIF, text, "reports/scan.sarif", **kwargs)
    assert report.error is None, report.error
    imported_only = [f for f in report.findings if imported.is_imported(f.rule_id)]
    return imported_only, report.notes


def _ids(findings: list[RawFinding]) -> dict[tuple[str, str | None, int | None], str]:
    """(rule, file, line) → the finding id evaluation gives it."""
    return {
        (f.rule_id, f.resource, f.line): ids.finding_id(
            "t", "p", "reports/scan.sarif", f.resource, f.rule_id, f.fingerprint
        )
        for f in findings
    }


# --- rule ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "rule", "expected"),
    [
        ("Trivy", "CVE-2024-3094", "sarif:trivy/CVE-2024-3094"),
        ("Semgrep OSS", "python.lang.audit.x", "sarif:semgrep-oss/python.lang.audit.x"),
        ("CodeQL", "py/sql-injection", "sarif:codeql/py/sql-injection"),
        ("  Check Ov!! ", "CKV_AWS_18", "sarif:check-ov/CKV_AWS_18"),
        ("", "R1", "sarif:unknown/R1"),
        ("Demo", None, "sarif:demo/no-rule"),
        ("Demo", "two words\there", "sarif:demo/two-words-here"),
    ],
)  # fmt: skip
def test_rule_ids(tool: str, rule: str | None, expected: str) -> None:
    assert imported.rule_id_of(tool, rule) == expected
    assert imported.valid_reference(expected, packs=False)


def test_long_rule_ids_stay_distinct_and_bounded() -> None:
    a = imported.rule_id_of("t", "x" * 300 + "a")
    b = imported.rule_id_of("t", "x" * 300 + "b")
    assert a != b and len(a) <= len("sarif:t/") + imported.MAX_RULE_PART
    assert imported.valid_reference(a, packs=False)


def test_imported_ids_never_collide_with_ours() -> None:
    ours = [r.meta.id for r in all_rules()] + ["X-ACME-001"]
    assert all(":" not in rule_id for rule_id in ours)
    assert not any(imported.is_imported(rule_id) for rule_id in ours)
    custom_id = re.compile(r"^X-[A-Z0-9]{1,12}-\d{3}$")  # CustomRule.id
    assert not custom_id.match(imported.rule_id_of("X", "ACME-001"))


# --- severity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "level", "expected"),
    [
        ("9.8", "note", "critical"),
        ("9.0", "note", "critical"),
        (8.99, "note", "high"),
        ("7.0", "none", "high"),
        ("6.9", "error", "medium"),
        (4, "error", "medium"),
        ("3.9", "error", "low"),
        ("0.1", "error", "low"),
        ("0.0", "error", "info"),
        (0, "error", "info"),
        (None, "error", "high"),
        (None, "warning", "medium"),
        (None, "note", "low"),
        (None, "none", "info"),
        ("high", "warning", "medium"),  # not a score: the level decides
        ("11", "warning", "medium"),
        ("-1", "note", "low"),
        ("nan", "note", "low"),
        (True, "none", "info"),
    ],
)
def test_severity_mapping(score: Any, level: str, expected: str) -> None:
    assert imported.severity_of(score, level).value == expected


def test_result_score_wins_over_rule_score_and_level() -> None:
    rules = [{"id": "R1", "properties": {"security-severity": "9.1"}}, {"id": "R2"}]
    document = minimal_log(
        [
            result("R1", level="note"),
            result("R1", properties={"security-severity": "2.0"}, locations=at("b.py")),
            result("R2", level="error", locations=at("c.py")),
        ],
        rules=rules,
    )
    found, _ = _findings(document)
    assert [(f.resource, f.severity) for f in found] == [
        (None, "critical"),
        ("b.py", "low"),
        ("c.py", "high"),
    ]


def test_findings_carry_title_message_file_and_line() -> None:
    rules = [{"id": "R1", "shortDescription": {"text": "Rule one\nsecond line"}}]
    document = minimal_log(
        [result("R1", text="bad thing", locations=at("src/a.py", 4))], rules=rules
    )
    (finding,), _ = _findings(document)
    assert (finding.rule_id, finding.title, finding.message) == (
        "sarif:demo/R1",
        "Rule one",
        "bad thing",
    )
    assert (finding.resource, finding.line, finding.suppression) == ("src/a.py", 4, None)


# --- identity -------------------------------------------------------------------------------


def _identity_of(**fields: Any) -> str | None:
    (finding,), _ = _findings(minimal_log([result(locations=at("a.py", 3), **fields)]))
    return finding.fingerprint


def test_identity_prefers_fingerprints_then_partial_then_snippet_then_logical() -> None:
    snippet = {"snippet": {"text": "  eval(x)  \n  more\n"}}
    full = _identity_of(fingerprints={"v": "1"}, partialFingerprints={"p": "2"})
    assert full == _identity_of(fingerprints={"v": "1"}) != _identity_of(fingerprints={"v": "2"})
    partial = _identity_of(partialFingerprints={"p": "2"})
    assert partial not in (None, full)
    (by_snippet,), _ = _findings(minimal_log([result(locations=at("a.py", 3, **snippet))]))
    (same_first_line,), _ = _findings(
        minimal_log([result(locations=at("a.py", 90, snippet={"text": "eval(x)\nother"}))])
    )
    assert by_snippet.fingerprint == same_first_line.fingerprint is not None
    (commented,), _ = _findings(
        minimal_log([result(locations=at("a.py", 3, snippet={"text": "eval(x)  // NOSONAR"}))])
    )
    assert commented.fingerprint == by_snippet.fingerprint
    logical = minimal_log(
        [result(locations=[{"logicalLocations": [{"fullyQualifiedName": "m.f"}]}])]
    )
    (by_logical,), _ = _findings(logical)
    assert by_logical.fingerprint not in (None, by_snippet.fingerprint)
    assert _identity_of() is None  # the rule in that file: one finding


def test_a_fingerprint_shared_by_other_rules_or_files_is_not_an_identity() -> None:
    placeholder = {"matchBasedId/v1": "requires login"}  # what Semgrep OSS writes
    document = minimal_log(
        [
            result("R1", fingerprints=placeholder, locations=at("a.py", 1, snippet={"text": "a"})),
            result("R2", fingerprints=placeholder, locations=at("a.py", 2, snippet={"text": "b"})),
            result("R1", fingerprints={"own": "x"}, locations=at("b.py", 3)),
        ]
    )
    found, notes = _findings(document)
    assert len({f.fingerprint for f in found}) == 3
    assert notes == [
        "runs[0] (Demo): fingerprint fingerprints/matchBasedId/v1 has the same value on results "
        "of different rules or files, so it identifies nothing and is not used"
    ]
    # the same value on two results of one rule in one file: the log says they are one
    twice = minimal_log([result(fingerprints={"k": "v"}, locations=at("a.py", n)) for n in (1, 9)])
    found, notes = _findings(twice)
    assert found[0].fingerprint == found[1].fingerprint and notes == []


def test_checkov_second_run_keeps_identities_fixes_one_and_suppresses_one() -> None:
    first, _ = _findings((LOGS / "checkov-run1.sarif").read_text())
    second, _ = _findings((LOGS / "checkov-run2.sarif").read_text())
    before = {(f.rule_id, f.resource): f for f in first}
    after = {(f.rule_id, f.resource): f for f in second}
    assert set(before) - set(after) == {("sarif:checkov/CKV_AWS_27", "template.yaml")}
    assert set(after) <= set(before)
    for key, finding in after.items():  # the bucket's snippet grew; its first line did not
        assert finding.fingerprint == before[key].fingerprint, key
    suppressed = {k: f.suppression for k, f in after.items() if f.suppression}
    assert suppressed == {
        ("sarif:checkov/CKV_AWS_18", "template.yaml"): (
            "Access logs of this bucket go to the organisation trail"
        )
    }
    assert after[("sarif:checkov/CKV_DOCKER_1", "Dockerfile")].severity == "high"


def test_semgrep_second_run_survives_moved_lines() -> None:
    first, first_notes = _findings((LOGS / "semgrep-run1.sarif").read_text())
    second, second_notes = _findings((LOGS / "semgrep-run2.sarif").read_text())
    ids_before = {f.rule_id: (f.line, f.fingerprint) for f in first}
    ids_after = {f.rule_id: (f.line, f.fingerprint) for f in second}
    assert set(ids_before) - set(ids_after) == {"sarif:semgrep-oss/pickle-loads"}
    shell = "sarif:semgrep-oss/subprocess-shell-true"
    assert ids_before[shell][1] == ids_after[shell][1] and ids_before[shell][0] == 6
    password = "sarif:semgrep-oss/hardcoded-password"
    assert (ids_before[password][0], ids_after[password][0]) == (13, 9)
    # the line gained `# nosemgrep: hardcoded-password`: still the same line
    assert ids_before[password][1] == ids_after[password][1]
    assert {f.rule_id: f.severity for f in first} == {
        shell: "high",  # its rule's security-severity 8.1
        "sarif:semgrep-oss/pickle-loads": "medium",
        password: "low",
    }
    # `# nosemgrep` is an inSource suppression without justification: it still counts
    assert all(f.suppression is None for f in second)
    assert any("without a justification count as findings" in n for n in second_notes)
    assert not any("justification" in n for n in first_notes)


# --- left out, suppressed -------------------------------------------------------------------


def test_passes_not_applicable_and_absent_results_are_not_imported() -> None:
    document = minimal_log(
        [
            result("R1", kind="pass"),
            result("R2", kind="notApplicable"),
            result("R3", baselineState="absent"),
            result("R4", kind="review"),
            result("R5", kind="informational", level="none"),
            result("R6", baselineState="unchanged"),
        ]
    )
    found, notes = _findings(document)
    assert [(f.rule_id, f.severity) for f in found] == [
        ("sarif:demo/R4", "info"),
        ("sarif:demo/R5", "info"),
        ("sarif:demo/R6", "medium"),
    ]
    assert notes == [
        "1 result(s) absent since the baseline not imported",
        "1 result(s) of kind notApplicable not imported",
        "1 result(s) of kind pass not imported",
    ]


@pytest.mark.parametrize(
    ("suppressions", "expected"),
    [
        ([{"kind": "inSource", "justification": "test fixture"}], "test fixture"),
        ([{"kind": "external", "status": "accepted", "justification": " ok "}], "ok"),
        ([{"kind": "inSource"}], None),  # no justification: it counts
        ([{"kind": "inSource", "justification": "   "}], None),
        ([{"kind": "external", "status": "underReview", "justification": "asked"}], None),
        ([{"kind": "inSource", "justification": "x"}, {"kind": "external", "status": "rejected"}],
         None),
        ([], None),
    ],
)  # fmt: skip
def test_suppressions_in_the_log(suppressions: list[dict], expected: str | None) -> None:
    (finding,), _ = _findings(minimal_log([result(suppressions=suppressions)]))
    assert finding.suppression == expected


# --- rules about the runs -------------------------------------------------------------------


def _run_rules(document: dict[str, Any]) -> list[tuple[str, str | None]]:
    report = evaluate(SARIF, dumps(document), "scan.sarif")
    return [(f.rule_id, f.resource) for f in report.findings if f.rule_id.startswith("SA-")]


def test_incomplete_and_erring_runs() -> None:
    assert _run_rules(minimal_log()) == []
    assert _run_rules({"version": "2.1.0", "runs": []}) == [("SA-RUN-001", None)]
    not_computed = minimal_log()
    del not_computed["runs"][0]["results"]
    assert _run_rules(not_computed) == [("SA-RUN-001", "Demo")]
    failed = minimal_log()
    failed["runs"][0]["invocations"] = [
        {
            "executionSuccessful": False,
            "toolExecutionNotifications": [{"level": "error", "message": {"text": "boom"}}],
        }
    ]
    assert sorted(_run_rules(failed)) == [("SA-RUN-001", "Demo"), ("SA-RUN-002", "Demo")]


# --- the tenant's policy --------------------------------------------------------------------


def test_disabled_rules_and_packs() -> None:
    document = minimal_log([result("R1"), result("R2")])
    tenant = policy.parse({"disabled_rules": ["sarif:demo/R1"]})
    found, _ = _findings(document, enabled=tenant.is_enabled)
    assert [f.rule_id for f in found] == ["sarif:demo/R2"]
    for pack in ("sarif:demo", "sarif"):
        assert (
            _findings(document, enabled=policy.parse({"disabled_rules": [pack]}).is_enabled)[0]
            == []
        )
    other = policy.parse({"disabled_rules": ["sarif:dem", "CF"]})
    assert len(_findings(document, enabled=other.is_enabled)[0]) == 2
    assert other.is_enabled("DF-USER-001") and not other.is_enabled("CF-S3-001")


def test_severity_overrides_by_rule_and_by_tool() -> None:
    tenant = policy.parse(
        {"severity_overrides": {"sarif:ruff": "low", "sarif:ruff/S602": "critical"}}
    )
    assert tenant.severity_of("sarif:ruff/S602", "high") == "critical"
    assert tenant.severity_of("sarif:ruff/E501", "high") == "low"
    assert tenant.severity_of("sarif:ruffian/E501", "high") == "high"
    assert tenant.severity_of("DF-USER-001", "high") == "high"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"disabled_rules": ["sarif:Bad Tool"]}, "is no sarif, sarif:<tool> or sarif:<tool>/"),
        ({"disabled_rules": ["sarif:"]}, "is no sarif"),
        ({"severity_overrides": {"sarif:x/a b": "low"}}, "is no sarif:<tool>"),
        ({"severity_overrides": {"sarif": "low"}}, "no rule 'sarif'"),
        ({"severity_overrides": {"SARIF:x/y": "low"}}, "no rule"),
    ],
)  # fmt: skip
def test_policy_refuses_malformed_imported_ids(document: dict, message: str) -> None:
    with pytest.raises(policy.ValidationError, match=re.escape(message)):
        policy.parse(document)


def test_waivers_name_imported_rules() -> None:
    base = {
        "justification": "accepted risk, see ticket",
        "approver": "lead",
        "expires_at": "2999-01-01",
    }
    with pytest.raises(policy.ValidationError, match="must be at most"):
        WaiverRequest.model_validate({**base, "rule_id": "sarif:trivy/CVE-2024-3094"})
    soon = {**base, "expires_at": _soon()}
    waiver = WaiverRequest.model_validate(
        {**soon, "rule_id": "sarif:trivy/CVE-2024-3094", "resource": "go.sum"}
    )
    assert waiver.rule_id == "sarif:trivy/CVE-2024-3094"
    long_id = imported.rule_id_of("semgrep-oss", "python." * 30)
    assert WaiverRequest.model_validate({**soon, "rule_id": long_id}).rule_id == long_id
    for bad in ("sarif:trivy", "sarif:Trivy/X", "sarif"):
        with pytest.raises(policy.ValidationError):
            WaiverRequest.model_validate({**soon, "rule_id": bad})


def _soon() -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(days=30)).isoformat()


def test_custom_rules_do_not_apply_to_sarif() -> None:
    rule = {
        "id": "X-ACME-001",
        "title": "t",
        "severity": "low",
        "artifact_type": "sarif",
        "description": "d",
        "match": {},
        "assert": {"path": "x", "op": "exists"},
    }
    with pytest.raises(policy.ValidationError, match="custom rules do not apply to sarif logs"):
        policy.parse({"custom_rules": [rule]})
