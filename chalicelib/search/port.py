"""The contract every search adapter keeps.

Every method takes the tenant id explicitly and the adapter applies it itself: a caller cannot
read or write another tenant's documents by forgetting a filter.
"""

from __future__ import annotations

import base64
import binascii
import re
from contextlib import AbstractContextManager
from typing import Any, Protocol

from pydantic import BaseModel, Field, field_validator

from chalicelib.paging import NoQuery, QueryInt

# Fields of an indexed finding document (a `Finding` as JSON, with its tenant id).
KEYWORD_FIELDS = (
    "tenant_id",
    "finding_id",
    "scan_id",
    "pipeline",
    "run_id",
    "commit",
    "artifact_type",
    "path",
    "rule_id",
    "severity",
    "resource",
    "status",
    "account",
    "region",
    "service",
)
TEXT_FIELDS = ("title", "message", "path", "resource", "rule_id")
# The exact-match filters of `FindingQuery`, in the order adapters apply them.
FILTER_FIELDS = (
    "scan_id",
    "pipeline",
    "severity",
    "rule_id",
    "artifact_type",
    "status",
    "account",
    "region",
    "service",
)

# Fields `facets=` can count, and how many values each facet lists at most.
FACET_FIELDS = ("severity", "rule_id", "pipeline", "artifact_type", "status")
FACET_SIZE = 50

_CURSOR_PREFIX = "f1:"
_MAX_CURSOR_CHARS = 2048
_CURSOR_CHARS = re.compile(r"[A-Za-z0-9_-]+")
_TOKEN = re.compile(r"[^\W_]+")


class InvalidCursor(ValueError):
    """A `cursor` that this API did not hand out (or that was altered)."""

    def __init__(self) -> None:
        super().__init__("invalid cursor")


def encode_cursor(finding_id: str) -> str:
    """Opaque keyset cursor: the last `finding_id` of a page, urlsafe base64 without padding."""
    raw = (_CURSOR_PREFIX + finding_id).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> str:
    """The `finding_id` a cursor encodes; `InvalidCursor` for anything else."""
    if len(cursor) > _MAX_CURSOR_CHARS or not _CURSOR_CHARS.fullmatch(cursor):
        raise InvalidCursor()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor() from exc
    if not text.startswith(_CURSOR_PREFIX) or len(text) == len(_CURSOR_PREFIX):
        raise InvalidCursor()
    return text[len(_CURSOR_PREFIX) :]


def text_terms(q: str | None) -> list[str]:
    """Split free text into search terms, each a phrase of word tokens joined by one space.

    Whitespace separates terms; inside a term, anything that is not a letter or digit separates
    tokens (so `docker/Dockerfile` is the phrase `docker Dockerfile`). Operators and quotes of
    any query language are dropped, so no user text can form a query-syntax error. Terms without
    any token (`*`, `"`, `(`) are skipped: blank or punctuation-only text means no text filter.
    """
    if not q:
        return []
    terms = []
    for chunk in q.split():
        tokens = _TOKEN.findall(chunk)
        if tokens:
            terms.append(" ".join(tokens))
    return terms


class UnknownFacet(ValueError):
    """A `facets` name outside `FACET_FIELDS`."""


def parse_facets(value: str | None) -> tuple[str, ...]:
    """The facet names of `facets=a,b`: in the order given, duplicates and blanks dropped."""
    if value is None:
        return ()
    names: list[str] = []
    for part in value.split(","):
        name = part.strip(" ")
        if not name or name in names:
            continue
        if name not in FACET_FIELDS:
            raise UnknownFacet(name)
        names.append(name)
    return tuple(names)


class FindingQuery(NoQuery):
    """Filters of `GET /v1/findings`; all optional, combined with AND; `limit` and `cursor`
    as every list route takes them (`PageQuery`), with larger pages; `facets` (comma-separated
    names of `FACET_FIELDS`) asks for value counts beside the page."""

    scan_id: str | None = None
    pipeline: str | None = None
    severity: str | None = None
    rule_id: str | None = None
    artifact_type: str | None = None
    status: str | None = None
    account: str | None = None
    region: str | None = None
    service: str | None = None
    q: str | None = Field(default=None, max_length=500)
    limit: QueryInt = Field(default=50, ge=1, le=500)
    cursor: str | None = None
    facets: str | None = Field(default=None, max_length=200)

    @field_validator("facets")
    @classmethod
    def _known_facets(cls, value: str | None) -> str | None:
        try:
            parse_facets(value)
        except UnknownFacet as exc:
            raise ValueError(
                f"unknown facet {str(exc)[:40]!r}: facets takes a comma-separated subset of "
                + ", ".join(FACET_FIELDS)
            ) from None
        return value

    @property
    def facet_fields(self) -> tuple[str, ...]:
        """The facets asked for, validated (see `parse_facets`)."""
        return parse_facets(self.facets)


class FacetCount(BaseModel):
    value: str
    count: int


class FindingPage(BaseModel):
    """One page of findings; `facets` (only when asked for) counts the values of each named
    field over every finding that matches the filters and `q`, whatever the cursor: at most
    `FACET_SIZE` values per field, by descending count, then by value."""

    findings: list[dict[str, Any]]
    next_cursor: str | None = None
    facets: dict[str, list[FacetCount]] | None = None


class SearchIndex(Protocol):
    """Port: store finding documents per tenant and query them."""

    def upsert(self, tenant_id: str, docs: list[dict[str, Any]]) -> None:
        """Insert or replace documents (keyed by `finding_id`); every doc must be this tenant's."""

    def delete(self, tenant_id: str, finding_ids: list[str]) -> None:
        """Delete this tenant's documents with these ids (absent ids are ignored)."""

    def grouped(self) -> AbstractContextManager[None]:
        """The block's upserts and deletes applied together where the index can (one
        transaction), else each as it is made; nothing of the block is kept if it raises where
        they are applied together."""

    def search(self, tenant_id: str, query: FindingQuery) -> FindingPage:
        """This tenant's documents matching `query`, ordered by `finding_id`, one page; with
        `query.facet_fields`, their counts over the whole filtered result (cursor ignored)."""

    def clear(self) -> None:
        """Drop every document (tests and `reindex`)."""
