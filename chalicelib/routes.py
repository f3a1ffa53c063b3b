"""The REST API's routes: path, method, the scope a key needs, and the view that answers.

Views are imported on first call, so a cold start loads only what its first request needs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    path: str
    method: str
    scope: str
    view: str  # "module:function" under chalicelib.views

    @property
    def name(self) -> str:
        return self.view.split(":", 1)[1]


ROUTES: tuple[Route, ...] = (
    Route("/v1/scans", "POST", "ingest", "scans:create_scan"),
    Route("/v1/uploads", "POST", "ingest", "scans:create_upload"),
    Route("/v1/scans/{scan_id}", "GET", "read", "scans:get_scan"),
    Route("/v1/scans/{scan_id}/report", "GET", "read", "scans:get_scan_report"),
    Route("/v1/findings", "GET", "read", "findings:list_findings"),
    Route("/v1/findings/{finding_id}", "GET", "read", "findings:get_finding"),
    Route("/v1/trends", "GET", "read", "findings:get_trends"),
    Route("/v1/notifications", "GET", "admin", "settings:get_notifications"),
    Route("/v1/notifications", "PUT", "admin", "settings:put_notifications"),
    Route("/v1/policy", "GET", "read", "policy:get_policy"),
    Route("/v1/policy", "PUT", "admin", "policy:put_policy"),
    Route("/v1/waivers", "POST", "admin", "policy:create_waiver"),
    Route("/v1/waivers", "GET", "read", "policy:list_waivers"),
    Route("/v1/waivers/{waiver_id}", "DELETE", "admin", "policy:revoke_waiver"),
    Route("/v1/pipelines/{name}", "GET", "read", "policy:get_pipeline"),
    Route("/v1/compliance", "GET", "read", "compliance:get_compliance"),
    Route("/v1/compliance/{framework}", "GET", "read", "compliance:get_compliance_report"),
    Route("/v1/keys", "POST", "admin", "keys:create_key"),
    Route("/v1/keys", "GET", "admin", "keys:list_keys"),
    Route("/v1/keys/{key_id}", "DELETE", "admin", "keys:revoke_key"),
    Route("/v1/audit", "GET", "admin", "keys:list_audit"),
    Route("/v1/accounts", "POST", "admin", "accounts:create_account"),
    Route("/v1/accounts", "GET", "read", "accounts:list_accounts"),
    Route("/v1/accounts/{account_id}", "GET", "read", "accounts:get_account"),
    Route("/v1/accounts/{account_id}", "DELETE", "admin", "accounts:delete_account"),
    Route("/v1/accounts/{account_id}/scans", "POST", "admin", "accounts:scan_account"),
    Route("/v1/admin/tenants", "POST", "operator", "admin:create_tenant"),
    Route("/v1/admin/tenants", "GET", "operator", "admin:list_tenants"),
    Route("/v1/admin/tenants/{tenant_id}/disable", "POST", "operator", "admin:disable_tenant"),
    Route("/v1/admin/tenants/{tenant_id}/enable", "POST", "operator", "admin:enable_tenant"),
    Route("/v1/admin/reindex", "POST", "operator", "admin:reindex"),
)
