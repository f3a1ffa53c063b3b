"""Query strings of the API: one validation for every route, and keyset pages of lists.

Every route reads its query through a model derived from `NoQuery`: a parameter it does not
declare answers 422 naming it, an empty one (`limit=`) is ignored, and integers are plain
ASCII digits. List routes take `limit` and `cursor` (`PageQuery`).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from chalicelib.errors import BadRequest, ValidationFailed, shorten

_DIGITS = re.compile(r"[0-9]{1,9}")
MAX_CURSOR = 2048
_CURSOR_CHARS = re.compile(r"[A-Za-z0-9_-]+")


def _digits(value: Any) -> Any:
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise ValueError("must be a whole number written with the digits 0-9")
        return int(value)
    return value


DIGITS_ONLY = BeforeValidator(_digits)
"""Integers of a query string: ASCII digits only (no sign, spaces, `_`, `1.0` or `²`). Put it
after a `Field` with bounds (`Annotated[int, Field(ge=0), DIGITS_ONLY] | None`), so that the
bounds appear in the JSON schema also of an optional parameter."""
QueryInt = Annotated[int, DIGITS_ONLY]
"""An integer query parameter (bounds given by the field)."""


class NoQuery(BaseModel):
    """A route's query parameters: only those it declares (here: none)."""

    model_config = ConfigDict(extra="forbid")


class PageQuery(NoQuery):
    """`limit` and `cursor` of a list route (pass `next_cursor` back unchanged)."""

    limit: QueryInt = Field(default=50, ge=1, le=200)
    cursor: str | None = None


Q = TypeVar("Q", bound=NoQuery)


def parse_query(model: type[Q], params: dict[str, str] | None) -> Q:
    """The query string as `model` (422 naming each parameter at fault)."""
    given = {name: value for name, value in (params or {}).items() if value != ""}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        takes = ", ".join(model.model_fields) or "no query parameters"
        details = []
        for err in exc.errors(include_url=False, include_input=False):
            field = ".".join(str(p) for p in err.get("loc", ())) or "query"
            message = err.get("msg", "invalid")
            if err.get("type") == "extra_forbidden":
                message = f"unknown query parameter (this operation takes {takes})"
            details.append({"field": shorten(field), "message": shorten(message)})
        names = ", ".join(d["field"] for d in details[:5])
        raise ValidationFailed(f"the query is invalid: check {names}", details) from None


T = TypeVar("T")


def page(
    items: Sequence[T],
    key: Callable[[T], str],
    query: PageQuery,
    kind: str,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """One page of `items` (ordered by the unique `key`, ascending unless `descending`) after
    `query.cursor`, and the cursor of the next page (None on the last)."""
    ordered = sorted(items, key=key, reverse=descending)
    if query.cursor:
        after = decode_cursor(query.cursor, kind)
        ordered = [i for i in ordered if (key(i) < after if descending else key(i) > after)]
    chosen = ordered[: query.limit]
    more = len(ordered) > query.limit
    return chosen, encode_cursor(kind, key(chosen[-1])) if more else None


def encode_cursor(kind: str, position: str) -> str:
    """An opaque cursor for `position` in the list `kind` (urlsafe base64, no padding)."""
    raw = f"{kind}:{position}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, kind: str) -> str:
    """The position a cursor of list `kind` encodes; 400 for anything else."""
    text = ""
    if len(cursor) <= MAX_CURSOR and _CURSOR_CHARS.fullmatch(cursor):
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            text = base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            text = ""
    if not text.startswith(kind + ":") or len(text) == len(kind) + 1:
        raise BadRequest("the cursor is not valid: pass next_cursor from the previous page")
    return text[len(kind) + 1 :]
