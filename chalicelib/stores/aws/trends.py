"""Trend counters on DynamoDB: the trends table (key tenant_id, sk), one item per tenant and
sort key `day#<day>#<pipeline>` (counters `<field>.<severity>`), `fix#<day>#<finding>#<version>`
(a time to fix) and `applied#<finding>` (the version the counts hold). Each finding's update
is one TransactWriteItems: the held version, conditioned on the one read, and its increments."""

from __future__ import annotations

from typing import Any

from chalicelib.config import settings
from chalicelib.stores import dynamo
from chalicelib.stores.clients import client
from chalicelib.stores.ports import TrendDay
from chalicelib.trend_counts import Changes, Update, changes

MAX_ACTIONS = 100  # DynamoDB's limit of items per transaction
_ATTEMPTS = 8  # re-reads when another writer moved a finding's version in between


def _table() -> str:
    return settings().trends_table


def _counter(name: str, severity: str) -> str:
    return f"{name}.{severity}"


def _day_key(tenant_id: str, day: str, pipeline: str) -> dict[str, str]:
    return {"tenant_id": tenant_id, "sk": f"day#{day}#{pipeline}"}


def _increments(tenant_id: str, found: Changes) -> list[dict[str, Any]]:
    actions = []
    for (day, pipeline), amounts in found.by_day().items():
        names = {"#day": "day", "#pipeline": "pipeline"}
        values: dict[str, Any] = {":day": dynamo.value(day), ":pipeline": dynamo.value(pipeline)}
        adds = []
        for n, ((name, severity), amount) in enumerate(sorted(amounts.items())):
            names[f"#c{n}"] = _counter(name, severity)
            values[f":c{n}"] = dynamo.value(amount)
            adds.append(f"#c{n} :c{n}")
        actions.append(
            dynamo.update_action(
                _table(),
                _day_key(tenant_id, day, pipeline),
                UpdateExpression="SET #day = :day, #pipeline = :pipeline ADD " + ", ".join(adds),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        )
    for fix in found.fixes:
        item = {
            "tenant_id": tenant_id,
            "sk": f"fix#{fix.day}#{fix.finding_id}#{fix.version:010d}",
            "day": fix.day,
            "pipeline": fix.pipeline,
            "severity": fix.severity,
            "seconds": fix.seconds,
        }
        actions.append(dynamo.put_action(_table(), item))
    return actions


class DynamoTrends:
    """`TrendStore` on the trends table."""

    def apply(self, tenant_id: str, updates: list[Update]) -> int:
        _check_own(tenant_id, updates)
        return sum(self._apply_one(tenant_id, update) for update in updates)

    def _apply_one(self, tenant_id: str, update: Update) -> int:
        key = {"tenant_id": tenant_id, "sk": f"applied#{update.finding_id}"}
        for _ in range(_ATTEMPTS):
            got = client("dynamodb").get_item(
                TableName=_table(), Key=dynamo.serialize(key), ConsistentRead=True
            )
            held = int(dynamo.deserialize(got["Item"])["version"]) if "Item" in got else -1
            if update.version <= held:
                return 0
            try:
                self._transact(tenant_id, update, key, held)
            except dynamo.ConditionFailed:
                continue  # another delivery moved the version: read it again
            return 1
        raise RuntimeError(f"the trend counters of {update.finding_id} kept changing underneath")

    def _transact(self, tenant_id: str, update: Update, key: dict[str, str], held: int) -> None:
        """The update's increments with the held version, in transactions of at most
        `MAX_ACTIONS` items: history entries in version order, each transaction holding the
        version of its last entry (the update's own in the last one)."""
        versions = sorted({int(e["v"]) for e in update.history if int(e["v"]) > held})
        groups: list[tuple[int, Changes]] = []
        for version in versions:
            entries = [e for e in update.history if int(e["v"]) == version]
            found = changes(Update(**{**update.__dict__, "history": entries}), held)
            if groups and len(_increments(tenant_id, _merged(groups[-1][1], found))) < MAX_ACTIONS:
                groups[-1] = (version, _merged(groups[-1][1], found))
            else:
                groups.append((version, found))
        if not groups:
            groups = [(update.version, Changes())]
        groups[-1] = (update.version, groups[-1][1])
        for version, found in groups:
            condition = "attribute_not_exists(sk)" if held < 0 else "#v = :held"
            request: dict[str, Any] = {
                "UpdateExpression": "SET #v = :version",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":version": dynamo.value(version)},
            }
            if held >= 0:
                request["ExpressionAttributeValues"][":held"] = dynamo.value(held)
            actions = [dynamo.update_action(_table(), key, **request)]
            dynamo.transact(actions + _increments(tenant_id, found))
            held = version

    def replace(self, tenant_id: str, updates: list[Update]) -> None:
        _check_own(tenant_id, updates)
        ddb, table = client("dynamodb"), _table()
        pages = ddb.get_paginator("query").paginate(
            TableName=table,
            KeyConditionExpression="tenant_id = :t",
            ExpressionAttributeValues={":t": dynamo.value(tenant_id)},
            ProjectionExpression="tenant_id, sk",
        )
        stale = [item for page in pages for item in page["Items"]]
        _batch_write(table, [{"DeleteRequest": {"Key": key}} for key in stale])
        total = Changes()
        for update in updates:
            total.merge(changes(update, -1))
        items: list[dict[str, Any]] = []
        for (day, pipeline), amounts in total.by_day().items():
            counters = {_counter(name, sev): amount for (name, sev), amount in amounts.items()}
            items.append({**_day_key(tenant_id, day, pipeline), "day": day, "pipeline": pipeline})
            items[-1].update(counters)
        items.extend(
            {
                "tenant_id": tenant_id,
                "sk": f"fix#{f.day}#{f.finding_id}#{f.version:010d}",
                "day": f.day,
                "pipeline": f.pipeline,
                "severity": f.severity,
                "seconds": f.seconds,
            }
            for f in total.fixes
        )
        items.extend(
            {"tenant_id": tenant_id, "sk": f"applied#{u.finding_id}", "version": u.version}
            for u in updates
        )
        _batch_write(table, [{"PutRequest": {"Item": dynamo.serialize(i)}} for i in items])

    def days(
        self, tenant_id: str, first: str, last: str, pipeline: str | None = None
    ) -> list[TrendDay]:
        found = []
        for item in _between(tenant_id, f"day#{first}#", f"day#{last}$", pipeline):
            counts: dict[str, dict[str, int]] = {}
            for attribute, amount in item.items():
                name, _, severity = attribute.partition(".")
                if severity:
                    counts.setdefault(name, {})[severity] = int(amount)
            found.append(TrendDay(item["day"], item["pipeline"], counts))
        return found

    def open_before(self, tenant_id: str, day: str, pipeline: str | None = None) -> dict[str, int]:
        totals: dict[str, int] = {}
        for item in _between(tenant_id, "day#", f"day#{day}", pipeline):
            for attribute, amount in item.items():
                if attribute.startswith("open."):
                    severity = attribute.split(".", 1)[1]
                    totals[severity] = totals.get(severity, 0) + int(amount)
        return {severity: total for severity, total in totals.items() if total}

    def fixes(
        self, tenant_id: str, first: str, last: str, pipeline: str | None = None
    ) -> list[tuple[str, float]]:
        return [
            (item["severity"], float(item["seconds"]))
            for item in _between(tenant_id, f"fix#{first}#", f"fix#{last}$", pipeline)
        ]


def _merged(a: Changes, b: Changes) -> Changes:
    out = Changes()
    out.merge(a)
    out.merge(b)
    return out


def _check_own(tenant_id: str, updates: list[Update]) -> None:
    if any(u.tenant_id != tenant_id for u in updates):
        raise ValueError(f"every trend update applied for {tenant_id!r} must be its own")


def _between(tenant_id: str, low: str, high: str, pipeline: str | None) -> list[dict[str, Any]]:
    """The tenant's items with a sort key in [low, high] (one pipeline's, when given)."""
    request: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "tenant_id = :t AND sk BETWEEN :low AND :high",
        "ExpressionAttributeValues": {
            ":t": dynamo.value(tenant_id),
            ":low": dynamo.value(low),
            ":high": dynamo.value(high),
        },
    }
    if pipeline is not None:
        request["FilterExpression"] = "#p = :p"
        request["ExpressionAttributeNames"] = {"#p": "pipeline"}
        request["ExpressionAttributeValues"][":p"] = dynamo.value(pipeline)
    pages = client("dynamodb").get_paginator("query").paginate(**request)
    return [dynamo.deserialize(item) for page in pages for item in page["Items"]]


def _batch_write(table: str, requests: list[dict[str, Any]]) -> None:
    import time

    ddb = client("dynamodb")
    for start in range(0, len(requests), 25):
        pending: dict[str, Any] = {table: requests[start : start + 25]}
        for attempt in range(8):
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            time.sleep(min(0.05 * 2**attempt, 2.0))
        else:
            raise RuntimeError("trend counters could not be written: DynamoDB kept them")
