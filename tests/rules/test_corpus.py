"""Every file of the shared real-world corpus evaluates without an exception escaping."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from chalicelib.engine.runner import evaluate
from chalicelib.models import ArtifactType
from chalicelib.parsers import ParseError, parse

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
# The shared corpus holds no SARIF logs: the real scanners' logs committed with the tests stand in
FOLDERS = {
    ArtifactType.SARIF: Path(__file__).resolve().parents[1] / "parsers" / "sarif_logs",
}
BUDGET_SECONDS = {
    ArtifactType.DOCKERFILE: 20,
    ArtifactType.CLOUDFORMATION: 60,
    ArtifactType.JUNIT: 10,
    ArtifactType.SARIF: 10,
}
# files of the corpus that are broken or not artifacts on purpose
KNOWN_UNREADABLE = {
    "cloudformation/cfn_nag/test_templates/json/structural/rubbish.json",
    "cloudformation/cfn_nag/test_templates/json/structural/no_resources.json",
    "cloudformation/cfn_nag/test_templates/yaml/ignore_fatal/non_cfn.yml",
    "cloudformation/cfn_nag/test_templates/yaml/vulgar_bad_syntax.yml",
    "junit/publish-unit-test-result-action/junit-xml/non-junit.xml",
    "junit/publish-unit-test-result-action/junit-xml/pytest/corrupt-xml.xml",
}


def _corpus_files(artifact_type: ArtifactType) -> list[Path]:
    if artifact_type in FOLDERS:
        return sorted(FOLDERS[artifact_type].glob("*.sarif"))
    folder = CORPUS / artifact_type.value
    if not folder.is_dir():
        pytest.fail(
            f"the shared corpus is missing: expected {folder} (the `shared` folder next to "
            "the repository, with cloudformation/, dockerfile/ and junit/ inside)"
        )
    return sorted(path for path in folder.rglob("*") if path.is_file())


# the types the shared corpus holds (image metadata and AWS inventories have none: their parsers
# and rules are tested on documents of each accepted shape in tests/parsers and tests/rules)
@pytest.mark.parametrize("artifact_type", list(BUDGET_SECONDS), ids=lambda t: t.value)
def test_corpus_evaluates_without_exceptions(artifact_type: ArtifactType) -> None:
    files = _corpus_files(artifact_type)
    assert files, f"no {artifact_type.value} files in the corpus"
    started = time.perf_counter()
    unreadable: set[str] = set()
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        name = path.relative_to(CORPUS).as_posix() if path.is_relative_to(CORPUS) else path.name
        report = evaluate(artifact_type, text, name)  # must not raise
        try:
            parse(artifact_type, text, name)
        except ParseError:
            unreadable.add(name)
            assert report.error, f"{name}: unparseable but no error reported"
            assert not report.findings, f"{name}: findings on an unparseable file"
        else:
            assert report.error is None, f"{name}: {report.error}"
    elapsed = time.perf_counter() - started
    assert elapsed < BUDGET_SECONDS[artifact_type], f"{len(files)} files took {elapsed:.1f} s"
    known = {name for name in KNOWN_UNREADABLE if name.startswith(artifact_type.value + "/")}
    assert known <= unreadable, f"expected parse errors for {sorted(known - unreadable)}"
    assert len(unreadable) <= max(10, len(files) // 50), sorted(unreadable)
