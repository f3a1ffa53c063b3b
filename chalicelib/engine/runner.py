"""Evaluate one artifact: parse it, run every rule for its type, collect findings."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from chalicelib.engine import suppressions
from chalicelib.engine.budget import CpuBudget
from chalicelib.engine.registry import rules_for
from chalicelib.kinds import ArtifactType
from chalicelib.parsers import ParseError, load_parser, parse


@dataclass(frozen=True)
class RawFinding:
    """A rule hit in one artifact, before it is given an identity and stored."""

    rule_id: str
    severity: str
    title: str
    message: str
    resource: str | None
    line: int | None
    suppression: str | None = None
    """The reason given by an inline suppression; suppressed findings are still reported."""
    fingerprint: str | None = None
    """What tells this hit apart from others of its rule on its resource, when the artifact
    says (an imported SARIF result's fingerprints or snippet); part of the finding's id."""
    location: str | None = None
    """Where in an artifact that spans places the resource is (an inventory's
    `aws://<account>/<region>`); None for files."""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ArtifactReport:
    """The outcome of evaluating one artifact: its findings, or why it could not be read."""

    path: str
    artifact_type: ArtifactType
    findings: list[RawFinding] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    """Remarks for the artifact's author that are not findings (e.g. a suppression without
    a reason)."""
    locations: list[str] = field(default_factory=list)
    """The places an artifact that spans several holds (an inventory's account and regions),
    which findings' `location` name; empty for a file."""


def prepare(artifact_types: Iterable[ArtifactType]) -> None:
    """Load the parsers and rules of `artifact_types` now rather than on first use."""
    for artifact_type in artifact_types:
        load_parser(artifact_type)
        rules_for(artifact_type)


def evaluate(
    artifact_type: ArtifactType,
    text: str,
    path: str,
    rule_params: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    enabled: Callable[[str], bool] | None = None,
    custom_rules: Sequence[Any] = (),
    parameters: Mapping[str, Any] | None = None,
    budget_ms: float = 2000.0,
) -> ArtifactReport:
    """Run the rules for `artifact_type` over `text`; parse failures become `error`.

    `rule_params` maps a rule id to overrides of that rule's parameters; `enabled` says which
    rules run (default: all); `custom_rules` are a tenant's declarative rules
    (`chalicelib.engine.custom`); `parameters` are CloudFormation parameter values supplied by
    the caller. Rules stop once they have used `budget_ms` of this thread's CPU time (checked
    between rules; parsing is bounded by the parsers' own limits): the artifact then reports an
    error rather than a partial result that could pass. CPU time, not wall time, so that the
    same artifact gets the same outcome on an idle and on a loaded machine.
    """
    report = ArtifactReport(path=path, artifact_type=artifact_type)
    try:
        if parameters and artifact_type is ArtifactType.CLOUDFORMATION:
            from chalicelib.parsers.cloudformation import using_parameters

            with using_parameters(parameters):
                model = parse(artifact_type, text, path)
        else:
            model = parse(artifact_type, text, path)
    except ParseError as exc:
        report.error = str(exc)
        return report
    parser = load_parser(artifact_type)
    views = list(parser.views(model)) if hasattr(parser, "views") else []
    if hasattr(parser, "locations"):
        report.locations = parser.locations(model)
    rules = rules_for(artifact_type)
    if enabled is not None:
        rules = [r for r in rules if enabled(r.meta.id)]
    custom = [c for c in custom_rules if c.artifact_type == artifact_type]
    plan: list[tuple[Any, Any, Any]] = [(rule, model, None) for rule in rules]
    for view in views:
        view_rules = rules_for(view.artifact_type)
        plan += [(r, view.model, view) for r in view_rules if enabled is None or enabled(r.meta.id)]
    suppressed = suppressions.collect(artifact_type, text, model)
    if suppressed.entries:
        suppressed.check_rule_ids([rule.meta.id for rule in rules] + [c.id for c in custom])
    report.notes.extend(suppressed.notes)
    params = rule_params or {}
    budget = CpuBudget(budget_ms)
    spent = budget.spent
    judged_last: Any = None
    declares: Any = None
    for rule, judged, view in plan:
        meta = rule.meta
        if judged is not judged_last:  # a template: skip the rules it cannot concern
            judged_last, declares = judged, getattr(judged, "declares_any", None)
        if meta.resource_types and declares is not None and not declares(meta.resource_types):
            continue
        if spent():
            report.error = (
                f"evaluation stopped after {budget_ms:.0f} ms of CPU time, before rule "
                f"{meta.id}: the artifact is too large or complex to evaluate"
            )
            break
        try:
            if rule.takes_params:
                hits = list(rule.run(judged, params.get(meta.id) if params else None))
            else:
                hits = list(rule.check(judged))
        except Exception:  # a broken rule must not take the artifact down with it
            import logging  # only when a rule crashes: the import is not free at start-up

            logging.getLogger(__name__).exception("rule %s crashed on %s", meta.id, path)
            report.error = f"rule {meta.id} could not evaluate this artifact"
            continue
        if view is not None:
            hits = [h for h in (view.translate(meta.id, hit) for hit in hits) if h is not None]
        if hits:
            report.findings.extend(_finding(meta, hit, suppressed) for hit in hits)
    if artifact_type == ArtifactType.SARIF:
        from chalicelib.engine.imported import import_findings

        imported, notes = import_findings(model, enabled)
        report.findings.extend(imported)
        report.notes.extend(notes)
    if custom:
        from chalicelib.engine.custom import evaluate_custom

        custom_hits, notes = evaluate_custom(custom, artifact_type, model)
        report.notes.extend(notes)
        report.findings.extend(_finding(c, hit, suppressed) for c, hit in custom_hits)
    for view in views:
        from chalicelib.engine.custom import evaluate_custom

        seen = [c for c in custom_rules if c.artifact_type == view.artifact_type]
        if not seen:
            continue
        custom_hits, notes = evaluate_custom(seen, view.artifact_type, view.model)
        report.notes.extend(notes)
        for c, hit in custom_hits:
            translated = view.translate(c.id, hit)
            if translated is not None:
                report.findings.append(_finding(c, translated, suppressed))
    if hasattr(parser, "location"):
        report.findings = [
            replace(f, location=parser.location(model, f.resource)) for f in report.findings
        ]
    report.findings.sort(key=lambda f: (f.line or 0, f.rule_id, f.resource or ""))
    return report


def _finding(meta: Any, hit: Any, suppressed: Any) -> RawFinding:
    """A hit of a built-in rule (its RuleMeta) or of a custom rule (the CustomRule itself)."""
    return RawFinding(
        rule_id=meta.id,
        severity=meta.severity.value,
        title=meta.title,
        message=hit.message,
        resource=hit.resource,
        line=hit.line,
        suppression=suppressed.reason_for(meta.id, hit.resource, hit.line),
    )
