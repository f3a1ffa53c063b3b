"""JUnit XML test reports (pytest, Maven Surefire, jest-junit, mocha, xUnit ... variants).

Parsed with defusedxml: a DTD, an entity declaration or an external reference is refused, so
XXE and entity-expansion bombs never resolve. Accepts a `<testsuites>` root, a bare `<testsuite>`
root and suites nested in suites. Every suite and case keeps the line it starts on.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from chalicelib.parsers import ParseError

__all__ = ["Case", "Counts", "Suite", "TestReport", "parse"]

STATUSES = ("passed", "failed", "error", "skipped")
MAX_SUITE_DEPTH = 64
_XML_DECL = re.compile(r"\A\s*<\?xml[^>]*\?>")
_SKIPPED_STATUS = frozenset({"disabled", "skipped", "notrun", "not run", "ignored", "pending"})
_FAILED_STATUS = frozenset({"failed", "failure", "fail"})
_ERROR_STATUS = frozenset({"error", "errored"})
_MESSAGE_LIMIT = 500
_RERUN_TAGS = frozenset({"flakyFailure", "flakyError", "rerunFailure", "rerunError"})


@dataclass
class Counts:
    """Test totals; in `Suite.declared` a value is None when the attribute is absent."""

    tests: int | None = None
    failures: int | None = None
    errors: int | None = None
    skipped: int | None = None
    disabled: int | None = None


@dataclass
class Case:
    """One `<testcase>`; `line` is its line in the report, `source_*` what it says of the test.

    `flaky` marks a case that passed only after failed attempts (Surefire's `flakyFailure`).
    """

    suite: str
    classname: str
    name: str
    status: str
    time: float | None
    message: str | None
    line: int | None
    source_file: str | None = None
    source_line: int | None = None
    flaky: bool = False

    @property
    def key(self) -> str:
        """`classname::name`, the resource name findings use for a case."""
        return f"{self.classname}::{self.name}"


@dataclass
class Suite:
    """One `<testsuite>`; `cases` are its own, `all_cases` include those of nested suites."""

    name: str
    line: int | None
    declared: Counts
    time: float | None = None
    depth: int = 0
    parent: str | None = None
    cases: list[Case] = field(default_factory=list)
    all_cases: list[Case] = field(default_factory=list)
    has_children: bool = False

    @property
    def counted(self) -> Counts:
        """Totals counted from the cases found under this suite (nested suites included)."""
        statuses = [case.status for case in self.all_cases]
        return Counts(
            tests=len(statuses),
            failures=statuses.count("failed"),
            errors=statuses.count("error"),
            skipped=statuses.count("skipped"),
        )


@dataclass
class TestReport:
    """A report: every suite (nested ones flattened, parents first) and every case.

    `declared` holds the totals of a `<testsuites>` root; `line` is the root element's line.
    """

    __test__ = False  # not a pytest test class

    suites: list[Suite]
    cases: list[Case]
    name: str | None = None
    declared: Counts = field(default_factory=Counts)
    root: str = "testsuites"
    line: int | None = None

    @property
    def top_suites(self) -> list[Suite]:
        return [suite for suite in self.suites if suite.depth == 0]


def parse(text: str) -> TestReport:
    """Parse a JUnit XML report; anything unreadable raises `ParseError` (never another error)."""
    try:
        root, lines = _load(text)
        return _build(root, lines)
    except ParseError:
        raise
    except RecursionError as exc:
        raise ParseError("the report is nested too deeply to read") from exc
    except Exception as exc:  # defensive: a parser must only ever raise ParseError
        raise ParseError(f"the report could not be read: {exc}") from exc


@functools.cache
def _line_parser_class() -> type:
    """defusedxml's parser, refusing DTDs too, that records each element's line.

    Built on first use so that importing this module does not import defusedxml.
    """
    from defusedxml.ElementTree import DefusedXMLParser

    class LineParser(DefusedXMLParser):
        def __init__(self) -> None:
            super().__init__(forbid_dtd=True, forbid_entities=True, forbid_external=True)
            self.lines: dict[int, int] = {}

        def _start(self, tag: str, attr_list: list[str]) -> Any:
            element = super()._start(tag, attr_list)
            self.lines[id(element)] = self.parser.CurrentLineNumber
            return element

    return LineParser


def _load(text: str) -> tuple[Any, dict[int, int]]:
    from xml.etree.ElementTree import ParseError as XMLParseError

    from defusedxml import DefusedXmlException

    if text.startswith("\ufeff"):
        text = text[1:]
    # The text is already decoded: drop the declaration (its encoding no longer applies),
    # keeping its newlines so that line numbers do not move.
    text = _XML_DECL.sub(lambda m: "\n" * m.group(0).count("\n"), text, count=1)
    parser = _line_parser_class()()
    try:
        parser.feed(text)
        root = parser.close()
    except DefusedXmlException as exc:
        line = parser.parser.CurrentLineNumber
        raise ParseError(
            f"line {line}: the report contains a DTD or entity declaration "
            f"({type(exc).__name__}); these are refused because they enable XXE and "
            "entity-expansion attacks"
        ) from exc
    except XMLParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":", 1)[0]
        raise ParseError(f"invalid XML at line {line}, column {column + 1}: {reason}") from exc
    return root, parser.lines


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value.replace(",", "").strip()))
    except (ValueError, OverflowError):
        return None


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.replace(",", "").strip())
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _counts(element: Any) -> Counts:
    return Counts(
        tests=_int(element.get("tests")),
        failures=_int(element.get("failures")),
        errors=_int(element.get("errors")),
        skipped=_int(element.get("skipped", element.get("skips"))),
        disabled=_int(element.get("disabled")),
    )


def _status(element: Any) -> tuple[str, str | None]:
    """The case's status and the message of the element that decided it."""
    found: dict[str, Any] = {}
    for child in element:
        tag = _local(child.tag)
        if tag == "failure":
            found.setdefault("failed", child)
        elif tag == "error":
            found.setdefault("error", child)
        elif tag == "skipped":
            found.setdefault("skipped", child)
    for status in ("error", "failed", "skipped"):
        if status in found:
            return status, _message(found[status])
    declared = (element.get("status") or element.get("result") or "").strip().lower()
    if declared in _SKIPPED_STATUS:
        return "skipped", None
    if declared in _FAILED_STATUS:
        return "failed", None
    if declared in _ERROR_STATUS:
        return "error", None
    return "passed", None


def _message(element: Any) -> str | None:
    message = element.get("message") or ""
    if not message.strip():
        message = next((line for line in (element.text or "").splitlines() if line.strip()), "")
    message = message.strip()
    if len(message) > _MESSAGE_LIMIT:
        message = message[:_MESSAGE_LIMIT] + "..."
    return message or None


def _case(element: Any, suite: str, lines: dict[int, int]) -> Case:
    status, message = _status(element)
    return Case(
        suite=suite,
        classname=element.get("classname") or element.get("class") or "",
        name=element.get("name") or "",
        status=status,
        time=_float(element.get("time")),
        message=message,
        line=lines.get(id(element)),
        source_file=element.get("file"),
        source_line=_int(element.get("line")),
        flaky=status == "passed" and any(_local(child.tag) in _RERUN_TAGS for child in element),
    )


def _build(root: Any, lines: dict[int, int]) -> TestReport:
    root_tag = _local(root.tag)
    if root_tag not in ("testsuites", "testsuite"):
        raise ParseError(f"root element <{root_tag}> is not a JUnit report")
    report = TestReport(
        suites=[],
        cases=[],
        name=root.get("name"),
        declared=_counts(root) if root_tag == "testsuites" else Counts(),
        root=root_tag,
        line=lines.get(id(root)),
    )
    if root_tag == "testsuites":
        tops = [child for child in root if _local(child.tag) == "testsuite"]
        loose = [child for child in root if _local(child.tag) == "testcase"]
        if loose:  # cases straight under <testsuites>: give them a suite of their own
            suite = Suite(
                name=root.get("name") or "testsuites", line=lines.get(id(root)), declared=Counts()
            )
            for element in loose:
                case = _case(element, suite.name, lines)
                suite.cases.append(case)
                suite.all_cases.append(case)
                report.cases.append(case)
            report.suites.append(suite)
    else:
        tops = [root]
    # depth-first, parents before children, document order
    stack: list[tuple[Any, list[Suite]]] = [(element, []) for element in reversed(tops)]
    while stack:
        element, ancestors = stack.pop()
        if len(ancestors) >= MAX_SUITE_DEPTH:
            raise ParseError(
                f"line {lines.get(id(element))}: test suites nested more than "
                f"{MAX_SUITE_DEPTH} levels deep"
            )
        suite = Suite(
            name=element.get("name") or "",
            line=lines.get(id(element)),
            declared=_counts(element),
            time=_float(element.get("time")),
            depth=len(ancestors),
            parent=ancestors[-1].name if ancestors else None,
        )
        report.suites.append(suite)
        chain = [*ancestors, suite]
        children = []
        for child in element:
            tag = _local(child.tag)
            if tag == "testcase":
                case = _case(child, suite.name, lines)
                suite.cases.append(case)
                for owner in chain:
                    owner.all_cases.append(case)
                report.cases.append(case)
            elif tag == "testsuite":
                children.append(child)
        suite.has_children = bool(children)
        stack.extend((child, chain) for child in reversed(children))
    report.cases.sort(key=lambda case: case.line or 0)
    return report
