"""Compliance: the frameworks' coverage and a tenant's report per framework (JSON, CSV, HTML)."""

from __future__ import annotations

from typing import Any, Literal

from chalicelib.paging import NoQuery
from chalicelib.views.call import Call, Reply


class ReportQuery(NoQuery):
    pipeline: str | None = None
    format: Literal["json", "csv", "html"] = "json"


class OverviewQuery(NoQuery):
    pipeline: str | None = None
    format: Literal["json", "html"] = "json"


def get_compliance(call: Call) -> Any:
    from chalicelib.compliance import report
    from chalicelib.paging import parse_query

    query = parse_query(OverviewQuery, call.query)
    observed = report.observe(call.tenant_id, query.pipeline)
    reports = {fid: report.framework_report(fid, observed) for fid in _framework_ids()}
    if query.format == "html":
        return _html(list(reports.values()), call.tenant_id)
    listing = report.overview()
    for item in listing["frameworks"]:
        item["totals"] = reports[item["id"]]["totals"]
    return {**listing, "pipeline": query.pipeline}


def get_compliance_report(call: Call, framework: str) -> Any:
    from urllib.parse import unquote

    from chalicelib.compliance import report
    from chalicelib.paging import parse_query

    framework = unquote(framework)
    query = parse_query(ReportQuery, call.query)
    report.require_framework(framework)  # an unknown framework is a 404 before any reading
    result = report.framework_report(framework, report.observe(call.tenant_id, query.pipeline))
    if query.format == "csv":
        from chalicelib.compliance.csv_report import render_csv

        headers = {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="pipeguard-{framework}.csv"',
        }
        return Reply(render_csv(result), 200, headers)
    if query.format == "html":
        return _html([result], call.tenant_id)
    return result


def _html(reports: list[dict[str, Any]], tenant_id: str) -> Reply:
    from chalicelib.compliance.html_report import CONTENT_SECURITY_POLICY, render_html

    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
    }
    return Reply(render_html(reports, tenant_id), 200, headers)


def _framework_ids() -> list[str]:
    from chalicelib.compliance.catalog import FRAMEWORKS

    return list(FRAMEWORKS)
