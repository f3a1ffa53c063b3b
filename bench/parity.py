"""Parity report: do we flag what checkov and hadolint flag, for the concepts we share?

Runs checkov (cloudformation and dockerfile frameworks), hadolint and our offline scan on the
corpus, maps their check ids and our rule ids to concepts (bench/parity_map.py), and compares
resource by resource (CloudFormation: file + logical id) or line by line (Dockerfile: file +
instruction line; whole-file for image-level concepts). Writes docs/parity.md and
bench/results/parity.json.

Our rules are listed at run time (`python -m collectors rules --format json`), so the report
follows the rules as they are added. The tools' outputs are cached in bench/results/parity/
(they do not change when our rules do); `--rerun-tools` refreshes them.

    make parity                      # or: .venv/bin/python -m bench.parity [--rerun-tools]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    CFN_DIR,
    DOCKERFILE_DIR,
    DOCS,
    RESULTS,
    checkov_cmd,
    corpus_relative,
    dockerfiles,
    hadolint_cmd,
    machine_info,
    measure,
    our_rules,
    our_scan_cmd,
    tool_versions,
)
from bench.parity_map import CONCEPTS, DECISIONS, Concept, Place, Reasons

CACHE = RESULTS / "parity"
TARGET_SHARE = 0.95
SAMPLES = 4  # examples per concept, tool and direction in docs/parity.md


def log(message: str) -> None:
    print(f"[parity {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Hit:
    """One finding reduced to what is compared: a check/rule id at a place."""

    source: str  # "ours", "checkov", "hadolint"
    check: str
    file: str  # relative to the corpus subfolder
    resource: str | None  # CloudFormation logical id
    line: int | None
    message: str


# -- running the tools ---------------------------------------------------------------------------


def _run(name: str, cmd: list[str], rerun: bool) -> Path:
    out = CACHE / f"{name}.json"
    if out.exists() and out.stat().st_size > 0 and not rerun:
        log(f"{name}: cached output {out.name} (use --rerun-tools to refresh)")
        return out
    log(f"{name}: running {' '.join(cmd[:4])} ...")
    stats = measure(cmd, stdout=out, stderr=CACHE / f"{name}.stderr", sample_tree=False)
    log(f"{name}: {stats.wall_s:.1f} s, exit {stats.returncode}")
    return out


def _checkov_full(folder: Path, framework: str) -> list[str]:
    # Without --quiet, so passed checks and parse errors are listed too: they tell whether
    # checkov evaluated a resource we flag or never saw it.
    return [arg for arg in checkov_cmd(folder, framework) if arg != "--quiet"]


def run_all(rerun_tools: bool) -> dict[str, Path]:
    CACHE.mkdir(parents=True, exist_ok=True)
    paths = {
        "checkov-cloudformation": _run(
            "checkov-cloudformation", _checkov_full(CFN_DIR, "cloudformation"), rerun_tools
        ),
        "checkov-dockerfile": _run(
            "checkov-dockerfile", _checkov_full(DOCKERFILE_DIR, "dockerfile"), rerun_tools
        ),
        "hadolint": _run("hadolint", hadolint_cmd(dockerfiles()), rerun_tools),
    }
    for name, folder in (("ours-cloudformation", CFN_DIR), ("ours-dockerfile", DOCKERFILE_DIR)):
        paths[name] = _run(name, our_scan_cmd(folder), True)  # our rules change: always rerun
    return paths


# -- reading their outputs -----------------------------------------------------------------------


@dataclass
class CheckovReport:
    failed: list[Hit]
    evaluated: set[tuple[str, str, str | None]]  # (check, file, resource) passed or failed
    parse_errors: set[str]


def read_checkov(path: Path, root: Path, cfn: bool) -> CheckovReport:
    data = json.loads(path.read_text() or "{}")
    reports = data if isinstance(data, list) else [data]
    failed: list[Hit] = []
    evaluated: set[tuple[str, str, str | None]] = set()
    errors: set[str] = set()
    for report in reports:
        results = report.get("results", {})
        for status in ("failed_checks", "passed_checks"):
            for item in results.get(status, []):
                file = corpus_relative(item.get("file_abs_path") or item["file_path"], root)
                resource = item.get("resource", "")
                logical = resource.split(".", 1)[1] if cfn and "." in resource else None
                start = (item.get("file_line_range") or [None])[0]
                evaluated.add((item["check_id"], file, logical))
                if status == "failed_checks":
                    failed.append(
                        Hit("checkov", item["check_id"], file, logical, start, item["check_name"])
                    )
        errors.update(corpus_relative(p, root) for p in results.get("parsing_errors", []))
    return CheckovReport(failed, evaluated, errors)


def read_hadolint(path: Path) -> list[Hit]:
    return [
        Hit(
            "hadolint",
            item["code"],
            corpus_relative(item["file"], DOCKERFILE_DIR),
            None,
            item.get("line"),
            item.get("message", ""),
        )
        for item in json.loads(path.read_text() or "[]")
    ]


def read_ours(path: Path, root: Path) -> tuple[list[Hit], set[str]]:
    data = json.loads(path.read_text())
    hits = [
        Hit(
            "ours",
            f["rule_id"],
            corpus_relative(f["file"], root),
            f.get("resource"),
            f.get("line"),
            f.get("message", ""),
        )
        for f in data["findings"]
    ]
    errors = {corpus_relative(e["file"], root) for e in data.get("errors", [])}
    return hits, errors


# -- comparing -----------------------------------------------------------------------------------

Key = tuple[str, str | int | None]  # (file, logical id | line | None)


def _instruction_at(file: str, line: int | None, cache: dict[str, list[str]]) -> str:
    """The instruction keyword of the Dockerfile line (FROM, USER...), or ''."""
    if line is None:
        return ""
    if file not in cache:
        try:
            cache[file] = (DOCKERFILE_DIR / file).read_text(errors="replace").splitlines()
        except OSError:
            cache[file] = []
    lines = cache[file]
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return text.split(maxsplit=1)[0].upper() if text else ""


def _key(concept: Concept, hit: Hit) -> Key:
    if concept.artifact == "cloudformation":
        return (hit.file, hit.resource)
    return (hit.file, hit.line if concept.granularity == "line" else None)


def compare(
    concept: Concept,
    tool: str,
    theirs: Iterable[Hit],
    ours: Iterable[Hit],
    existing: set[str],
    lines: dict[str, list[str]],
) -> dict[str, Any]:
    their_ids = set(concept.checkov if tool.startswith("checkov") else concept.hadolint)
    our_ids = set(concept.ours) & existing
    their_hits: dict[Key, list[Hit]] = defaultdict(list)
    our_hits: dict[Key, list[Hit]] = defaultdict(list)
    for hit in theirs:
        if hit.check in their_ids:
            their_hits[_key(concept, hit)].append(hit)
    for hit in ours:
        if hit.check not in our_ids:
            continue
        if concept.ours_at and _instruction_at(hit.file, hit.line, lines) != concept.ours_at:
            continue
        our_hits[_key(concept, hit)].append(hit)
    both = their_hits.keys() & our_hits.keys()
    return {
        "concept": concept.key,
        "tool": tool,
        "their_ids": sorted(their_ids),
        "our_ids": sorted(our_ids),
        "shared": bool(our_ids),
        "theirs": len(their_hits),
        "ours": len(our_hits),
        "both": len(both),
        "only_theirs": [
            _example(k, their_hits[k]) for k in sorted(their_hits.keys() - both, key=str)
        ],
        "only_ours": [_example(k, our_hits[k]) for k in sorted(our_hits.keys() - both, key=str)],
    }


def _example(key: Key, hits: list[Hit]) -> dict[str, Any]:
    return {
        "file": key[0],
        "where": key[1],
        "checks": sorted({h.check for h in hits}),
        "message": hits[0].message,
        "line": hits[0].line,
    }


def _ignored_by_hadolint(file: str, line: int | None, codes: Iterable[str], ctx: Context) -> bool:
    """Whether the author silenced one of `codes` with `# hadolint ignore=` (or global ignore)."""
    lines = ctx.source(DOCKERFILE_DIR / file)
    wanted = set(codes)

    def names(text: str) -> set[str]:
        _, _, rest = text.partition("ignore=")
        return {c.strip() for c in rest.split(",")}

    for text in lines:
        if "hadolint global ignore=" in text and names(text) & wanted:
            return True
    if line is None:
        return any("hadolint ignore=" in t and names(t) & wanted for t in lines)
    index = line - 2  # the comment lines right above the instruction
    while index >= 0 and lines[index].lstrip().startswith("#"):
        if "hadolint ignore=" in lines[index] and names(lines[index]) & wanted:
            return True
        index -= 1
    return False


def _not_deployed(file: str, logical_id: str | None, ctx: Context) -> bool:
    """Whether our parser sees the resource's Condition as false with the parameter defaults."""
    if logical_id is None:
        return False
    key = (file, logical_id)
    if key not in ctx.deployed:
        try:
            from chalicelib.parsers.cloudformation import parse

            tpl = parse("\n".join(ctx.source(CFN_DIR / file)))
            res = tpl.resources.get(logical_id)
            ctx.deployed[key] = not (
                res is not None and res.condition and tpl.condition_value(res.condition) is False
            )
        except Exception:  # a bench heuristic must not stop the report
            ctx.deployed[key] = True
    return not ctx.deployed[key]


@dataclass
class Context:
    """Caches for classifying differences."""

    sources: dict[Path, list[str]]
    deployed: dict[tuple[str, str], bool]

    def source(self, path: Path) -> list[str]:
        if path not in self.sources:
            try:
                self.sources[path] = path.read_text(errors="replace").splitlines()
            except OSError:
                self.sources[path] = []
        return self.sources[path]


def _classify(
    item: dict[str, Any],
    direction: str,
    concept: Concept,
    tool: str,
    checkov: CheckovReport | None,
    our_errors: set[str],
    ctx: Context,
) -> str:
    """A reason for one difference: structural causes first, then the first of the concept's
    written reasons whose claim holds for this finding (checked against the file)."""
    file = item["file"]
    root = CFN_DIR if concept.artifact == "cloudformation" else DOCKERFILE_DIR
    place = Place(concept.artifact, root / file, item["where"])
    if direction == "only_theirs":
        if file in our_errors:
            return "our parse error on this file (it is reported as an error, not evaluated)"
        if concept.artifact == "cloudformation" and _not_deployed(file, item["where"], ctx):
            return (
                "not deployed: the resource's Condition is false with the parameter defaults; "
                "we skip such resources, checkov ignores Conditions"
            )
        return _written(concept.why_theirs, place)
    if tool == "hadolint" and _ignored_by_hadolint(file, item["line"], concept.hadolint, ctx):
        return "suppressed by the author: `# hadolint ignore=…` above the instruction"
    if checkov is not None and tool.startswith("checkov"):
        if file in checkov.parse_errors:
            return "their parse error: checkov could not read this file"
        if concept.artifact == "cloudformation" and not any(
            (check, file, item["where"]) in checkov.evaluated for check in concept.checkov
        ):
            return (
                "they never evaluate this resource (checkov skipped it: resource type, SAM "
                "transform, or a template it could not fully load)"
            )
    return _written(concept.why_ours, place)


def _written(reasons: Reasons, place: Place) -> str:
    for reason in reasons:
        if reason.applies(place):
            return reason.text
    if reasons:
        return "not reviewed: the written reason(s) of the concept do not hold for this finding"
    return "not reviewed: the concept has no written reason for this direction"


# -- report --------------------------------------------------------------------------------------


def build(paths: dict[str, Path], rules: list[dict[str, Any]]) -> dict[str, Any]:
    existing = {r["id"] for r in rules}
    ck_cfn = read_checkov(paths["checkov-cloudformation"], CFN_DIR, cfn=True)
    ck_df = read_checkov(paths["checkov-dockerfile"], DOCKERFILE_DIR, cfn=False)
    hadolint = read_hadolint(paths["hadolint"])
    ours_cfn, errors_cfn = read_ours(paths["ours-cloudformation"], CFN_DIR)
    ours_df, errors_df = read_ours(paths["ours-dockerfile"], DOCKERFILE_DIR)
    lines: dict[str, list[str]] = {}
    ctx = Context({}, {})
    rows: list[dict[str, Any]] = []
    for concept in CONCEPTS:
        cfn = concept.artifact == "cloudformation"
        ours, our_errors = (ours_cfn, errors_cfn) if cfn else (ours_df, errors_df)
        tools: list[tuple[str, list[Hit], CheckovReport | None]] = []
        if concept.checkov:
            report = ck_cfn if cfn else ck_df
            tools.append(("checkov" if cfn else "checkov-dockerfile", report.failed, report))
        if concept.hadolint:
            tools.append(("hadolint", hadolint, None))
        for tool, theirs, report in tools:
            row = compare(concept, tool, theirs, ours, existing, lines)
            row["title"], row["artifact"] = concept.title, concept.artifact
            row["granularity"] = concept.granularity
            for direction in ("only_theirs", "only_ours"):
                for item in row[direction]:
                    item["reason"] = _classify(
                        item, direction, concept, tool, report, our_errors, ctx
                    )
            rows.append(row)
    mapped = {rule_id for c in CONCEPTS for rule_id in c.ours}
    all_theirs = Counter(h.check for h in ck_cfn.failed + ck_df.failed + hadolint)
    mapped_theirs = {i for c in CONCEPTS for i in (*c.checkov, *c.hadolint)}
    shared = [r for r in rows if r["shared"]]
    by_tool = {name: _summary([r for r in shared if r["tool"] in tools]) for name, tools in _GROUPS}
    overall = _summary(shared)
    return {
        "machine": machine_info(),
        "tools": tool_versions(),
        "rules": len(existing),
        "missing_ids": sorted(mapped - existing),
        "unmapped_ours": sorted(
            r["id"]
            for r in rules
            if r["id"] not in mapped and r["artifact_type"] in ("cloudformation", "dockerfile")
        ),
        "unmapped_theirs": [
            {"check": check, "count": n}
            for check, n in all_theirs.most_common()
            if check not in mapped_theirs and not check.startswith("SC")
        ],
        "shellcheck_findings": sum(n for c, n in all_theirs.items() if c.startswith("SC")),
        "our_errors": {"cloudformation": sorted(errors_cfn), "dockerfile": sorted(errors_df)},
        "checkov_parse_errors": sorted(ck_cfn.parse_errors | ck_df.parse_errors),
        "by_tool": by_tool,
        "all_tools": overall,
        "not_reviewed": sum(
            1
            for r in shared
            for direction in ("only_theirs", "only_ours")
            for item in r[direction]
            if reason_class(item["reason"]) == "not reviewed"
        ),
        "rows": rows,
    }


_CLASSES = (
    ("their false positive", "their false positive"),
    ("not deployed", "by design / different semantics"),
    ("by design", "by design / different semantics"),
    ("different semantics", "by design / different semantics"),
    ("different concept", "by design / different semantics"),
    ("our false negative", "our false negative"),
    ("our planned gap", "our planned gap"),
    ("our parse error", "our parse error"),
    ("our false positive", "our false positive"),
    ("their false negative", "their false negative"),
    ("their parse error", "their parse error"),
    ("they never evaluate", "they skip the resource"),
    ("suppressed by the author", "suppressed by the author"),
    ("not a disagreement", "by design / different semantics"),
)


_NOT_OUR_MISS = frozenset({"their false positive", "by design / different semantics"})

# The requirement's target is on checkov (CloudFormation and Dockerfile); hadolint is compared
# line by line and reported on its own.
_GROUPS = (
    ("checkov-cloudformation", ("checkov",)),
    ("checkov-dockerfile", ("checkov-dockerfile",)),
    ("checkov", ("checkov", "checkov-dockerfile")),
    ("hadolint", ("hadolint",)),
)


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Their findings in shared concepts, how many we flag too, and why we miss the rest."""
    theirs = sum(r["theirs"] for r in rows)
    both = sum(r["both"] for r in rows)
    missed = Counter(reason_class(i["reason"]) for r in rows for i in r["only_theirs"])
    ours_only = Counter(reason_class(i["reason"]) for r in rows for i in r["only_ours"])
    explained = sum(n for kind, n in missed.items() if kind in _NOT_OUR_MISS)
    rest = theirs - explained
    return {
        "pairs": len(rows),
        "theirs": theirs,
        "both": both,
        "share": both / theirs if theirs else None,
        "explained": explained,
        "share_excluding_explained": both / rest if rest else None,
        "only_theirs_by_class": dict(missed.most_common()),
        "only_ours_by_class": dict(ours_only.most_common()),
    }


def reason_class(reason: str) -> str:
    """The kind of a written reason, from its leading words."""
    return next((kind for prefix, kind in _CLASSES if reason.startswith(prefix)), "not reviewed")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _where(item: dict[str, Any]) -> str:
    return "file" if item["where"] is None else str(item["where"])


def render(result: dict[str, Any]) -> str:
    rows = result["rows"]
    shared = [r for r in rows if r["shared"]]
    gaps = [r for r in rows if not r["shared"]]
    out = [
        "# Parity with checkov and hadolint",
        "",
        "<!-- Generated by `make parity` (bench/parity.py, concept map in bench/parity_map.py);"
        " edit those, not this file. -->",
        "",
        f"Generated {result['machine']['date']} on Pipeguard "
        f"{result['machine']['pipeguard_revision']} with {result['rules']} rules; "
        + ", ".join(f"{k} {v}" for k, v in result["tools"].items())
        + ". Corpus: `../shared/corpus` (902 CloudFormation templates, 474 Dockerfiles).",
        "",
        "Their findings and ours are mapped to *concepts* (bench/parity_map.py) and compared "
        "per place: CloudFormation by file + logical id, Dockerfiles by file + instruction line "
        "(whole file for image-level concepts such as a missing HEALTHCHECK). A place counts "
        "once per concept however many of the mapped checks fire there. ShellCheck findings "
        f"that hadolint embeds ({result['shellcheck_findings']}) are out of scope.",
        "",
        "## Headline",
        "",
        f"The target is on checkov: we flag at least {TARGET_SHARE:.0%} of what checkov flags in "
        "the concepts we share, and every remaining difference has a written reason. The share "
        "is given raw first, then leaving out their findings classified as *their false "
        "positive* or *by design / different semantics* (each such reason is checked against "
        "the file, finding by finding, see below). hadolint is compared line by line and "
        "reported on its own.",
        "",
        "| tool | shared concepts | they flag | we flag too | share (raw) | classified as theirs "
        "/ by design | share of the rest |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    labels = (
        ("checkov-cloudformation", "checkov, CloudFormation"),
        ("checkov-dockerfile", "checkov, Dockerfile"),
        ("checkov", "**checkov, both**"),
        ("hadolint", "hadolint (line by line)"),
    )
    for key, label in labels:
        t = result["by_tool"][key]
        out.append(
            f"| {label} | {t['pairs']} | {t['theirs']} | {t['both']} | {_pct(t['share'])} "
            f"| {t['explained']} | {_pct(t['share_excluding_explained'])} |"
        )
    checkov = result["by_tool"]["checkov"]
    verdict = "meets" if (checkov["share"] or 0) >= TARGET_SHARE else "misses"
    out += [
        "",
        f"- **checkov: we flag {_pct(checkov['share'])} of what it flags in shared concepts "
        f"(target ≥ {TARGET_SHARE:.0%}: {verdict} it)**; "
        f"{_pct(checkov['share_excluding_explained'])} once their false positives and "
        "by-design differences are left out.",
    ]
    for key, label in (("checkov", "checkov"), ("hadolint", "hadolint")):
        t = result["by_tool"][key]
        out.append(
            f"- {label}: their findings we do not flag, by kind of reason: "
            + (", ".join(f"{k} {n}" for k, n in t["only_theirs_by_class"].items()) or "none")
            + "; our findings they do not flag: "
            + (", ".join(f"{k} {n}" for k, n in t["only_ours_by_class"].items()) or "none")
            + "."
        )
    out.append(
        f"- Differences without a reason that holds for them (*not reviewed*): "
        f"{result['not_reviewed']}."
    )
    out.append(
        f"- {len(shared)} concept×tool pairs are shared, {len(gaps)} are covered by them only "
        "(gaps, listed below, not in the share)."
    )
    for tools, heading in (
        (("checkov", "checkov-dockerfile"), "checkov"),
        (("hadolint",), "hadolint"),
    ):
        biggest = sorted(
            (r for r in shared if r["tool"] in tools and r["only_theirs"]),
            key=lambda r: -len(r["only_theirs"]),
        )[:6]
        if not biggest:
            continue
        out += ["", f"Biggest differences with {heading} (their findings we do not flag):", ""]
        for r in biggest:
            reasons = Counter(reason_class(i["reason"]) for i in r["only_theirs"])
            out.append(
                f"- {r['title']} ({', '.join(r['their_ids'])} → "
                f"{', '.join(r['our_ids'])}): {len(r['only_theirs'])} — "
                + ", ".join(f"{k} {n}" for k, n in reasons.most_common())
            )
    if result["missing_ids"]:
        out.append(
            "- Mapped rule ids not registered (yet), ignored: "
            + ", ".join(f"`{i}`" for i in result["missing_ids"])
        )
    out += ["", "Decisions taken on their findings (bench/parity_map.py `DECISIONS`):", ""]
    out += [f"- {decision}" for decision in DECISIONS]
    out += [
        "",
        "## Shared concepts",
        "",
        "| concept | tool | their ids → our ids | they flag | we flag | both | only they "
        "| only we | we catch |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for r in sorted(shared, key=lambda r: (r["artifact"], -r["theirs"])):
        catch = _pct(r["both"] / r["theirs"]) if r["theirs"] else "—"
        out.append(
            f"| {r['title']} | {r['tool']} | {', '.join(r['their_ids'])} → "
            f"{', '.join(r['our_ids'])} | {r['theirs']} | {r['ours']} | {r['both']} "
            f"| {len(r['only_theirs'])} | {len(r['only_ours'])} | {catch} |"
        )
    out += [
        "",
        "## Differences and their reasons",
        "",
        "Per shared concept and direction: the count, the reason(s) and up to "
        f"{SAMPLES} examples. Structural causes (parse errors, resources a Condition leaves out, "
        "resources checkov never evaluates, `# hadolint ignore=`) are detected per finding; the "
        "written reasons of bench/parity_map.py that make a claim about the finding (`apt-get "
        "dist-clean` in the RUN, a producer that cannot fail, a read replica...) are checked "
        "against the file for each finding, and a finding no reason holds for is listed as "
        "*not reviewed*. Every difference is in `bench/results/parity.json`.",
        "",
        "| concept | tool | side | n | kind | reason | examples (file @ resource or line) |",
        "|---|---|---|--:|---|---|---|",
    ]
    for r in sorted(shared, key=lambda r: (r["artifact"], -r["theirs"])):
        for direction, side in (("only_theirs", "only they"), ("only_ours", "only we")):
            items = r[direction]
            if not items:
                continue
            by_reason: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for item in items:
                by_reason[item["reason"]].append(item)
            for reason, group in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
                examples = "<br>".join(f"`{i['file']}` @ {_where(i)}" for i in group[:SAMPLES])
                out.append(
                    f"| {r['title']} | {r['tool']} | {side} | {len(group)} "
                    f"| {reason_class(reason)} | {reason} | {examples} |"
                )
    out += [
        "",
        "## Concepts only they cover (our gaps)",
        "",
        "| concept | tool | their ids | places they flag |",
        "|---|---|---|--:|",
    ]
    for r in sorted(gaps, key=lambda r: -r["theirs"]):
        out.append(f"| {r['title']} | {r['tool']} | {', '.join(r['their_ids'])} | {r['theirs']} |")
    unmapped = [u for u in result["unmapped_theirs"] if u["count"] > 0]
    if unmapped:
        out += [
            "",
            "Their checks that fired on the corpus but are in no concept (not reviewed yet): "
            + ", ".join(f"{u['check']} ({u['count']})" for u in unmapped[:40])
            + ("…" if len(unmapped) > 40 else "")
            + ".",
        ]
    if result["unmapped_ours"]:
        out += [
            "",
            "Our rules with no counterpart in the map (nothing to compare, or not mapped yet): "
            + ", ".join(f"`{i}`" for i in result["unmapped_ours"])
            + ".",
        ]
    errors = result["our_errors"]
    out += [
        "",
        "## Files that could not be compared",
        "",
        f"- Our parse errors: {len(errors['cloudformation'])} templates, "
        f"{len(errors['dockerfile'])} Dockerfiles"
        + (
            ": " + ", ".join(f"`{e}`" for e in errors["cloudformation"][:10])
            if errors["cloudformation"]
            else ""
        )
        + ".",
        f"- checkov parse errors: {len(result['checkov_parse_errors'])}"
        + (
            ": " + ", ".join(f"`{e}`" for e in result["checkov_parse_errors"][:10])
            if result["checkov_parse_errors"]
            else ""
        )
        + ".",
        "",
        "## Re-running",
        "",
        "`make parity` (or `.venv/bin/python -m bench.parity`): our scan always re-runs, the "
        "tools' outputs are cached in `bench/results/parity/` (`--rerun-tools` to refresh). "
        "When a rule lands, add its id to the matching concept in `bench/parity_map.py` (the "
        "run prints mapped ids that are not registered and rules that are not mapped).",
        "",
    ]
    return "\n".join(out)


HAND_WRITTEN = "<!-- Written by hand"


def hand_written_sections(page: str) -> str:
    """The sections of an existing parity page marked as written by hand (a `## ` heading
    followed by a `<!-- Written by hand ... -->` comment), to keep when the page is rebuilt."""
    start = page.find("\n" + HAND_WRITTEN)
    if start < 0:
        return ""
    heading = page.rfind("\n## ", 0, start)
    return "\n" + page[heading + 1 :] if heading >= 0 else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rerun-tools", action="store_true", help="refresh cached tool output")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/parity.md")
    args = parser.parse_args(argv)
    rules = our_rules()
    paths = run_all(args.rerun_tools)
    result = build(paths, rules)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "parity.json").write_text(json.dumps(result, indent=2))
    if not args.no_docs:
        DOCS.mkdir(exist_ok=True)
        page = DOCS / "parity.md"
        old = page.read_text() if page.is_file() else ""
        page.write_text(render(result) + hand_written_sections(old))
    if result["missing_ids"]:
        print("mapped rule ids not registered yet: " + ", ".join(result["missing_ids"]))
    if result["unmapped_ours"]:
        print("our rules in no concept: " + ", ".join(result["unmapped_ours"]))
    for key, t in result["by_tool"].items():
        print(
            f"{key:<24} share {_pct(t['share'])} ({t['both']} of {t['theirs']}), "
            f"excluding their false positives and by-design differences "
            f"{_pct(t['share_excluding_explained'])}"
        )
    print(f"target {TARGET_SHARE:.0%} on checkov; not reviewed: {result['not_reviewed']}")
    for r in sorted(
        (r for r in result["rows"] if r["shared"]), key=lambda r: -len(r["only_theirs"])
    )[:8]:
        print(
            f"  {r['concept']:<28} {r['tool']:<20} "
            f"only they: {len(r['only_theirs']):4d}  only we: {len(r['only_ours']):4d}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
