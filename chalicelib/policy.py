"""The verdict: does a scan pass the tenant's policy?"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from chalicelib.models import SEVERITY_ORDER, Severity, Verdict


class Policy(BaseModel):
    """What makes a scan fail."""

    model_config = ConfigDict(extra="forbid")

    fail_on: Severity = Severity.HIGH
    fail_on_parse_error: bool = True


DEFAULT_POLICY = Policy()


def empty_counts() -> dict[str, int]:
    return {s.value: 0 for s in SEVERITY_ORDER}


def verdict(counts: dict[str, int], parse_errors: int, policy: Policy = DEFAULT_POLICY) -> Verdict:
    """Fail when any finding is at or above `fail_on`, or (by default) an artifact is unreadable."""
    if parse_errors and policy.fail_on_parse_error:
        return Verdict.FAIL
    blocking = SEVERITY_ORDER[policy.fail_on.rank :]
    return Verdict.FAIL if any(counts.get(s.value, 0) for s in blocking) else Verdict.PASS
