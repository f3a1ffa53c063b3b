"""Rules about the report as a whole and its suites."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.junit import Counts, TestReport
from rules.junit._helpers import number_param, report_resource

SKIPPED_RATIO_LIMIT = 0.5
ERRORED_SUITE_MIN_CASES = 2


def _mismatches(declared: Counts, counted: Counts) -> list[str]:
    expected_skipped = None
    if declared.skipped is not None or declared.disabled is not None:
        expected_skipped = (declared.skipped or 0) + (declared.disabled or 0)
    pairs = (
        ("tests", declared.tests, counted.tests),
        ("failures", declared.failures, counted.failures),
        ("errors", declared.errors, counted.errors),
        ("skipped", expected_skipped, counted.skipped),
    )
    return [
        f"{name}={said} but {found} found"
        for name, said, found in pairs
        if said is not None and said != found
    ]


@rule(
    id="JU-SUITE-001",
    artifact_type="junit",
    title="No tests in the report",
    severity="medium",
    description=(
        "A report without a single test case usually means the test step found nothing to "
        "run (wrong path or pattern, a collection error) while the pipeline still looks green."
    ),
    remediation=(
        "Check the test command's discovery settings (paths, patterns, markers) and make the "
        "step fail when nothing is collected (pytest exits with code 5; Surefire has "
        "`-Dsurefire.failIfNoSpecifiedTests=true`)."
    ),
    references=("https://docs.pytest.org/en/stable/reference/exit-codes.html",),
)
def no_tests(report: TestReport) -> Iterator[Hit]:
    if not report.cases:
        yield Hit(
            "the report contains no test case", line=report.line, resource=report_resource(report)
        )


@rule(
    id="JU-SUITE-002",
    artifact_type="junit",
    title="Suite totals do not match its test cases",
    severity="medium",
    description=(
        "A suite whose declared tests/failures/errors/skipped totals disagree with the cases "
        "it contains was usually cut short (a crashed runner, a truncated or merged report), "
        "so some tests may not have run or their results were lost."
    ),
    remediation=(
        "Look at the test step's log for a crash or timeout, and publish the report the test "
        "runner wrote without post-processing it; re-run the suite."
    ),
    references=("https://github.com/testmoapp/junitxml#basic-junit-xml-structure",),
)
def totals_mismatch(report: TestReport) -> Iterator[Hit]:
    hits: list[Hit] = []
    for suite in report.suites:
        counted = suite.counted
        if not counted.tests and suite.declared.tests:
            hits.append(
                Hit(
                    f"suite declares {suite.declared.tests} tests but contains no test case "
                    "(did it run?)",
                    line=suite.line,
                    resource=suite.name or None,
                )
            )
            continue
        problems = _mismatches(suite.declared, counted)
        if problems:
            hits.append(
                Hit(
                    f"suite declares {'; '.join(problems)}",
                    line=suite.line,
                    resource=suite.name or None,
                )
            )
    if not hits and report.root == "testsuites" and report.cases:
        # the root's totals only matter when no suite already explains the difference
        problems = _mismatches(report.declared, _count(report))
        if problems:
            hits.append(
                Hit(
                    f"the report declares {'; '.join(problems)}",
                    line=report.line,
                    resource=report_resource(report),
                )
            )
    yield from hits


def _count(report: TestReport) -> Counts:
    statuses = [case.status for case in report.cases]
    return Counts(
        tests=len(statuses),
        failures=statuses.count("failed"),
        errors=statuses.count("error"),
        skipped=statuses.count("skipped"),
    )


@rule(
    id="JU-SKIP-001",
    artifact_type="junit",
    title="Most tests were skipped",
    severity="medium",
    description=(
        "More than `max_skipped_ratio` of the tests (50% by default) were skipped: the run "
        "proves little, and skip conditions (missing services, environment variables, "
        "platforms) often hide that a whole area is no longer tested."
    ),
    remediation=(
        "Provide what the skipped tests need in CI (services, credentials for test accounts, "
        "platforms) or delete tests that can never run; keep `skip` for documented cases."
    ),
    references=("https://docs.pytest.org/en/stable/how-to/skipping.html",),
    params={"max_skipped_ratio": SKIPPED_RATIO_LIMIT},
)
def mostly_skipped(report: TestReport, params: Mapping[str, Any]) -> Iterator[Hit]:
    limit = number_param(params, "max_skipped_ratio", SKIPPED_RATIO_LIMIT)
    total = len(report.cases)
    skipped = sum(1 for case in report.cases if case.status == "skipped")
    if total and skipped / total > limit:
        yield Hit(
            f"{skipped} of {total} tests were skipped ({skipped / total:.0%}, limit {limit:.0%})",
            line=report.line,
            resource=report_resource(report),
        )


@rule(
    id="JU-SUITE-004",
    artifact_type="junit",
    title="Every test of a suite ended in an error",
    severity="medium",
    description=(
        "When all the tests of a suite error out (not fail), the cause is almost never the "
        "tests themselves: a class or module set-up (`@BeforeAll`, `setUpClass`, a fixture), "
        "a missing service or an import error broke the whole suite. One finding points at "
        "that shared cause; the suite needs at least `min_cases` tests (2 by default)."
    ),
    remediation=(
        "Read the first error of the suite: fix the shared set-up (database or service "
        "container not started, missing environment variable, import error), then re-run; "
        "in CI start dependencies as services and wait for them to be ready."
    ),
    references=(
        "https://docs.pytest.org/en/stable/how-to/fixtures.html",
        "https://junit.org/junit5/docs/current/user-guide/#writing-tests-classes-and-methods",
    ),
    params={"min_cases": ERRORED_SUITE_MIN_CASES},
)
def errored_suites(report: TestReport, params: Mapping[str, Any]) -> Iterator[Hit]:
    minimum = max(1.0, number_param(params, "min_cases", ERRORED_SUITE_MIN_CASES))
    for suite in report.suites:
        cases = suite.cases
        if len(cases) >= minimum and all(case.status == "error" for case in cases):
            yield Hit(
                f"all {len(cases)} tests of suite {suite.name or '(unnamed)'} ended in an error",
                line=suite.line,
                resource=suite.name or None,
            )
