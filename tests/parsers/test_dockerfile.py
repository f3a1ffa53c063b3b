"""The Dockerfile parser: continuations, directives, heredocs, forms, flags and stages."""

from __future__ import annotations

import contextlib
import random

import pytest

from chalicelib.models import ArtifactType
from chalicelib.parsers import ParseError
from chalicelib.parsers import parse as parse_any
from chalicelib.parsers.dockerfile import parse


def test_continuations_comments_and_lines() -> None:
    df = parse(
        "# a comment\n"
        "FROM debian:12\n"
        "\n"
        "RUN apt-get update \\\n"
        "# a comment inside the continuation\n"
        "\n"
        "    && apt-get install -y curl\n"
        "ENV A=1\n"
    )
    run = df.find("RUN")[0]
    assert (run.line, run.end_line) == (4, 7)
    assert run.value == "apt-get update     && apt-get install -y curl"
    assert df.find("ENV")[0].line == 8


def test_escape_directive_backtick() -> None:
    df = parse(
        "# escape=`\n"
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
        "COPY C:\\app\\ C:\\dest\\\n"
        "RUN Write-Host one; `\n"
        "    Write-Host two\n"
    )
    assert df.escape == "`"
    assert df.directives == {"escape": "`"}
    copy, run = df.find("COPY", "RUN")
    assert copy.value == "C:\\app\\ C:\\dest\\"
    assert (run.line, run.end_line) == (4, 5)
    assert run.value == "Write-Host one;     Write-Host two"


def test_directive_only_at_the_top() -> None:
    df = parse("FROM alpine:3.20\n# escape=`\nRUN echo \\\n  hi\n")
    assert df.escape == "\\" and df.directives == {}
    assert df.find("RUN")[0].value == "echo   hi"


def test_invalid_escape_directive() -> None:
    with pytest.raises(ParseError, match="line 1: invalid escape"):
        parse("# escape=x\nFROM alpine\n")


def test_heredoc_is_kept_in_the_instruction() -> None:
    df = parse(
        "FROM alpine:3.20\n"
        "RUN <<EOF\n"
        "set -e\n"
        "echo hello\n"
        "EOF\n"
        "COPY <<-'CONF' /etc/app.conf\n"
        "\tkey=value\n"
        "\tCONF\n"
        "USER 1000\n"
    )
    run, copy = df.find("RUN", "COPY")
    assert (run.line, run.end_line) == (2, 5)
    assert "echo hello" in run.value
    assert [(d.name, d.body) for d in run.heredocs] == [("EOF", "set -e\necho hello")]
    assert (copy.line, copy.end_line) == (6, 8)
    assert copy.heredocs[0].body == "key=value" and copy.heredocs[0].strip_tabs
    assert df.find("USER")[0].line == 9


def test_two_heredocs_in_one_instruction() -> None:
    df = parse("FROM alpine\nRUN <<A cat - && sh <<B\none\nA\ntwo\nB\nUSER 1\n")
    run = df.find("RUN")[0]
    assert [d.body for d in run.heredocs] == ["one", "two"]
    assert run.end_line == 6


def test_here_string_and_shift_are_not_heredocs() -> None:
    df = parse('FROM alpine\nRUN sed s/a/b/ <<< "$X" && echo $((1<<2))\nUSER 1\n')
    assert df.find("RUN")[0].heredocs == []
    assert df.find("USER")[0].line == 3


def test_quoted_markers_are_not_heredocs_but_quoted_delimiters_are() -> None:
    df = parse('FROM alpine\nRUN echo "<<EOF" \'<<X\' && cat <<"END"\nbody\nEND\nUSER 1\n')
    run = df.find("RUN")[0]
    assert [d.name for d in run.heredocs] == ["END"] and run.end_line == 4


def test_unclosed_heredoc() -> None:
    with pytest.raises(ParseError, match=r"line 2: heredoc <<EOF is never closed"):
        parse("FROM alpine\nRUN <<EOF\necho hi\n")


def test_exec_and_shell_form() -> None:
    df = parse(
        'FROM alpine\nCMD ["nginx", "-g", "daemon off;"]\nENTRYPOINT exec app\nRUN [not json\n'
    )
    cmd, entrypoint, run = df.find("CMD", "ENTRYPOINT", "RUN")
    assert cmd.json_args == ["nginx", "-g", "daemon off;"] and cmd.is_exec_form
    assert entrypoint.json_args is None
    assert run.json_args is None  # invalid JSON falls back to shell form


def test_flags() -> None:
    df = parse(
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"
        "RUN --mount=type=cache,target=/root/.cache --network=none go build\n"
        "FROM alpine:3.20\n"
        "COPY --from=build --chown=app:app --link /out /app\n"
    )
    assert df.stages[0].platform == "$BUILDPLATFORM"
    run, copy = df.find("RUN", "COPY")
    assert run.flags == {"mount": "type=cache,target=/root/.cache", "network": "none"}
    assert run.args == "go build"
    assert copy.flags == {"from": "build", "chown": "app:app", "link": "true"}
    assert copy.args == "/out /app"


def test_multi_stage_and_global_args() -> None:
    df = parse(
        "ARG BASE=alpine:3.20\n"
        "FROM ${BASE} AS deps\n"
        "RUN echo deps\n"
        "FROM deps as build\n"
        "RUN echo build\n"
        "FROM scratch\n"
        "COPY --from=build /x /x\n"
    )
    assert [(s.index, s.base_image, s.alias, s.line, s.from_stage) for s in df.stages] == [
        (0, "${BASE}", "deps", 2, None),
        (1, "deps", "build", 4, 0),
        (2, "scratch", None, 6, None),
    ]
    assert [i.stage for i in df.instructions] == [-1, 0, 0, 1, 1, 2, 2]
    assert [i.cmd for i in df.global_args] == ["ARG"]
    assert df.final_stage.index == 2


def test_lowercase_instructions() -> None:
    df = parse("from alpine:3.20\nrun echo hi\nuser 1000\n")
    assert [i.cmd for i in df.instructions] == ["FROM", "RUN", "USER"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("RUN echo hi\n", "RUN comes before the first FROM"),
        ("# just a comment\n", "no FROM instruction: this is not a Dockerfile"),
        ("ARG A=1\n", "no FROM instruction: this is not a Dockerfile"),
        ("FROM alpine\nRUNN echo hi\n", "line 2: unknown instruction 'RUNN'"),
        ("FROM\n", "line 1: FROM needs an image name"),
        ("FROM alpine extra words\n", "line 1: FROM takes an image"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(text)


@pytest.mark.parametrize("text", ["", "   \n\n", "\x00\x01\x02FROM", "FROM a\x00"])
def test_empty_and_binary_input(text: str) -> None:
    with pytest.raises(ParseError):
        parse_any(ArtifactType.DOCKERFILE, text)


def test_random_input_only_raises_parse_error() -> None:
    rng = random.Random(1234)
    alphabet = "FROM RUN <<EOF\\`#=[]\"' \n\t\r-xyz:$@{}"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120)))
        with contextlib.suppress(ParseError):  # anything else fails the test
            parse(text)
