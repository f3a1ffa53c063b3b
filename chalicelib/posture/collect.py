"""Collect an account's inventory: every service in every region, on a bounded thread pool.

Each service module (`chalicelib.posture.services.<name>`) reads one service in one region (or
once, for global services) through a `Scope`, which paginates, counts, bounds the requests in
flight per region and turns a failed read into a `not_assessed` entry instead of an error: a
missing permission never fails the collection, and never passes a check silently.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from chalicelib.posture import inventory as inv
from chalicelib.posture.aws import Reader, classify, error_code, permission

__all__ = ["NOT_READ", "SERVICES", "Scope", "collect"]

SERVICES: tuple[str, ...] = (
    "iam",
    "s3",
    "ec2",
    "kms",
    "cloudtrail",
    "rds",
    "lambda",
    "dynamodb",
    "sns",
    "sqs",
    "secretsmanager",
    "elbv2",
    "apigateway",
    "ecr",
    "eks",
    "cloudfront",
    "opensearch",
    "logs",
    "config",
    "guardduty",
    "securityhub",
    "accessanalyzer",
)
"""Every service collected, by its module under `chalicelib.posture.services`."""


class _NotRead:
    def __repr__(self) -> str:
        return "NOT_READ"

    def __bool__(self) -> bool:
        return False


TAGGED_TYPES = ("sns", "sqs", "dynamodb:table", "lambda:function", "kms:key")
"""Resource types whose tags come from one Resource Groups Tagging read per region (their own
services have no batch tag read)."""

NOT_READ: Any = _NotRead()
"""What a read returns when it failed (and was recorded as not assessed)."""


class _Sink:
    """What the scopes of one collection write to (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.resources: list[inv.InventoryResource] = []
        self.arns: set[str] = set()
        self.facts: dict[str, dict[str, Any]] = {}
        self.not_assessed: list[inv.NotAssessed] = []
        self.tag_maps: dict[str, dict[str, dict[str, str]] | None] = {}
        self.tag_locks: dict[str, threading.Lock] = {}

    def claim(self, arn: str) -> bool:
        """True the first time an ARN is seen (multi-region trails show up in every region)."""
        with self.lock:
            if arn in self.arns:
                return False
            self.arns.add(arn)
            return True


class Scope:
    """One service in one region (or `global`): its reads, and what they found."""

    def __init__(
        self,
        reader: Reader,
        sink: _Sink,
        service: str,
        region: str,
        account_id: str,
        partition: str,
        *,
        gate: threading.BoundedSemaphore,
        details: ThreadPoolExecutor,
        client_region: str | None = None,
    ) -> None:
        self.reader = reader
        self.sink = sink
        self.service = service
        self.region = region
        self.account_id = account_id
        self.partition = partition
        self.gate = gate
        self.details = details
        self.client_region = client_region or (None if region == inv.GLOBAL else region)
        self.used: set[str] = set()
        """The AWS services whose clients this scope asked for."""

    # -- reading ---------------------------------------------------------------------------

    def client(self, service: str | None = None, region: str | None = None) -> Any:
        self.used.add(service or self.service)
        return self.reader.client(service or self.service, region or self.client_region)

    def call(
        self,
        operation: str,
        *,
        service: str | None = None,
        absent: Iterable[str] = (),
        feeds: Iterable[str] = (),
        resource: str | None = None,
        **params: Any,
    ) -> Any:
        """One request (`operation` is the boto3 method name, e.g. `describe_key`).

        The response; None when the service answers with one of the `absent` error codes
        ("not configured", e.g. NoSuchBucketPolicy); NOT_READ when the call failed, which is
        recorded as not assessed (for `feeds`, the resource types or facts it fills).
        """
        client = self.client(service)
        try:
            with self.gate:
                return getattr(client, operation)(**params)
        except Exception as exc:
            if error_code(exc) in set(absent):
                return None
            self.failed(client, operation, exc, feeds, resource)
            return NOT_READ

    def pages(
        self,
        operation: str,
        key: str | Callable[[dict[str, Any]], list[Any]],
        *,
        service: str | None = None,
        feeds: Iterable[str] = (),
        resource: str | None = None,
        **params: Any,
    ) -> Any:
        """Every item under `key` of every page of `operation` (its boto3 paginator), or
        NOT_READ when a page could not be read. `key` may be a function picking the items of
        a page."""
        client = self.client(service)
        pick = key if callable(key) else (lambda page: page.get(key) or [])
        items: list[Any] = []
        try:
            if not client.can_paginate(operation):
                with self.gate:
                    return list(pick(getattr(client, operation)(**params)))
            pages = iter(client.get_paginator(operation).paginate(**params))
            while True:
                with self.gate:
                    page = next(pages, None)
                if page is None:
                    return items
                items.extend(pick(page))
        except Exception as exc:
            self.failed(client, operation, exc, feeds, resource)
            return NOT_READ

    def tags(self, arn: str, read: Callable[[], Any]) -> Any:
        """The tags of a regional resource: from the region's Resource Groups Tagging map (one
        paginated read for every resource type in TAGGED_TYPES), or `read()` for this resource
        alone when the map cannot be read (e.g. without `tag:GetResources`)."""
        found = self._tag_map()
        return read() if found is None else found.get(arn, {})

    def _tag_map(self) -> dict[str, dict[str, str]] | None:
        region = self.client_region or self.reader.default_region
        with self.sink.lock:
            lock = self.sink.tag_locks.setdefault(region, threading.Lock())
        with lock:  # the first scope of a region reads the map, the others wait for it
            if region not in self.sink.tag_maps:
                self.sink.tag_maps[region] = self._read_tag_map(region)
            return self.sink.tag_maps[region]

    def _read_tag_map(self, region: str) -> dict[str, dict[str, str]] | None:
        client = self.reader.client("resourcegroupstaggingapi", region)
        found: dict[str, dict[str, str]] = {}
        try:
            pages = iter(
                client.get_paginator("get_resources").paginate(
                    ResourceTypeFilters=list(TAGGED_TYPES), ResourcesPerPage=100
                )
            )
            while True:
                with self.gate:
                    page = next(pages, None)
                if page is None:
                    return found
                for item in page.get("ResourceTagMappingList") or []:
                    found[item["ResourceARN"]] = tag_dict(item.get("Tags"))
        except Exception:  # noqa: BLE001 - each resource's own tag read takes over
            return None

    def each(self, items: Iterable[Any], read: Callable[[Any], Any]) -> list[Any]:
        """`read(item)` for every item, a few at a time (per-resource detail calls)."""
        futures = [self.details.submit(read, item) for item in items]
        return [future.result() for future in futures]

    def failed(
        self, client: Any, operation: str, exc: Exception, feeds: Iterable[str], resource: Any
    ) -> None:
        """Record a failed call as not assessed."""
        name = client.meta.method_to_api_mapping.get(operation, operation)
        failure = classify(exc)
        action = permission(client.meta.service_model.service_name, name)
        self.record(action, failure.reason, failure.message, feeds=feeds, resource=resource)

    def record(
        self,
        action: str,
        reason: str,
        message: str,
        *,
        feeds: Iterable[str] = (),
        resource: str | None = None,
    ) -> None:
        """Record a read that could not be made (or whose answer was incomplete)."""
        entry = inv.NotAssessed(
            service=self.service,
            region=self.region,
            operation=action,
            reason=reason,
            message=message,
            resource=resource,
            feeds=sorted(set(feeds)),
        )
        with self.sink.lock:
            self.sink.not_assessed.append(entry)

    # -- recording -------------------------------------------------------------------------

    def arn(self, resource: str, *, service: str | None = None, account: bool = True) -> str:
        region = "" if self.region == inv.GLOBAL else self.region
        owner = self.account_id if account else ""
        return f"arn:{self.partition}:{service or self.service}:{region}:{owner}:{resource}"

    def add(
        self,
        type_: str,
        arn: str,
        id_: str,
        configuration: dict[str, Any],
        *,
        tags: Any = None,
        region: str | None = None,
        not_assessed: dict[str, str] | None = None,
    ) -> None:
        """Record a resource (once per ARN)."""
        if not self.sink.claim(arn):
            return
        resource = inv.InventoryResource(
            arn=arn,
            type=type_,
            region=region or self.region,
            id=id_,
            configuration=jsonable(configuration),
            tags=tag_dict(tags),
            not_assessed=not_assessed or {},
        )
        with self.sink.lock:
            self.sink.resources.append(resource)

    def fact(self, name: str, value: Any, *, scope: str | None = None) -> None:
        """Record an account-level fact of this region (or `scope`)."""
        with self.sink.lock:
            self.sink.facts.setdefault(scope or self.region, {})[name] = jsonable(value)

    def section(
        self,
        config: dict[str, Any],
        missing: dict[str, str],
        name: str,
        operation: str,
        *,
        pick: Callable[[dict[str, Any]], Any] = lambda r: r,
        absent: Iterable[str] = (),
        service: str | None = None,
        resource: str | None = None,
        feeds: Iterable[str] = (),
        **params: Any,
    ) -> None:
        """Read one configuration section of a resource into `config[name]` (None when the
        service says it is not configured); when the read fails, `missing[name]` names the
        permission and the section stays out of `config`."""
        response = self.call(
            operation, service=service, absent=absent, resource=resource, feeds=feeds, **params
        )
        if response is NOT_READ:
            client = self.client(service)
            api = client.meta.method_to_api_mapping.get(operation, operation)
            missing[name] = permission(client.meta.service_model.service_name, api)
        else:
            config[name] = None if response is None else pick(response)


def jsonable(value: Any) -> Any:
    """A boto3 response as JSON values: datetimes as ISO text, bytes as text, no metadata."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def decoded(value: Any) -> Any:
    """A JSON document the API returns as text (a policy), parsed; other values as they are."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def decoded_keys(mapping: dict[str, Any], *keys: str) -> dict[str, Any]:
    """`mapping` with the JSON text under `keys` parsed."""
    return {k: decoded(v) if k in keys else v for k, v in mapping.items()}


def tag_dict(tags: Any) -> dict[str, str]:
    """Tags in any of AWS's spellings (`[{Key, Value}]`, `[{key, value}]`, a mapping)."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    out: dict[str, str] = {}
    for tag in tags or []:
        if isinstance(tag, dict):
            key = tag.get("Key", tag.get("key", tag.get("TagKey")))
            value = tag.get("Value", tag.get("value", tag.get("TagValue", "")))
            if key is not None:
                out[str(key)] = "" if value is None else str(value)
    return out


class _Releases:
    """Lets go of a service's clients once the service is read in every region: a client's
    model (EC2's is tens of MiB) is not kept for the rest of the scan."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.lock = threading.Lock()
        self.left: dict[str, int] = {}
        self.used: dict[str, set[str]] = {}

    def expect(self, name: str, count: int) -> None:
        self.left[name] = count
        self.used[name] = set()

    def run(self, read: Callable[[Scope], None], scope: Scope) -> None:
        try:
            read(scope)
        finally:
            with self.lock:
                self.used[scope.service] |= scope.used
                self.left[scope.service] -= 1
                done = self.used[scope.service] if self.left[scope.service] == 0 else None
            if done:
                self.reader.release(done - {"sts"})


def collect(
    reader: Reader | None = None,
    *,
    regions: Iterable[str] | None = None,
    services: Iterable[str] | None = None,
    workers: int = 8,
    per_region: int = 4,
    stacks: Iterable[str] = (),
) -> inv.Inventory:
    """Read the account `reader` reaches into an inventory.

    `regions` default to the session's region; `services` to every one in SERVICES. At most
    `workers` services are read at once, with at most `per_region` requests in flight per
    region (and per-resource detail reads on a second pool of `workers` threads).
    `stacks` are CloudFormation stack names (or ARNs) to read for drift, in every region.
    """
    reader = reader or Reader()
    started = time.monotonic()
    chosen = list(services or SERVICES)
    unknown = sorted(set(chosen) - set(SERVICES))
    if unknown:
        raise ValueError(f"unknown service(s) {', '.join(unknown)}: choose from SERVICES")
    wanted = list(dict.fromkeys(regions or [reader.default_region]))
    identity = reader.client("sts").get_caller_identity()
    account_id = identity["Account"]
    partition = identity["Arn"].split(":")[1] if identity.get("Arn") else "aws"
    sink = _Sink()
    gates = {name: threading.BoundedSemaphore(per_region) for name in [*wanted, inv.GLOBAL]}
    modules = {
        name: importlib.import_module(f"chalicelib.posture.services.{name}") for name in chosen
    }
    with (
        ThreadPoolExecutor(workers, thread_name_prefix="posture") as pool,
        ThreadPoolExecutor(workers, thread_name_prefix="posture-detail") as details,
    ):
        futures: list[tuple[str, str, Future[None]]] = []
        releases = _Releases(reader)
        for name, module in modules.items():
            places = [inv.GLOBAL] if module.GLOBAL else wanted
            releases.expect(name, len(places))
            for region in places:
                scope = Scope(
                    reader,
                    sink,
                    name,
                    region,
                    account_id,
                    partition,
                    gate=gates[region],
                    details=details,
                    client_region=getattr(module, "CLIENT_REGION", None),
                )
                futures.append((name, region, pool.submit(releases.run, module.collect, scope)))
        for name, region, future in futures:
            exc = future.exception()
            if exc is not None:  # a bug in one service's reader costs that service only
                failure = classify(exc)
                with sink.lock:
                    sink.not_assessed.append(
                        inv.NotAssessed(
                            service=name,
                            region=region,
                            operation=f"{name}:*",
                            reason="collection failed",
                            message=failure.message,
                        )
                    )
    named = list(dict.fromkeys(stacks))
    read: list[inv.Stack] | None = None
    if named:
        from chalicelib.posture.stacks import read_stacks

        read, unread = read_stacks(reader, named, wanted, account_id, partition)
        sink.not_assessed.extend(unread)
    order = {name: i for i, name in enumerate(SERVICES)}
    sink.not_assessed.sort(key=lambda n: (order.get(n.service, 99), n.region, n.operation))
    return inv.Inventory(
        kind=inv.KIND,
        version=inv.VERSION,
        account_id=account_id,
        partition=partition,
        regions=wanted,
        collected_at=datetime.now(UTC).isoformat(timespec="seconds"),
        resources=sorted(sink.resources, key=lambda r: (r.type, r.region, r.arn)),
        facts={scope: dict(sorted(facts.items())) for scope, facts in sorted(sink.facts.items())},
        not_assessed=sink.not_assessed,
        services=chosen,
        stacks=read,
        stats={
            "api_calls": reader.total_calls,
            "api_calls_by_service": dict(sorted(reader.calls.items())),
            "seconds": round(time.monotonic() - started, 3),
        },
    )


def grouped(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """`items` in lists of at most `size` (for batch describe calls)."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
