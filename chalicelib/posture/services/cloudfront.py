"""CloudFront: every distribution with its full configuration (the list omits logging, so
one read per distribution)."""

from __future__ import annotations

from typing import Any

from chalicelib.posture import inventory as inv
from chalicelib.posture.collect import NOT_READ, Scope

GLOBAL = True
CLIENT_REGION = "us-east-1"


def collect(scope: Scope) -> None:
    items = scope.pages(
        "list_distributions",
        lambda page: (page.get("DistributionList") or {}).get("Items") or [],
        feeds=["AWS::CloudFront::Distribution"],
    )
    if items is not NOT_READ:
        scope.each(items, lambda item: _distribution(scope, item))


def _distribution(scope: Scope, item: dict[str, Any]) -> None:
    arn = item["ARN"]
    config: dict[str, Any] = {"Id": item["Id"], "DomainName": item.get("DomainName")}
    missing: dict[str, str] = {}
    response = scope.call("get_distribution_config", resource=arn, Id=item["Id"])
    if response is NOT_READ:
        missing["DistributionConfig"] = "cloudfront:GetDistributionConfig"
        config["Summary"] = item
    else:
        config["DistributionConfig"] = response.get("DistributionConfig") or {}
    scope.add("AWS::CloudFront::Distribution", arn, item["Id"], config, region=inv.GLOBAL,
              not_assessed=missing)  # fmt: skip
