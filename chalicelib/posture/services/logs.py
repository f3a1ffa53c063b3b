"""CloudWatch Logs and alarms: log groups, metric filters and metric alarms (one paginated
describe each), what the monitoring checks need."""

from __future__ import annotations

from chalicelib.posture.collect import NOT_READ, Scope

GLOBAL = False


def collect(scope: Scope) -> None:
    groups = scope.pages("describe_log_groups", "logGroups", feeds=["AWS::Logs::LogGroup"])
    for group in groups or []:
        arn = group.get("logGroupArn") or str(group.get("arn", "")).removesuffix(":*")
        scope.add("AWS::Logs::LogGroup", arn, group["logGroupName"], group)
    filters = scope.pages("describe_metric_filters", "metricFilters", feeds=["logs.metric_filters"])
    if filters is not NOT_READ:
        scope.fact("logs.metric_filters", filters)
    alarms = scope.pages(
        "describe_alarms", "MetricAlarms", service="cloudwatch", feeds=["cloudwatch.alarms"]
    )
    if alarms is not NOT_READ:
        keep = (
            "AlarmName",
            "AlarmArn",
            "MetricName",
            "Namespace",
            "AlarmActions",
            "ActionsEnabled",
        )
        scope.fact("cloudwatch.alarms", [{k: a.get(k) for k in keep} for a in alarms])
