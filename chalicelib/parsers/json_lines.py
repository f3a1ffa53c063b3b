"""JSON documents that remember where things are: the 1-based line of each object key and of
each array item.

The text is validated by the standard library first (strict JSON, its error messages), then
walked once more with the standard scanner to record the lines: objects become `JsonObject`
(a dict with `lines[key]`), arrays `JsonArray` (a list with `lines[index]`).
"""

from __future__ import annotations

import bisect
import json
import re
from json.decoder import scanstring
from typing import Any

from chalicelib.parsers import ParseError

__all__ = ["MAX_DEPTH", "JsonArray", "JsonObject", "line_of", "loads"]

MAX_DEPTH = 64
_WS = re.compile(r"[ \t\n\r]*")


class JsonObject(dict):
    """A JSON object; `lines[key]` is the line its key is written on."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: dict[str, int] = {}

    @property
    def first_line(self) -> int | None:
        return min(self.lines.values()) if self.lines else None


class JsonArray(list):
    """A JSON array; `lines[index]` is the line its item starts on."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines: list[int] = []


def line_of(container: Any, key: Any, default: int | None = None) -> int | None:
    """The line of `key` in a `JsonObject` (or of index `key` in a `JsonArray`), else `default`."""
    if isinstance(container, JsonObject):
        return container.lines.get(key, default)
    if isinstance(container, JsonArray) and isinstance(key, int) and 0 <= key < len(container):
        return container.lines[key] if key < len(container.lines) else default
    return default


def loads(text: str, what: str = "JSON") -> Any:
    """Parse `text`; raises `ParseError` with the line and column of a syntax error."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"invalid {what} at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise ParseError(f"the {what} is nested more than {MAX_DEPTH} levels deep") from None
    walker = _Walker(text)
    value, _ = walker.value(0, 0)
    return value


class _Walker:
    """Builds the line-aware values of text the standard parser has already accepted."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [match.start() for match in re.finditer("\n", text)]
        self.scan = json.JSONDecoder().scan_once

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def skip(self, pos: int) -> int:
        return _WS.match(self.text, pos).end()  # type: ignore[union-attr]

    def value(self, pos: int, depth: int) -> tuple[Any, int]:
        pos = self.skip(pos)
        char = self.text[pos]
        if char == "{" or char == "[":
            if depth >= MAX_DEPTH:
                raise ParseError(
                    f"line {self.line(pos)}: the document is nested more than {MAX_DEPTH} "
                    "levels deep"
                )
            if char == "{":
                return self.object(pos + 1, depth + 1)
            return self.array(pos + 1, depth + 1)
        return self.scan(self.text, pos)

    def object(self, pos: int, depth: int) -> tuple[JsonObject, int]:
        found = JsonObject()
        pos = self.skip(pos)
        if self.text[pos] == "}":
            return found, pos + 1
        while True:
            pos = self.skip(pos)
            line = self.line(pos)
            key, pos = scanstring(self.text, pos + 1)
            pos = self.skip(pos) + 1  # the colon
            value, pos = self.value(pos, depth)
            found[key] = value
            found.lines[key] = line
            pos = self.skip(pos)
            if self.text[pos] == "}":
                return found, pos + 1
            pos += 1  # the comma

    def array(self, pos: int, depth: int) -> tuple[JsonArray, int]:
        found = JsonArray()
        pos = self.skip(pos)
        if self.text[pos] == "]":
            return found, pos + 1
        while True:
            pos = self.skip(pos)
            found.lines.append(self.line(pos))
            value, pos = self.value(pos, depth)
            found.append(value)
            pos = self.skip(pos)
            if self.text[pos] == "]":
                return found, pos + 1
            pos += 1
