"""Service-side posture scans: the service assumes a registered account's role, reads the
account and judges its inventory through the normal stream → evaluate → findings path.

The service runs on in-process moto (account 123456789012); the tenant's account is a second
moto account (111122223333), reached through AssumeRole with the registration's external id.
For a role that cannot be assumed, STS itself must refuse: a moto server with IAM
authorisation enforced plays the tenant's side, and the service calls it with credentials
whose policy does not allow `sts:AssumeRole` on the registered role (a real `AccessDenied`).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import Api
from tests.posture import server

TENANT_ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{TENANT_ACCOUNT}:role/pipeguard-audit"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def tenant_account(aws: Any, monkeypatch: pytest.MonkeyPatch) -> boto3.Session:
    """A session in the tenant's moto account, with an SSH port open to the world."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    monkeypatch.delenv("PIPEGUARD_TENANT_AWS_ENDPOINT_URL", raising=False)
    assumed = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{TENANT_ACCOUNT}:role/seed", RoleSessionName="seed"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=assumed["AccessKeyId"],
        aws_secret_access_key=assumed["SecretAccessKey"],
        aws_session_token=assumed["SessionToken"],
        region_name="us-east-1",
    )


def _open_ssh(session: boto3.Session) -> str:
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="bastion", Description="ssh", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[SSH_FROM_ANYWHERE])
    return group


SSH_FROM_ANYWHERE = {
    "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
}  # fmt: skip


def _start(acme: Api) -> dict[str, Any]:
    """POST a scan of the tenant's account: 202 with a scan that is still collecting."""
    started = acme.post(f"/v1/accounts/{TENANT_ACCOUNT}/scans", headers=JSON)
    assert started.status_code == 202, started.text
    accepted = started.json()
    assert started.headers["Location"] == accepted["status_url"]
    assert accepted["status"] == "collecting"
    return accepted


def _scan_now(acme: Api, pipeline: Any) -> dict[str, Any]:
    accepted = _start(acme)
    pipeline.drain(timeout=60)
    return accepted


def _queued_jobs(aws: Any, url: str | None = None) -> list[dict[str, Any]]:
    """The jobs waiting on the account-scan queue (or another queue), left there."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = url or aws.account_scan_queue_url
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_a_registered_account_is_scanned_through_its_role(
    api_url: str, keys: dict[str, str], pipeline: Any, tenant_account: boto3.Session, aws: Any
) -> None:
    group = _open_ssh(tenant_account)
    acme = Api(api_url, keys["acme"])
    assert acme.post("/v1/accounts", json={"account_id": TENANT_ACCOUNT, "role_arn": ROLE}).ok

    accepted = _start(acme)  # answered before the account is read: the scan is collecting
    pending = acme.get(accepted["status_url"]).json()
    assert (pending["status"], pending["artifacts"], pending["verdict"]) == ("collecting", [], None)
    account = acme.get(f"/v1/accounts/{TENANT_ACCOUNT}").json()
    assert (account["status"], account["last_scan_id"]) == ("pending", accepted["scan_id"])
    [job] = _queued_jobs(aws)
    assert (job["tenant_id"], job["account_id"], job["scan_id"]) == (
        "acme", TENANT_ACCOUNT, accepted["scan_id"],
    )  # fmt: skip
    assert "external_id" not in json.dumps(job)  # the secret stays in the registration

    # another tenant can neither read this scan nor its findings
    globex = Api(api_url, keys["globex"])
    assert globex.get(accepted["status_url"]).status_code == 404

    pipeline.drain(timeout=60)
    scan = acme.get(accepted["status_url"]).json()
    assert scan["status"] == "complete", scan
    assert scan["pipeline"] == f"aws/{TENANT_ACCOUNT}" and scan["verdict"] == "fail"
    [artifact] = scan["artifacts"]
    assert (artifact["type"], artifact["path"]) == ("aws_inventory", f"aws/{TENANT_ACCOUNT}.json")
    found = acme.get("/v1/findings", params={"scan_id": accepted["scan_id"], "limit": "200"})
    hits = {(f["rule_id"], f["resource"]) for f in found.json()["findings"]}
    arn = f"arn:aws:ec2:us-east-1:{TENANT_ACCOUNT}:security-group/{group}"
    assert ("CF-EC2-001", arn) in hits  # the tenant account's group, not the service's
    assert not any("123456789012" in (resource or "") for _, resource in hits)
    assert globex.get(accepted["status_url"]).status_code == 404
    theirs = globex.get("/v1/findings", params={"scan_id": accepted["scan_id"]}).json()
    assert theirs["findings"] == []

    account = acme.get(f"/v1/accounts/{TENANT_ACCOUNT}").json()
    assert account["status"] == "ok" and account["status_message"] is None
    assert account["last_scan_id"] == accepted["scan_id"]
    assert account["last_scan_at"] < account["next_scan_at"]

    # the port is closed outside any template: the next scan reports the finding fixed
    tenant_account.client("ec2").revoke_security_group_ingress(
        GroupId=group, IpPermissions=[SSH_FROM_ANYWHERE]
    )
    again = _scan_now(acme, pipeline)
    assert again["scan_id"] != accepted["scan_id"]
    pipeline_view = acme.get(f"/v1/pipelines/aws%2F{TENANT_ACCOUNT}").json()
    assert [h["scan_id"] for h in pipeline_view["history"]][:2] == [
        again["scan_id"], accepted["scan_id"],
    ]  # fmt: skip
    fixed = acme.get("/v1/findings", params={"rule_id": "CF-EC2-001", "status": "fixed"}).json()
    assert [f["resource"] for f in fixed["findings"]] == [arn]


def test_the_role_is_assumed_with_the_external_id_and_a_short_session(
    aws: Any, keys: dict[str, str], tenant_account: boto3.Session, monkeypatch: Any
) -> None:
    from chalicelib.posture import assume

    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    original = boto3.session.Session.client

    def client(self: Any, service: str, *args: Any, **kwargs: Any) -> Any:
        made = original(self, service, *args, **kwargs)
        if service == "sts":
            made.meta.events.register("provide-client-params.sts.AssumeRole", record)
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)
    reader = assume.tenant_reader(ROLE, "ext-id-of-acme", "acme", "us-east-1")
    assert calls == [{
        "RoleArn": ROLE, "ExternalId": "ext-id-of-acme", "RoleSessionName": "pipeguard-acme",
        "DurationSeconds": 900,
    }]  # fmt: skip
    identity = reader.client("sts").get_caller_identity()
    assert identity["Account"] == TENANT_ACCOUNT
    assert identity["Arn"].endswith("assumed-role/pipeguard-audit/pipeguard-acme")
    assert reader.config.retries["mode"] == "adaptive"


@pytest.fixture
def refusing_sts(aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A moto server that enforces IAM: the service's user there may assume one other role."""
    with contextlib.ExitStack() as stack:
        with monkeypatch.context() as during_start:  # only the server's process sees it
            during_start.setenv("INITIAL_NO_AUTH_ACTION_COUNT", "3")
            endpoint = stack.enter_context(server.moto_server(tmp_path / "sts-moto.log"))
        iam = server.session(endpoint).client("iam")
        iam.create_user(UserName="pipeguard-service")
        allowed = {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": f"arn:aws:iam::{TENANT_ACCOUNT}:role/some-other-role",
        }
        iam.put_user_policy(
            UserName="pipeguard-service",
            PolicyName="assume-one-role",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allowed]}),
        )
        key = iam.create_access_key(UserName="pipeguard-service")["AccessKey"]
        monkeypatch.setenv("PIPEGUARD_TENANT_AWS_ENDPOINT_URL", endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        yield endpoint


def test_a_role_that_cannot_be_assumed_fails_the_scan_and_says_why(
    api_url: str, keys: dict[str, str], refusing_sts: str, pipeline: Any
) -> None:
    from chalicelib.posture import assume

    with pytest.raises(assume.CannotAssume) as refused:  # STS itself refuses
        assume.tenant_reader(ROLE, "x" * 43, "acme", "us-east-1")
    assert refused.value.code == "AccessDenied"

    acme = Api(api_url, keys["acme"])
    assert acme.post("/v1/accounts", json={"account_id": TENANT_ACCOUNT, "role_arn": ROLE}).ok
    started = _start(acme)  # the route does not assume the role: the worker does
    pipeline.drain(timeout=60)
    expected = "cannot assume role: check its trust policy and external id (AccessDenied)"
    scan = acme.get(started["status_url"]).json()
    assert (scan["status"], scan["failure"], scan["artifacts"]) == ("failed", expected, [])
    account = acme.get(f"/v1/accounts/{TENANT_ACCOUNT}").json()
    assert (account["status"], account["status_message"]) == ("cannot_assume_role", expected)
    assert account["last_scan_id"] == started["scan_id"]
    listed = acme.get("/v1/accounts").json()["accounts"]
    assert [a["status"] for a in listed] == ["cannot_assume_role"]


def test_an_unreachable_sts_is_a_failed_scan_not_a_server_error(
    api_url: str, keys: dict[str, str], aws: Any, monkeypatch: pytest.MonkeyPatch, pipeline: Any
) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PIPEGUARD_TENANT_AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    acme = Api(api_url, keys["acme"])
    assert acme.post("/v1/accounts", json={"account_id": TENANT_ACCOUNT, "role_arn": ROLE}).ok
    started = _start(acme)
    pipeline.drain(timeout=60)
    account = acme.get(f"/v1/accounts/{TENANT_ACCOUNT}").json()
    assert account["status"] == "cannot_assume_role"
    assert account["status_message"].endswith("(EndpointConnectionError)")
    assert acme.get(started["status_url"]).json()["status"] == "failed"
    assert _queued_jobs(aws) == [] and _queued_jobs(aws, _dead_letters(aws)) == []


WEB_STACK = {
    "Resources": {
        "Web": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "web",
                "SecurityGroupIngress": [
                    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                     "CidrIp": "10.0.0.0/8", "Description": "https inside"}
                ],
            },
        }
    }
}  # fmt: skip


def test_a_registered_stack_changed_outside_its_template_is_drift(
    api_url: str, keys: dict[str, str], pipeline: Any, tenant_account: boto3.Session
) -> None:
    cloudformation = tenant_account.client("cloudformation")
    cloudformation.create_stack(StackName="web", TemplateBody=json.dumps(WEB_STACK))
    [group] = [
        r["PhysicalResourceId"]
        for r in cloudformation.describe_stack_resources(StackName="web")["StackResources"]
    ]
    acme = Api(api_url, keys["acme"])
    registered = acme.post(
        "/v1/accounts", json={"account_id": TENANT_ACCOUNT, "role_arn": ROLE, "stacks": ["web"]}
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["stacks"] == ["web"]

    clean = _scan_now(acme, pipeline)
    drift = acme.get("/v1/findings", params={"scan_id": clean["scan_id"], "q": "AWS-DRIFT"})
    assert [f["rule_id"] for f in drift.json()["findings"]] == []  # as the template says

    tenant_account.client("ec2").authorize_security_group_ingress(
        GroupId=group, IpPermissions=[SSH_FROM_ANYWHERE]
    )
    changed = _scan_now(acme, pipeline)
    found = acme.get(
        "/v1/findings", params={"scan_id": changed["scan_id"], "rule_id": "AWS-DRIFT-001"}
    )
    [finding] = found.json()["findings"]
    assert finding["resource"] == f"arn:aws:ec2:us-east-1:{TENANT_ACCOUNT}:security-group/{group}"
    assert "0.0.0.0/0" in finding["message"] and "web" in finding["message"]
    assert (finding["account"], finding["service"]) == (TENANT_ACCOUNT, "ec2")


def _dead_letters(aws: Any) -> str:
    return aws.account_scan_dead_letter_queue_url


def _findings_of(acme: Api, scan_id: str) -> list[tuple[str, str, str]]:
    page = acme.get("/v1/findings", params={"scan_id": scan_id, "limit": "200"}).json()
    return sorted((f["finding_id"], f["rule_id"], f["resource"]) for f in page["findings"])


def test_a_job_delivered_again_makes_no_second_scan_nor_findings(
    api_url: str, keys: dict[str, str], pipeline: Any, tenant_account: boto3.Session, aws: Any
) -> None:
    _open_ssh(tenant_account)
    acme = Api(api_url, keys["acme"])
    assert acme.post("/v1/accounts", json={"account_id": TENANT_ACCOUNT, "role_arn": ROLE}).ok
    accepted = _start(acme)
    [job] = _queued_jobs(aws)
    sqs = boto3.client("sqs", region_name="us-east-1")
    # the same job twice more: once while the first is waiting, once after it was done
    sqs.send_message(QueueUrl=aws.account_scan_queue_url, MessageBody=json.dumps(job))
    pipeline.drain(timeout=60)
    first = _findings_of(acme, accepted["scan_id"])
    assert first and any(rule == "CF-EC2-001" for _, rule, _ in first)
    sqs.send_message(QueueUrl=aws.account_scan_queue_url, MessageBody=json.dumps(job))
    pipeline.drain(timeout=60)

    history = acme.get(f"/v1/pipelines/aws%2F{TENANT_ACCOUNT}").json()["history"]
    assert [h["scan_id"] for h in history] == [accepted["scan_id"]]
    scan = acme.get(accepted["status_url"]).json()
    assert (scan["status"], scan["artifacts_total"], scan["artifacts_done"]) == ("complete", 1, 1)
    assert _findings_of(acme, accepted["scan_id"]) == first
    everything = acme.get("/v1/findings", params={"limit": "200"}).json()["findings"]
    assert len(everything) == len(first)  # no finding twice, none from another scan
    [jobs] = [s for s in pipeline.sources if s.name == "collect_account_scans"]
    assert jobs.stats.processed == 3 and _queued_jobs(aws) == []


def test_a_job_whose_inventory_missed_the_stream_puts_it_there_on_its_next_delivery(
    api_url: str,
    keys: dict[str, str],
    pipeline: Any,
    tenant_account: boto3.Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib import account_scans
    from chalicelib.stores import stream

    _open_ssh(tenant_account)
    real = stream.put_records
    calls: list[int] = []

    def refuse_once(records: list[tuple[str, bytes]]) -> None:
        calls.append(len(records))
        if len(calls) == 1:
            raise stream.StreamUnavailable("the scan stream refused the records")
        real(records)

    monkeypatch.setattr(account_scans.stream, "put_records", refuse_once)
    acme = Api(api_url, keys["acme"])
    assert acme.post("/v1/accounts", json={"account_id": TENANT_ACCOUNT, "role_arn": ROLE}).ok
    accepted = _scan_now(acme, pipeline)
    assert calls == [1, 1]  # collected once, put on the stream on the second delivery
    scan = acme.get(accepted["status_url"]).json()
    assert (scan["status"], scan["verdict"]) == ("complete", "fail")
    assert acme.get(f"/v1/accounts/{TENANT_ACCOUNT}").json()["status"] == "ok"


def test_a_job_that_keeps_failing_fails_its_scan_and_goes_to_the_dead_letter_queue(
    api_url: str,
    keys: dict[str, str],
    pipeline: Any,
    tenant_account: boto3.Session,
    aws: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.posture import collect

    attempts: list[str] = []

    def broken(*args: Any, **kwargs: Any) -> Any:
        attempts.append("collect")
        raise RuntimeError("collector bug")

    monkeypatch.setattr(collect, "collect", broken)
    acme = Api(api_url, keys["acme"])
    assert acme.post("/v1/accounts", json={"account_id": TENANT_ACCOUNT, "role_arn": ROLE}).ok
    accepted = _scan_now(acme, pipeline)

    assert len(attempts) == 3  # the queue's redrive policy: three deliveries
    scan = acme.get(accepted["status_url"]).json()
    assert scan["status"] == "failed"
    assert scan["failure"] == "the account scan failed 3 times; the last error: collector bug"
    account = acme.get(f"/v1/accounts/{TENANT_ACCOUNT}").json()
    assert (account["status"], account["status_message"]) == ("scan_failed", scan["failure"])
    assert _queued_jobs(aws) == []
    [dead] = _queued_jobs(aws, _dead_letters(aws))
    assert dead["scan_id"] == accepted["scan_id"]


def _broken(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("collector bug")


def _redrive(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """`python -m chalicelib.ops redrive`: what it did with the account-scan dead letters."""
    from chalicelib import ops

    capsys.readouterr()
    assert ops.main(["redrive"]) == 0
    printed = capsys.readouterr().out.splitlines()  # the logs' JSON lines, then the result
    done = json.loads(printed[-1])["redrive"]
    assert (done["replayed"], done["left"]) == (0, [])  # the stream's dead letters: none
    return dict(done["account_scans"])


def test_redrive_scans_again_each_account_whose_scan_was_given_up(
    api_url: str,
    keys: dict[str, str],
    pipeline: Any,
    tenant_account: boto3.Session,
    aws: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from chalicelib.posture import collect
    from chalicelib.stores import scans

    real_collect = collect.collect
    monkeypatch.setattr(collect, "collect", _broken)
    _open_ssh(tenant_account)
    acme = Api(api_url, keys["acme"])
    assert acme.post("/v1/accounts", json={"account_id": TENANT_ACCOUNT, "role_arn": ROLE}).ok
    given_up = _scan_now(acme, pipeline)
    [dead] = _queued_jobs(aws, _dead_letters(aws))
    assert acme.get(given_up["status_url"]).json()["status"] == "failed"

    sqs = boto3.client("sqs", region_name="us-east-1")
    globex = Api(api_url, keys["globex"])
    other = "444455556666"
    role = f"arn:aws:iam::{other}:role/pipeguard-audit"
    assert globex.post("/v1/accounts", json={"account_id": other, "role_arn": role}).ok
    timed_out = globex.post(f"/v1/accounts/{other}/scans", headers=JSON).json()  # never run
    [stuck] = _queued_jobs(aws)
    sqs.purge_queue(QueueUrl=aws.account_scan_queue_url)
    assert globex.session.delete(f"{api_url}/v1/accounts/{other}", timeout=30).status_code == 204
    for body in (json.dumps(dead), json.dumps(stuck), "not a job"):  # and acme's job twice
        sqs.send_message(QueueUrl=_dead_letters(aws), MessageBody=body)

    monkeypatch.setattr(collect, "collect", real_collect)  # the cause is fixed
    done = _redrive(capsys)
    [again] = done["rescanned"]  # one new scan of the account, however many of its jobs died
    assert (again["tenant_id"], again["account_id"]) == ("acme", TENANT_ACCOUNT)
    assert again["given_up"] == [given_up["scan_id"]] and again["scan_id"] != given_up["scan_id"]
    assert done["skipped"] == [
        {
            "tenant_id": "globex",
            "account_id": other,
            "reason": "the account is no longer registered",
        }
    ]
    assert done["failed"] == [timed_out["scan_id"]]  # it was still collecting: failed now
    failed = globex.get(timed_out["status_url"]).json()
    assert (failed["status"], failed["failure"]) == (
        "failed", "the account scan did not finish: every attempt timed out",
    )  # fmt: skip
    assert len(done["left"]) == 1  # the unreadable message stays for someone to read
    [job] = _queued_jobs(aws)
    assert (job["scan_id"], job["actor"]) == (again["scan_id"], "redrive")

    pipeline.drain(timeout=60)
    scan = acme.get(f"/v1/scans/{again['scan_id']}").json()
    assert (scan["status"], scan["verdict"]) == ("complete", "fail")
    assert scans.get("acme", again["scan_id"])["submitted_by"] == "redrive"
    assert any(rule == "CF-EC2-001" for _, rule, _ in _findings_of(acme, again["scan_id"]))
    account = acme.get(f"/v1/accounts/{TENANT_ACCOUNT}").json()
    assert (account["status"], account["last_scan_id"]) == ("ok", again["scan_id"])

    # the same dead letter again, after the account was scanned: nothing to scan again
    sqs.send_message(QueueUrl=_dead_letters(aws), MessageBody=json.dumps(dead))
    late = _redrive(capsys)
    assert late["rescanned"] == [] and late["failed"] == [] and late["left"] == []
    assert late["skipped"] == [
        {
            "tenant_id": "acme",
            "account_id": TENANT_ACCOUNT,
            "reason": f"scanned since: {again['scan_id']}",
        }
    ]
    assert _queued_jobs(aws) == []


def test_redrive_leaves_a_disabled_tenants_accounts_to_their_schedule(
    api_url: str, keys: dict[str, str], aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from chalicelib import tenancy

    acme = Api(api_url, keys["acme"])
    assert acme.post("/v1/accounts", json={"account_id": TENANT_ACCOUNT, "role_arn": ROLE}).ok
    started = _start(acme)
    [job] = _queued_jobs(aws)  # its every attempt timed out: the queue gave it up
    sqs = boto3.client("sqs", region_name="us-east-1")
    sqs.purge_queue(QueueUrl=aws.account_scan_queue_url)
    sqs.send_message(QueueUrl=_dead_letters(aws), MessageBody=json.dumps(job))
    tenancy.set_status("acme", "disabled", actor="operator")

    done = _redrive(capsys)
    assert done["rescanned"] == [] and done["failed"] == [started["scan_id"]]
    [skipped] = done["skipped"]
    assert skipped["reason"].startswith("the tenant is not active")
    assert _queued_jobs(aws) == [] and _queued_jobs(aws, _dead_letters(aws)) == []


def test_redrive_without_the_account_scan_queue_exits_2_before_replaying_anything(
    aws: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from chalicelib import ops
    from chalicelib.stores import clients

    sqs = boto3.client("sqs", region_name="us-east-1")
    sqs.send_message(QueueUrl=aws.dead_letter_queue_url, MessageBody=json.dumps({"x": 1}))
    gone = aws.account_scan_queue_url.rsplit("/", 1)[0] + "/no-such-queue"
    monkeypatch.setenv("ACCOUNT_SCAN_QUEUE_URL", gone)
    clients.reset()
    with pytest.raises(SystemExit) as exited:
        ops.main(["redrive"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "dead-letter queue cannot be found" in error and "ACCOUNT_SCAN_QUEUE_URL" in error
    left = sqs.receive_message(QueueUrl=aws.dead_letter_queue_url, VisibilityTimeout=0)
    assert len(left["Messages"]) == 1  # the stream's dead letter was not touched


def test_a_job_that_cannot_be_queued_is_a_503_and_a_failed_scan(
    api_url: str, keys: dict[str, str], aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.stores import clients

    acme = Api(api_url, keys["acme"])
    assert acme.post("/v1/accounts", json={"account_id": TENANT_ACCOUNT, "role_arn": ROLE}).ok
    gone = aws.account_scan_queue_url.rsplit("/", 1)[0] + "/no-such-queue"
    monkeypatch.setenv("ACCOUNT_SCAN_QUEUE_URL", gone)
    clients.reset()
    refused = acme.post(f"/v1/accounts/{TENANT_ACCOUNT}/scans", headers=JSON)
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "2"
    error = refused.json()["error"]
    assert error["message"] == "the account scan could not be queued: start it again"
    account = acme.get(f"/v1/accounts/{TENANT_ACCOUNT}").json()
    scan = acme.get(f"/v1/scans/{account['last_scan_id']}").json()
    assert (scan["status"], scan["failure"]) == ("failed", "the account scan could not be queued")


def test_the_sweep_fails_a_scan_whose_job_never_finished(keys: dict[str, str], aws: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from chalicelib import account_scans, accounts
    from chalicelib import audit as audits
    from chalicelib.stores import scans
    from chalicelib.stores.backend import stores

    store = stores().accounts

    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    request = accounts.AccountRequest(account_id=TENANT_ACCOUNT, role_arn=ROLE, schedule="30m")
    record = accounts.new_record("acme", request, "key_x", start)
    store.create("acme", record, audits.new_entry("acme", "key_x", "account.register", "x"))
    assert account_scans.sweep(clock=lambda: start) == {"due": 1, "queued": 1}
    lost = store.get("acme", TENANT_ACCOUNT)["last_scan_id"]  # its job is never run

    later = start + timedelta(minutes=30)  # due again, but the first scan is not stale yet
    assert account_scans.sweep(clock=lambda: later) == {"due": 1, "queued": 1}
    assert scans.get("acme", lost)["status"] == "collecting"
    newer = store.get("acme", TENANT_ACCOUNT)["last_scan_id"]

    stale = start + timedelta(minutes=90)
    assert account_scans.sweep(clock=lambda: stale) == {"due": 1, "queued": 1}
    for scan_id in (lost, newer):  # 90 and 60 minutes old
        failed = scans.get("acme", scan_id)
        assert (failed["status"], failed["failure"]) == (
            "failed", "the account scan did not finish: every attempt timed out",
        )  # fmt: skip
    assert store.get("acme", TENANT_ACCOUNT)["last_scan_id"] not in (lost, newer)
    assert store.get("acme", TENANT_ACCOUNT)["status"] == "scan_failed"
