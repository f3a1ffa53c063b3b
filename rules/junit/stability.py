"""Rules about slow and flaky tests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.junit import Case, Suite, TestReport
from rules.junit._helpers import number_param

SLOW_TEST_SECONDS = 60.0
SLOW_SUITE_SECONDS = 600.0


@rule(
    id="JU-TIME-001",
    artifact_type="junit",
    title="Test slower than its budget",
    severity="low",
    description=(
        "A single test took longer than its budget (`max_test_seconds`, 60 seconds by "
        "default). Slow tests make the feedback loop long, get skipped or run less often, and "
        "often hide real sleeps, network calls or timeouts waiting to become flaky."
    ),
    remediation=(
        "Profile the test (`pytest --durations=10`), replace sleeps and real network calls "
        "with fakes, or move it to a separate, explicitly slow suite (`@pytest.mark.slow`)."
    ),
    references=(
        "https://docs.pytest.org/en/stable/how-to/usage.html#profiling-test-execution-duration",
    ),
    params={"max_test_seconds": SLOW_TEST_SECONDS},
)
def slow_tests(report: TestReport, params: Mapping[str, Any]) -> Iterator[Hit]:
    budget = number_param(params, "max_test_seconds", SLOW_TEST_SECONDS)
    for case in report.cases:
        if case.time is not None and case.time > budget:
            yield Hit(
                f"test {case.name} took {case.time:.1f} s (budget {budget:g} s)",
                line=case.line,
                resource=case.key,
            )


def _suite_seconds(suite: Suite) -> float | None:
    """The time a suite spent on its own test cases."""
    if suite.time is not None and not suite.has_children:
        return suite.time
    times = [case.time for case in suite.cases if case.time is not None]
    return sum(times) if times else None


@rule(
    id="JU-TIME-002",
    artifact_type="junit",
    title="Test suite slower than its budget",
    severity="low",
    description=(
        "A test suite ran longer than its budget (`max_suite_seconds`, 10 minutes by "
        "default). A pipeline waits for its slowest suite: once a suite outgrows its budget, "
        "feedback on every change slows down and people start skipping the tests."
    ),
    remediation=(
        "Find the slowest tests (`pytest --durations=20`, Surefire's per-test times), split "
        "the suite and run the parts in parallel (`pytest -n auto` with pytest-xdist, "
        "Surefire `forkCount`), or move slow end-to-end tests to a separate stage."
    ),
    references=(
        "https://docs.pytest.org/en/stable/how-to/usage.html#profiling-test-execution-duration",
        "https://maven.apache.org/surefire/maven-surefire-plugin/examples/fork-options-and-parallel-execution.html",
    ),
    params={"max_suite_seconds": SLOW_SUITE_SECONDS},
)
def slow_suites(report: TestReport, params: Mapping[str, Any]) -> Iterator[Hit]:
    budget = number_param(params, "max_suite_seconds", SLOW_SUITE_SECONDS)
    for suite in report.suites:
        if not suite.cases:
            continue
        seconds = _suite_seconds(suite)
        if seconds is not None and seconds > budget:
            yield Hit(
                f"suite {suite.name or '(unnamed)'} took {seconds:.1f} s (budget {budget:g} s)",
                line=suite.line,
                resource=suite.name or None,
            )


@rule(
    id="JU-FLAKY-001",
    artifact_type="junit",
    title="Flaky test",
    severity="low",
    description=(
        "The test both failed and passed in the same run: a retry turned it green, or its "
        "attempts disagree. Surefire and pytest plugins record failed attempts as "
        "`flakyFailure`/`rerunFailure` elements; other runners list each attempt as a "
        "repeated test case. Flaky tests train people to ignore red builds and can hide real "
        "race conditions. Findings start once more than `max_flaky_tests` (0 by default) "
        "tests are flaky."
    ),
    remediation=(
        "Find the source of non-determinism (ordering, time, shared state, network) and fix "
        "it; until then track the test in a quarantine list instead of relying on retries."
    ),
    references=(
        "https://maven.apache.org/surefire/maven-surefire-plugin/examples/rerun-failing-tests.html",
        "https://github.com/pytest-dev/pytest-rerunfailures",
    ),
    params={"max_flaky_tests": 0},
)
def flaky_tests(report: TestReport, params: Mapping[str, Any]) -> Iterator[Hit]:
    allowed = number_param(params, "max_flaky_tests", 0)
    by_key: dict[str, list[Case]] = {}
    for case in report.cases:
        if case.name:
            by_key.setdefault(case.key, []).append(case)
    hits: list[Hit] = []
    for key, cases in by_key.items():
        rerun = any(case.flaky for case in cases)
        statuses = {case.status for case in cases}
        if rerun or ("passed" in statuses and statuses & {"failed", "error"}):
            first = cases[0]
            how = "passed after failed attempts" if rerun else "both passed and failed"
            hits.append(Hit(f"test {first.name} {how}", line=first.line, resource=key))
    if len(hits) > allowed:
        yield from hits
