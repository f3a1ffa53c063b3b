"""Findings: search, read one, and their trends."""

from __future__ import annotations

from typing import Any

from chalicelib.views.call import Call


def list_findings(call: Call) -> dict[str, Any]:
    from chalicelib.queries import search_findings

    page = search_findings(call.tenant_id, call.query).model_dump()
    if page["facets"] is None:  # `facets` appears only when asked for
        del page["facets"]
    return page


def get_finding(call: Call, finding_id: str) -> dict[str, Any]:
    from chalicelib.queries import get_finding as query

    return query(call.tenant_id, finding_id)


def get_trends(call: Call) -> dict[str, Any]:
    from chalicelib.trend_series import series

    return series(call.tenant_id, call.query)
