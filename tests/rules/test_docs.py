"""docs/rules.md is generated from the rule metadata and kept current; the CLI lists every rule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from chalicelib.engine.docs import REGENERATE_COMMAND, render_markdown
from chalicelib.engine.registry import all_rules

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "rules.md"
RULES = all_rules()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "collectors", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_rules_reference_is_current() -> None:
    assert DOCS.is_file(), f"docs/rules.md is missing: run `{REGENERATE_COMMAND}`"
    assert DOCS.read_text(encoding="utf-8") == render_markdown(RULES), (
        f"docs/rules.md is stale: run `{REGENERATE_COMMAND}`"
    )


def test_reference_documents_every_rule() -> None:
    text = render_markdown(RULES)
    assert REGENERATE_COMMAND in text.split("\n## ", 1)[0]
    for rule in RULES:
        meta = rule.meta
        assert f'<a id="{meta.id.lower()}"></a>' in text, meta.id
        assert f"### {meta.id}: {meta.title}" in text, meta.id
        assert f"| [{meta.id}](#{meta.id.lower()}) |" in text, meta.id
        for name, default in meta.params.items():
            assert f"| `{name}` | `{json.dumps(default, sort_keys=True)}` |" in text, meta.id


def test_reference_is_stable() -> None:
    assert render_markdown(RULES) == render_markdown(list(reversed(RULES)))
    assert render_markdown(RULES) == render_markdown([rule.meta for rule in RULES])


def test_cli_lists_every_rule_as_json() -> None:
    result = _cli("rules", "--format", "json")
    assert result.returncode == 0, result.stderr
    listed = {item["id"]: item for item in json.loads(result.stdout)}
    assert set(listed) == {rule.meta.id for rule in RULES}
    for rule in RULES:
        item = listed[rule.meta.id]
        assert item["artifact_type"] == rule.meta.artifact_type.value
        assert item["title"] == rule.meta.title
        assert item["severity"] == rule.meta.severity.value


def test_cli_prints_the_reference_as_markdown() -> None:
    result = _cli("rules", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout == render_markdown(RULES)


def test_cli_table_names_each_rules_controls() -> None:
    result = _cli("rules")
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert set(lines) == {rule.meta.id for rule in RULES}
    assert lines["DF-USER-001"].endswith("[cis-docker-1.6 4.1, nist-800-53-r5 AC-6]")
    assert lines["JU-TEST-001"].endswith("Failed test")
    listed = json.loads(_cli("rules", "--format", "json").stdout)
    user = next(item for item in listed if item["id"] == "DF-USER-001")
    assert {"framework": "cis-docker-1.6", "control": "4.1"} in user["controls"]


def test_reference_shows_controls_and_the_coverage_table() -> None:
    from chalicelib.compliance.catalog import FRAMEWORKS

    text = render_markdown(RULES)
    head = text.split("\n## Dockerfile", 1)[0]
    assert "## Compliance coverage" in head
    for framework in FRAMEWORKS.values():
        assert f"(`{framework.id}`) | {framework.version} |" in head
    assert "**Controls**: CIS Docker v1.6.0 4.1 · NIST SP 800-53 r5 AC-6" in text
