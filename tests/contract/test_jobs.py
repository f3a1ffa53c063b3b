"""`JobQueue`: send, receive and delete; a received job hidden for its visibility timeout and
seen again after it (or when its receiver says so), each receive counted; a job received three
times goes to the dead-letter queue; each job keeps its own tenant and body."""

from __future__ import annotations

import time

import pytest

from chalicelib.stores.ports import MAX_JOB_BYTES, Job, Stores


def _receive_all(stores: Stores, visibility: int = 30) -> list[Job]:
    jobs: list[Job] = []
    while batch := stores.jobs.receive(10, visibility):
        jobs.extend(batch)
    return jobs


def _dead_all(stores: Stores) -> list[Job]:
    jobs: list[Job] = []
    while batch := stores.jobs.dead(10, visibility_timeout=30):
        jobs.extend(batch)
    return jobs


def test_a_sent_job_is_received_once_until_it_is_deleted(stores: Stores) -> None:
    job_id = stores.jobs.send("acme", '{"scan_id": "s1"}')
    [job] = stores.jobs.receive(10, 30)
    assert (job.job_id, job.tenant_id, job.body, job.receive_count) == (
        job_id, "acme", '{"scan_id": "s1"}', 1,
    )  # fmt: skip
    assert job.sent_at <= job.first_received_at <= time.time() * 1000 + 1
    assert stores.jobs.receive(10, 30) == []  # hidden while its receiver works on it
    stores.jobs.delete(job)
    assert stores.jobs.receive(10, 0) == [] and _dead_all(stores) == []


def test_a_job_not_deleted_is_received_again_after_its_visibility_timeout(
    stores: Stores,
) -> None:
    stores.jobs.send("acme", "job")
    [first] = stores.jobs.receive(1, 1)
    assert stores.jobs.receive(1, 1) == []
    time.sleep(1.2)
    [again] = stores.jobs.receive(1, 30)
    assert (again.job_id, again.receive_count) == (first.job_id, 2)
    assert again.receipt != first.receipt
    stores.jobs.delete(again)
    assert stores.jobs.receive(1, 0) == []


def test_retry_after_makes_a_received_job_visible_again(stores: Stores) -> None:
    stores.jobs.send("acme", "job")
    [job] = stores.jobs.receive(1, 600)
    stores.jobs.retry_after(job, 0)
    [again] = stores.jobs.receive(1, 600)
    assert (again.job_id, again.receive_count) == (job.job_id, 2)


def test_a_job_received_three_times_goes_to_the_dead_letter_queue(stores: Stores) -> None:
    job_id = stores.jobs.send("acme", '{"n": 1}')
    counts = []
    for _ in range(3):
        [job] = stores.jobs.receive(1, 600)
        counts.append(job.receive_count)
        stores.jobs.retry_after(job, 0)  # its handler failed
    assert counts == [1, 2, 3]
    assert stores.jobs.receive(1, 600) == []  # the fourth receive moved it
    [dead] = stores.jobs.dead(10, visibility_timeout=30)
    assert (dead.job_id, dead.tenant_id, dead.body) == (job_id, "acme", '{"n": 1}')
    assert stores.jobs.dead(10, visibility_timeout=30) == []  # hidden while being redriven
    stores.jobs.delete(dead)
    assert stores.jobs.receive(1, 0) == []
    assert stores.jobs.dead_letter_queue()


def test_each_job_keeps_its_own_tenant_and_body(stores: Stores) -> None:
    sent = {
        stores.jobs.send(tenant, f'{{"tenant_id": "{tenant}", "n": {n}}}'): (tenant, n)
        for n in range(3)
        for tenant in ("acme", "globex")
    }
    received = _receive_all(stores)
    assert len(received) == 6
    for job in received:
        tenant, n = sent[job.job_id]
        assert (job.tenant_id, job.body) == (tenant, f'{{"tenant_id": "{tenant}", "n": {n}}}')
    [globex] = [j for j in received if sent[j.job_id] == ("globex", 0)]
    stores.jobs.delete(globex)
    for job in received:
        if job is not globex:
            stores.jobs.retry_after(job, 0)
    left = {sent[j.job_id] for j in _receive_all(stores)}
    assert left == {(t, n) for t in ("acme", "globex") for n in range(3)} - {("globex", 0)}


def test_a_body_over_the_limit_is_refused_and_nothing_is_queued(stores: Stores) -> None:
    with pytest.raises(ValueError, match=str(MAX_JOB_BYTES)):
        stores.jobs.send("acme", "x" * (MAX_JOB_BYTES + 1))
    assert stores.jobs.receive(10, 0) == []
