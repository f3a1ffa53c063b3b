"""Rules about slow and flaky tests."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.junit import Case, TestReport

SLOW_TEST_SECONDS = 60.0


@rule(
    id="JU-TIME-001",
    artifact_type="junit",
    title="Test slower than its budget",
    severity="low",
    description=(
        f"A single test took longer than {SLOW_TEST_SECONDS:.0f} seconds. Slow tests make "
        "the feedback loop long, get skipped or run less often, and often hide real sleeps, "
        "network calls or timeouts waiting to become flaky."
    ),
    remediation=(
        "Profile the test (`pytest --durations=10`), replace sleeps and real network calls "
        "with fakes, or move it to a separate, explicitly slow suite (`@pytest.mark.slow`)."
    ),
    references=(
        "https://docs.pytest.org/en/stable/how-to/usage.html#profiling-test-execution-duration",
    ),
)
def slow_tests(report: TestReport) -> Iterator[Hit]:
    for case in report.cases:
        if case.time is not None and case.time > SLOW_TEST_SECONDS:
            yield Hit(
                f"test {case.name} took {case.time:.1f} s (budget {SLOW_TEST_SECONDS:.0f} s)",
                line=case.line,
                resource=case.key,
            )


@rule(
    id="JU-FLAKY-001",
    artifact_type="junit",
    title="Flaky test",
    severity="low",
    description=(
        "The test both failed and passed in the same run (a retry turned it green). Flaky "
        "tests train people to ignore red builds and can hide real race conditions."
    ),
    remediation=(
        "Find the source of non-determinism (ordering, time, shared state, network) and fix "
        "it; until then track the test in a quarantine list instead of relying on retries."
    ),
    references=(
        "https://maven.apache.org/surefire/maven-surefire-plugin/examples/rerun-failing-tests.html",
    ),
)
def flaky_tests(report: TestReport) -> Iterator[Hit]:
    by_key: dict[str, list[Case]] = {}
    for case in report.cases:
        if case.name:
            by_key.setdefault(case.key, []).append(case)
    for key, cases in by_key.items():
        statuses = {case.status for case in cases}
        rerun = any(case.flaky for case in cases)
        if rerun or ("passed" in statuses and statuses & {"failed", "error"}):
            first = cases[0]
            how = "passed after failed attempts" if rerun else "both passed and failed"
            yield Hit(f"test {first.name} {how}", line=first.line, resource=key)
