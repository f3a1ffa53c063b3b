"""Rules about test outcomes."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.junit import TestReport
from rules.junit._helpers import shorten


def _status_hits(report: TestReport, status: str, verb: str) -> Iterator[Hit]:
    for case in report.cases:
        if case.status == status:
            detail = f": {shorten(case.message)}" if case.message else ""
            yield Hit(
                f"test {case.name or '(unnamed)'} {verb}{detail}", line=case.line, resource=case.key
            )


@rule(
    id="JU-TEST-001",
    artifact_type="junit",
    title="Failed test",
    severity="high",
    description=(
        "A test assertion failed: the change under test breaks expected behaviour, or the test "
        "itself is wrong. Shipping a build with failing tests ships the regression."
    ),
    remediation=(
        "Fix the code or the test and run the suite again; if the test is known-broken, "
        'quarantine it explicitly (e.g. `@pytest.mark.xfail(reason="#123")`) rather than '
        "ignoring the failure."
    ),
    references=("https://github.com/testmoapp/junitxml#basic-junit-xml-structure",),
)
def failed_tests(report: TestReport) -> Iterator[Hit]:
    yield from _status_hits(report, "failed", "failed")


@rule(
    id="JU-TEST-002",
    artifact_type="junit",
    title="Errored test",
    severity="high",
    description=(
        "The test could not run to completion (an unexpected exception, a broken fixture, "
        "a timeout): whatever it was meant to check has not been checked."
    ),
    remediation=(
        "Read the error's stack trace, fix the setup or the code path that raises, and run "
        "the suite again."
    ),
    references=("https://github.com/testmoapp/junitxml#basic-junit-xml-structure",),
)
def errored_tests(report: TestReport) -> Iterator[Hit]:
    yield from _status_hits(report, "error", "ended in an error")


@rule(
    id="JU-SKIP-002",
    artifact_type="junit",
    title="Test skipped without a reason",
    severity="low",
    description=(
        "A skipped test that gives no reason cannot be reviewed: nobody can tell whether it "
        "waits for a fix, a platform or a service, or was switched off and forgotten. Skips "
        "without reasons pile up silently and the coverage they stood for is lost."
    ),
    remediation=(
        "Always say why, and link the ticket: "
        '`@pytest.mark.skip(reason="flaky on ARM, see #482")`, '
        '`@Disabled("waits for PAY-913")`, `it.skip` with a comment in the test name.'
    ),
    references=(
        "https://docs.pytest.org/en/stable/how-to/skipping.html",
        "https://junit.org/junit5/docs/current/user-guide/#writing-tests-disabling",
    ),
)
def skipped_without_reason(report: TestReport) -> Iterator[Hit]:
    for case in report.cases:
        if case.status == "skipped" and not (case.message or "").strip():
            yield Hit(
                f"test {case.name or '(unnamed)'} was skipped without a reason",
                line=case.line,
                resource=case.key,
            )
