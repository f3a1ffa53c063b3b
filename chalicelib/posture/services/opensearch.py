"""OpenSearch Service: every domain, described five at a time (DescribeDomains)."""

from __future__ import annotations

from chalicelib.posture.collect import NOT_READ, Scope, grouped

GLOBAL = False


def collect(scope: Scope) -> None:
    listed = scope.call("list_domain_names", feeds=["AWS::OpenSearchService::Domain"])
    if listed is NOT_READ:
        return
    names = [d["DomainName"] for d in listed.get("DomainNames") or []]
    for batch in grouped(names, 5):
        described = scope.call(
            "describe_domains", feeds=["AWS::OpenSearchService::Domain"], DomainNames=batch
        )
        for domain in (described or {}).get("DomainStatusList") or []:
            scope.add("AWS::OpenSearchService::Domain", domain["ARN"], domain["DomainName"], domain)
