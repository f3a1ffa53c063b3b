"""The account-scan worker on the embedded backend: the same handler fed from the SQLite job
queue by the local runner's source, with SQS's redelivery, dead-lettering and a receiver that
dies holding a job; the redrive of its dead letters.

The service's stores are SQLite in a temporary state directory; moto (in-process) stays only
for what is still AWS there (STS for the tenant's role, the scan stream)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.local.sqlite_queues import JobQueueOptions, JobQueueSource, queue_sources
from chalicelib.stores.ports import Job

TENANT_ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{TENANT_ACCOUNT}:role/pipeguard-audit"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def embedded(aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The embedded backend in a fresh state directory; its database file."""
    from chalicelib.config import settings
    from chalicelib.policy import forget_cached
    from chalicelib.stores import backend

    monkeypatch.setenv("PIPEGUARD_BACKEND", "embedded")
    monkeypatch.setenv("PIPEGUARD_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("PIPEGUARD_TENANT_AWS_ENDPOINT_URL", raising=False)
    settings.cache_clear()
    forget_cached()
    backend.reset()
    yield Path(settings().database_path)
    backend.reset()
    settings.cache_clear()


@pytest.fixture
def tenants(embedded: Path) -> None:
    from chalicelib.tenancy import create_tenant

    for tenant in ("acme", "globex"):
        create_tenant(tenant)


def _register(tenant: str, account_id: str = TENANT_ACCOUNT) -> dict[str, Any]:
    from chalicelib import accounts
    from chalicelib import audit as audits
    from chalicelib.stores.backend import stores

    role = f"arn:aws:iam::{account_id}:role/pipeguard-audit"
    request = accounts.AccountRequest(account_id=account_id, role_arn=role)
    record = accounts.new_record(tenant, request, "key_x", datetime.now(UTC))
    stores().accounts.create(tenant, record, audits.new_entry(tenant, "key_x", "register", "x"))
    return record


def _start(tenant: str, account_id: str = TENANT_ACCOUNT) -> str:
    from chalicelib import account_scans
    from chalicelib.stores.backend import stores

    record = stores().accounts.get(tenant, account_id) or _register(tenant, account_id)
    return str(account_scans.start_scan(record, "key_x", datetime.now(UTC))["scan_id"])


def _worker(app_module: Any) -> JobQueueSource:
    [source] = queue_sources(app_module, JobQueueOptions(retry_after=0))
    return source


def _dead_jobs() -> list[Job]:
    """Every job of the dead-letter queue, left there."""
    from chalicelib.stores.backend import stores

    found: list[Job] = []
    while batch := stores().jobs.dead(10, visibility_timeout=600):
        found.extend(batch)
    for job in found:
        stores().jobs.retry_after(job, 0)
    return found


def test_a_failing_job_is_delivered_three_times_then_dead_lettered(
    tenants: None, app_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import account_scans
    from chalicelib.posture import collect
    from chalicelib.stores import scans
    from chalicelib.stores.backend import stores

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("collector bug")

    seen: list[tuple[int, str]] = []
    real_run_job = account_scans.run_job

    def recording(body: str, attempt: int = 1) -> str:
        seen.append((attempt, json.loads(body)["scan_id"]))
        return real_run_job(body, attempt)

    monkeypatch.setattr(collect, "collect", broken)
    monkeypatch.setattr(account_scans, "run_job", recording)
    scan_id = _start("acme")
    worker = _worker(app_module)

    assert [worker.poll() for _ in range(4)] == [1, 1, 1, 0]  # the fourth receive moved it
    assert seen == [(1, scan_id), (2, scan_id), (3, scan_id)]  # ApproximateReceiveCount
    assert (worker.stats.invocations, worker.stats.retries, worker.stats.processed) == (3, 3, 0)
    scan = scans.get("acme", scan_id)
    assert scan["status"] == "failed"
    assert scan["failure"] == "the account scan failed 3 times; the last error: collector bug"
    account = stores().accounts.get("acme", TENANT_ACCOUNT)
    assert (account["status"], account["status_message"]) == ("scan_failed", scan["failure"])
    [dead] = _dead_jobs()
    assert (dead.tenant_id, json.loads(dead.body)["scan_id"]) == ("acme", scan_id)
    assert stores().jobs.receive(10, 0) == []


def test_the_handler_gets_an_sqs_event_and_a_handled_job_is_deleted(embedded: Path) -> None:
    from chalicelib.stores.backend import stores

    events: list[dict[str, Any]] = []
    source = JobQueueSource(
        name="jobs",
        queue=stores().jobs,
        handler=lambda event, context: events.append(event),
        options=JobQueueOptions(),
        context_factory=lambda: None,
    )
    job_id = stores().jobs.send("acme", '{"scan_id": "s1"}')
    assert source.poll() == 1 and source.poll() == 0
    [record] = events[0]["Records"]
    assert (record["messageId"], record["body"], record["eventSource"]) == (
        job_id, '{"scan_id": "s1"}', "aws:sqs",
    )  # fmt: skip
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:000000000000:pipeguard-account-scans"
    assert record["messageAttributes"]["tenant_id"]["stringValue"] == "acme"
    assert record["receiptHandle"].startswith(job_id)
    assert stores().jobs.receive(10, 0) == [] and _dead_jobs() == []


def test_a_job_reported_in_batch_item_failures_is_delivered_again(embedded: Path) -> None:
    from chalicelib.stores.backend import stores

    counts: list[tuple[str, str]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            counts.append((record["body"], record["attributes"]["ApproximateReceiveCount"]))
            if record["body"] == "bad":
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    source = JobQueueSource(
        "jobs", stores().jobs, handler, JobQueueOptions(batch_size=10, retry_after=0), lambda: 0
    )
    stores().jobs.send("acme", "good")
    stores().jobs.send("acme", "bad")
    while source.poll():
        pass
    assert sorted(counts) == [("bad", "1"), ("bad", "2"), ("bad", "3"), ("good", "1")]
    [dead] = _dead_jobs()
    assert dead.body == "bad" and source.stats.processed == 1


CHILD = """
import json, os, signal, sys
from chalicelib.stores.backend import stores
jobs = stores().jobs
jobs.send("acme", '{"from": "the other process"}')
[job] = jobs.receive(1, int(sys.argv[1]))
print(json.dumps({"job_id": job.job_id, "receipt": job.receipt}), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # dies holding the job
"""


def test_a_job_held_by_a_process_killed_with_sigkill_comes_back_after_its_timeout(
    embedded: Path,
) -> None:
    from chalicelib.stores.backend import stores

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, "2"], env=env, capture_output=True, text=True, timeout=60
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    held = json.loads(child.stdout)
    handled: list[dict[str, Any]] = []
    source = JobQueueSource(
        "jobs", stores().jobs, lambda e, c: handled.extend(e["Records"]), JobQueueOptions(), int
    )
    assert source.poll() == 0  # still invisible: its receiver might be working on it
    deadline = time.monotonic() + 10
    while not source.poll():
        assert time.monotonic() < deadline, "the job never came back"
        time.sleep(0.05)
    [record] = handled
    assert record["messageId"] == held["job_id"]
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["body"] == '{"from": "the other process"}'
    assert stores().jobs.receive(10, 0) == [] and _dead_jobs() == []


def test_a_stale_receipt_neither_deletes_nor_releases_the_job(embedded: Path) -> None:
    from dataclasses import replace

    from chalicelib.stores.backend import stores

    jobs = stores().jobs
    jobs.send("acme", "job")
    [first] = jobs.receive(1, 0)  # its timeout ends at once: another receiver takes it
    [second] = jobs.receive(1, 600)
    jobs.delete(first)
    jobs.retry_after(first, 0)
    assert jobs.receive(1, 600) == []  # still held by the second receiver
    jobs.retry_after(second, 0)
    [third] = jobs.receive(1, 600)
    assert third.receive_count == 3 and replace(third, receipt=second.receipt) != third


def test_the_runner_runs_a_job_another_process_queued(embedded: Path, app_module: Any) -> None:
    from chalicelib.local.runner import EventSourceRunner
    from chalicelib.stores.backend import stores

    bodies: list[str] = []
    source = JobQueueSource(
        "jobs",
        stores().jobs,
        lambda e, c: bodies.extend(r["body"] for r in e["Records"]),
        JobQueueOptions(),
        int,
    )
    runner = EventSourceRunner([], queues=[source])  # type: ignore[list-item]
    runner.start()
    try:
        sender = "from chalicelib.stores.backend import stores; stores().jobs.send('acme', 'hi')"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        subprocess.run([sys.executable, "-c", sender], env=env, check=True, timeout=60)
        deadline = time.monotonic() + 10
        while not bodies:
            assert time.monotonic() < deadline, "the runner never ran the job"
            time.sleep(0.02)
    finally:
        runner.stop()
    assert bodies == ["hi"] and stores().jobs.receive(10, 0) == []


def _dead_letter(tenant: str, body: str) -> None:
    """Put a job on the dead-letter queue the way jobs get there: three failed receives."""
    from chalicelib.stores.backend import stores

    jobs = stores().jobs
    jobs.send(tenant, body)
    for _ in range(3):
        [job] = [j for j in jobs.receive(10, 600) if j.body == body]
        jobs.retry_after(job, 0)
    assert jobs.receive(10, 600) == []


def test_redrive_on_the_embedded_backend_scans_the_given_up_account_again(
    tenants: None,
    app_module: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from chalicelib import ops
    from chalicelib.posture import collect
    from chalicelib.stores import scans
    from chalicelib.stores.backend import stores

    real_collect = collect.collect

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("collector bug")

    monkeypatch.setattr(collect, "collect", broken)
    given_up = _start("acme")
    worker = _worker(app_module)
    while worker.poll():
        pass
    [dead] = _dead_jobs()
    assert scans.get("acme", given_up)["status"] == "failed"

    other = "444455556666"
    timed_out = _start("globex", other)  # its every attempt timed out
    [stuck] = stores().jobs.receive(10, 600)
    stores().jobs.delete(stuck)
    _dead_letter("globex", stuck.body)
    _dead_letter("globex", "not a job")
    acme_job = json.loads(dead.body)
    _dead_letter("globex", json.dumps({**acme_job, "scan_id": "forged"}))  # names acme

    monkeypatch.setattr(collect, "collect", real_collect)
    capsys.readouterr()
    assert ops.main(["redrive"]) == 0
    done = json.loads(capsys.readouterr().out.splitlines()[-1])["redrive"]["account_scans"]
    [again, globex_again] = done["rescanned"]  # by tenant, then account
    assert (again["tenant_id"], again["account_id"], again["given_up"]) == (
        "acme", TENANT_ACCOUNT, [given_up],
    )  # fmt: skip
    assert (globex_again["tenant_id"], globex_again["given_up"]) == ("globex", [timed_out])
    assert done["failed"] == [timed_out]  # it was still collecting: failed first
    assert done["skipped"] == []
    assert len(done["left"]) == 2  # the unreadable job and the one naming another tenant
    assert scans.get("globex", timed_out)["failure"].startswith("the account scan did not")
    received = stores().jobs.receive(10, 600)
    queued = {j.tenant_id: json.loads(j.body) for j in received}
    assert set(queued) == {"acme", "globex"}
    assert (queued["acme"]["scan_id"], queued["acme"]["actor"]) == (again["scan_id"], "redrive")
    assert queued["globex"]["scan_id"] == globex_again["scan_id"]
    rows = (
        stores()
        .jobs.database.connection()
        .execute(  # type: ignore[attr-defined]
            "SELECT body FROM jobs WHERE queue = 'pipeguard-account-scans-dead-letters'"
        )
    )  # hidden for the redrive's visibility timeout, not deleted
    assert {body for (body,) in rows} == {
        "not a job",
        json.dumps({**acme_job, "scan_id": "forged"}),
    }

    for job in received:
        stores().jobs.retry_after(job, 0)
    while worker.poll():  # the cause is fixed: the new scan reaches the stream
        pass
    streamed = scans.get("acme", again["scan_id"])
    assert (streamed["status"], streamed["streamed"]) == ("queued", True)
    assert stores().jobs.receive(10, 0) == []


def test_receivers_in_two_threads_get_each_job_once(embedded: Path) -> None:
    import threading

    from chalicelib.stores.backend import stores

    jobs = stores().jobs
    sent = {jobs.send("acme", f"job-{n}") for n in range(200)}
    got: list[list[str]] = [[], []]

    def receive(into: list[str]) -> None:
        while batch := jobs.receive(3, 600):
            into.extend(j.job_id for j in batch)
            for job in batch:
                jobs.delete(job)

    threads = [threading.Thread(target=receive, args=(into,)) for into in got]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(got[0] + got[1]) == sorted(sent)  # every job, none twice
    assert jobs.receive(10, 0) == []
