"""The service's way into a tenant's account: STS AssumeRole with the tenant's external id.

Sessions are short (15 minutes, enough for one collection). `PIPEGUARD_TENANT_AWS_ENDPOINT_URL`,
when set, is the endpoint of STS and of every client of the tenant's account (moto, in tests
and the embedded stack); otherwise boto3 resolves endpoints as usual.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.posture.aws import RETRIES, Reader

__all__ = ["SESSION_SECONDS", "CannotAssume", "tenant_reader"]

SESSION_SECONDS = 900
ENDPOINT_VARIABLE = "PIPEGUARD_TENANT_AWS_ENDPOINT_URL"


@dataclass(frozen=True)
class CannotAssume(Exception):
    """STS refused the role (or could not be reached): the AWS error code and message."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class _TenantSession(boto3.session.Session):
    """A session whose clients all use the tenant endpoint, when one is configured."""

    def __init__(self, endpoint_url: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._endpoint_url = endpoint_url

    def client(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if self._endpoint_url:
            kwargs.setdefault("endpoint_url", self._endpoint_url)
        return super().client(*args, **kwargs)


def endpoint_url() -> str | None:
    return os.environ.get(ENDPOINT_VARIABLE) or None


def session_name(tenant_id: str) -> str:
    """The RoleSessionName: it names the tenant in the account's CloudTrail."""
    return f"pipeguard-{tenant_id}"[:64]


def tenant_reader(role_arn: str, external_id: str, tenant_id: str, region: str) -> Reader:
    """A `Reader` on the tenant's account through its role; `CannotAssume` if STS refuses."""
    endpoint = endpoint_url()
    sts = boto3.session.Session(region_name=region).client(
        "sts",
        endpoint_url=endpoint,
        config=Config(retries=dict(RETRIES), connect_timeout=10, read_timeout=30),  # type: ignore[arg-type]
    )
    try:
        credentials = sts.assume_role(
            RoleArn=role_arn,
            ExternalId=external_id,
            RoleSessionName=session_name(tenant_id),
            DurationSeconds=SESSION_SECONDS,
        )["Credentials"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise CannotAssume(
            str(error.get("Code") or "ClientError"), str(error.get("Message") or exc)[:300]
        ) from None
    except BotoCoreError as exc:
        raise CannotAssume(type(exc).__name__, str(exc)[:300]) from None
    session = _TenantSession(
        endpoint,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
    return Reader(session, default_region=region)
