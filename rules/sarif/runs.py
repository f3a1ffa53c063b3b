"""Rules about the scanner runs a log records: a run that failed or erred found nothing, and
an empty result list from it must not read as a clean bill of health."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.sarif import SarifLog

_SPEC = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html"


@rule(
    id="SA-RUN-001",
    artifact_type="sarif",
    title="Scanner run did not complete",
    severity="high",
    description=(
        "The log holds no run, a run whose invocation reports `executionSuccessful: false`, "
        "or a run without a `results` array (SARIF's way of saying that results were not "
        "computed, as opposed to an empty array: nothing found). Such a run's silence proves "
        "nothing: the scanner crashed, timed out or was misconfigured, and a pipeline gated "
        "on its findings would pass unchecked."
    ),
    remediation=(
        "Read the scanner's output in the CI job, fix its configuration or environment and "
        "run it again; submit the log only once the run completes (most scanners exit "
        "non-zero when they fail: do not ignore that exit code)."
    ),
    references=(_SPEC, "https://github.com/oasis-tcs/sarif-spec/issues/398"),
)
def incomplete_runs(log: SarifLog) -> Iterator[Hit]:
    if not log.runs:
        yield Hit("the log holds no scanner run at all")
    for run in log.runs:
        name = run.tool or "(unnamed tool)"
        if run.execution_successful is False:
            yield Hit(f"runs[{run.index}]: {name} reports that its run failed", resource=name)
        elif run.results is None:
            yield Hit(
                f"runs[{run.index}]: {name} wrote no results array: results were not computed",
                resource=name,
            )


@rule(
    id="SA-RUN-002",
    artifact_type="sarif",
    title="Scanner reported errors during its run",
    severity="medium",
    description=(
        "An invocation of the scanner carries an error-level tool execution or configuration "
        "notification: a file it could not read, a rule that failed to load, a parse error. "
        "What the error touched was not scanned, so the log may miss findings even though "
        "the run completed."
    ),
    remediation=(
        "Fix the cause the notification names (an unreadable file, a bad rule, a missing "
        "dependency) and scan again; exclude the file from the scan explicitly if it is not "
        "meant to be scanned."
    ),
    references=(_SPEC,),
)
def erred_runs(log: SarifLog) -> Iterator[Hit]:
    for run in log.runs:
        name = run.tool or "(unnamed tool)"
        for error in run.errors:
            yield Hit(f"runs[{run.index}]: {name} reported an error: {error[:300]}", resource=name)
