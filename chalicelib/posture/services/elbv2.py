"""Elastic Load Balancing v2: load balancers (one paginated describe), their attributes and
listeners (one read each per load balancer), tags in batches of 20."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.collect import NOT_READ, Scope, grouped

GLOBAL = False


def collect(scope: Scope) -> None:
    balancers = scope.pages(
        "describe_load_balancers",
        "LoadBalancers",
        feeds=["AWS::ElasticLoadBalancingV2::LoadBalancer"],
    )
    if balancers is NOT_READ or not balancers:
        return
    tags: dict[str, Any] = {}
    for batch in grouped([b["LoadBalancerArn"] for b in balancers], 20):
        described = scope.call("describe_tags", ResourceArns=batch)
        for item in (described or {}).get("TagDescriptions") or []:
            tags[item["ResourceArn"]] = item.get("Tags")
    scope.each(balancers, lambda balancer: _balancer(scope, balancer, tags))


def _balancer(scope: Scope, balancer: dict[str, Any], tags: dict[str, Any]) -> None:
    arn = balancer["LoadBalancerArn"]
    config = dict(balancer)
    missing: dict[str, str] = {}
    scope.section(
        config,
        missing,
        "Attributes",
        "describe_load_balancer_attributes",
        pick=lambda r: {a["Key"]: a.get("Value") for a in r.get("Attributes") or []},
        resource=arn,
        LoadBalancerArn=arn,
    )
    listeners = scope.pages(
        "describe_listeners",
        "Listeners",
        feeds=["AWS::ElasticLoadBalancingV2::Listener"],
        LoadBalancerArn=arn,
    )
    if listeners is NOT_READ:
        missing["Listeners"] = "elasticloadbalancing:DescribeListeners"
    else:
        config["Listeners"] = listeners
    scope.add(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        arn,
        balancer.get("LoadBalancerName") or arn,
        config,
        tags=tags.get(arn),
        not_assessed=missing,
    )
