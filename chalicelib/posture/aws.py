"""Talking to the account: a boto3 session, clients with adaptive retries, counted calls, and
what a failed call means (a missing permission, an endpoint without the operation, ...).

boto3 finds credentials and endpoints itself: `AWS_PROFILE` / `profile_name`, the environment,
the shared files, SSO, the instance or container role; `AWS_ENDPOINT_URL` (and the per-service
`AWS_ENDPOINT_URL_<SERVICE>`) redirect every client, which is how tests point it at moto.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

__all__ = ["Failure", "Reader", "classify", "permission"]

RETRIES = {"mode": "adaptive", "total_max_attempts": 8}
"""botocore's adaptive mode: exponential back-off with jitter on throttling and 5xx, and a
client-side rate limiter that slows down once the service throttles."""

# the IAM action prefix of a boto3 service name, where they differ
_PREFIX = {
    "elbv2": "elasticloadbalancing",
    "opensearch": "es",
    "s3control": "s3",
    "accessanalyzer": "access-analyzer",
}
# the IAM action an operation needs, where it is not "<prefix>:<OperationName>"
_ACTION = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetObjectLockConfiguration"): "s3:GetBucketObjectLockConfiguration",
    ("s3", "GetBucketTagging"): "s3:GetBucketTagging",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
    ("cloudwatch", "DescribeAlarms"): "cloudwatch:DescribeAlarms",
}
_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "UnauthorizedException",
        "AuthorizationError",
        "AuthorizationErrorException",
        "Forbidden",
        "ForbiddenException",
        "InsufficientPrivilegesException",
    }
)
_UNSUPPORTED = frozenset(
    {"InvalidAction", "UnknownOperationException", "NotImplemented", "UnsupportedOperation"}
)
_NOT_ENABLED = frozenset(
    {"OptInRequired", "SubscriptionRequiredException", "InvalidClientTokenId", "AuthFailure"}
)


def permission(service: str, operation: str) -> str:
    """The IAM action an API operation needs, e.g. `ec2:DescribeSnapshots`."""
    if service == "apigateway":
        return "apigateway:GET"
    return _ACTION.get((service, operation)) or f"{_PREFIX.get(service, service)}:{operation}"


@dataclass(frozen=True)
class Failure:
    """Why a call could not be made: `reason` in a few words, the service's own `message`."""

    reason: str
    message: str
    code: str | None = None


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code")
    return None


def classify(exc: BaseException) -> Failure:
    """What a failed call means for the checks that needed it."""
    if isinstance(exc, NotImplementedError):  # in-process moto, for operations it lacks
        return Failure("not supported by the endpoint", str(exc)[:500])
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        message = str(error.get("Message") or exc)[:500]
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _DENIED or status == 403 or code == "403":
            return Failure("missing permission", message, code)
        if code in _UNSUPPORTED or code in ("404", "501") or status == 501:
            return Failure("not supported by the endpoint", message, code)
        if code in _NOT_ENABLED:
            return Failure("service not enabled in the region", message, code)
        return Failure("error", message, code)
    if isinstance(exc, BotoCoreError):
        return Failure("cannot reach the service", str(exc)[:500])
    return Failure("error", f"{type(exc).__name__}: {exc}"[:500])


class Reader:
    """One account's clients: created once per (service, region), thread-safe, counted.

    Every call goes through botocore's adaptive retries; `calls` counts the requests made
    (retries included), by service.
    """

    def __init__(
        self,
        session: boto3.Session | None = None,
        *,
        profile: str | None = None,
        default_region: str | None = None,
        max_pool: int = 16,
    ) -> None:
        self.session = session or boto3.Session(profile_name=profile)
        self.default_region = default_region or self.session.region_name or "us-east-1"
        self.config = Config(
            retries=dict(RETRIES),  # type: ignore[arg-type]
            user_agent_extra="pipeguard-posture",
            connect_timeout=10,
            read_timeout=60,
            max_pool_connections=max_pool,
        )
        self.calls: Counter[str] = Counter()
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.default_region)
        found = self._clients.get(key)
        if found is not None:
            return found
        with self._lock:  # a Session is not thread-safe
            found = self._clients.get(key)
            if found is None:
                found = self.session.client(service, region_name=key[1], config=self.config)
                found.meta.events.register("before-send", self._count)
                if service == "s3control":
                    keep_custom_host(found)
                self._clients[key] = found
        return found

    @property
    def open_clients(self) -> set[str]:
        """The services this reader holds clients of."""
        with self._lock:
            return {service for service, _ in self._clients}

    def release(self, services: Iterable[str]) -> None:
        """Forget the clients of `services` and the service models no client uses any more
        (a later `client()` makes a new one)."""
        names = set(services)
        with self._lock:
            for key in [k for k in self._clients if k[0] in names]:
                del self._clients[key]
            core = getattr(self.session, "_session", None)
            loader = core.get_component("data_loader") if core is not None else None
            cache = getattr(loader, "_cache", None)  # botocore's instance cache of loaded models
            if isinstance(cache, dict):
                cache.clear()

    def _count(self, request: Any = None, **kwargs: Any) -> None:
        host = urllib.parse.urlsplit(getattr(request, "url", "") or "").hostname or ""
        with self._lock:
            self.calls[kwargs.get("event_name", "").split(".")[1] or host] += 1

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


@dataclass
class _HostFix:
    """S3 Control puts the account id in front of the host (`123456789012.s3-control...`);
    a custom endpoint (`AWS_ENDPOINT_URL`, e.g. moto on 127.0.0.1) has no such names, so the
    prefix is taken off again before the request is signed and sent."""

    host: str
    seen: list[str] = field(default_factory=list)

    def __call__(self, request: Any = None, **kwargs: Any) -> None:
        if request is None:
            return
        parts = urllib.parse.urlsplit(request.url)
        netloc = parts.netloc
        if re.fullmatch(r"\d{12}\." + re.escape(self.host), netloc):
            request.url = urllib.parse.urlunsplit(parts._replace(netloc=self.host))
            self.seen.append(netloc)


def keep_custom_host(client: Any) -> None:
    """Make an S3 Control client send to its custom endpoint's own host."""
    endpoint = client.meta.endpoint_url or ""
    host = urllib.parse.urlsplit(endpoint).netloc
    if not host or host.endswith("amazonaws.com") or host.endswith("amazonaws.com.cn"):
        return
    client.meta.events.register_first("before-sign.s3-control", _HostFix(host))
