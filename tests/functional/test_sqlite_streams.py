"""The embedded backend's event sources keep the runner's Lambda semantics on SQLite: the scan
stream and the findings change log, durable checkpoints, trimming, dead letters and redrive."""

from __future__ import annotations

import base64
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.local.runner import SourceOptions
from chalicelib.local.sqlite_streams import SqliteScanSource, stream_sources
from chalicelib.stores.embedded.stream import SCANS, StreamLog
from tests.conftest import ROOT_DOCKERFILE, Api, scan_body
from tests.functional.test_runner import Recorder

REPO = Path(__file__).resolve().parents[2]
ITEMS = [f"r{i}".encode() for i in range(10)]


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The embedded backend in a temporary state directory (no AWS anywhere)."""
    from chalicelib.config import settings
    from chalicelib.policy import forget_cached
    from chalicelib.search.factory import reset_index
    from chalicelib.stores import backend

    environment = {
        "PIPEGUARD_BACKEND": "embedded",
        "PIPEGUARD_HOME": str(tmp_path / "state"),
        "SEARCH_BACKEND": "sqlite",
        "SEARCH_SQLITE_PATH": str(tmp_path / "state" / "search.db"),
        "PIPEGUARD_STREAM_SHARDS": "4",
    }
    for name in ("AWS_ENDPOINT_URL", "ALERT_TOPIC_ARN", "DEAD_LETTER_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    forget_cached()
    backend.reset()
    reset_index()
    yield environment
    backend.reset()
    reset_index()
    settings.cache_clear()


def _database() -> Any:
    from chalicelib.stores.backend import stores

    return stores().stream.database  # type: ignore[attr-defined]


def _source(handler: Any, **options: Any) -> SqliteScanSource:
    source = SqliteScanSource(
        _database(),
        stream_name="pipeguard-scans",
        region="us-east-1",
        name="test",
        arn="arn:aws:kinesis:us-east-1:000000000000:stream/pipeguard-scans",
        handler=handler,
        options=SourceOptions(retry_delay=0.0, **options),
        dead_letter_queue_url=None,
        context_factory=lambda: None,
    )
    source.discover(force=True)
    return source


def _put(items: list[bytes], key: str = "t:p") -> None:
    from chalicelib.stores import stream

    stream.put_records([(key, item) for item in items])


def _drain(*sources: Any, passes: int = 500) -> None:
    idle = 0
    for _ in range(passes):
        moved = sum(source.poll() for source in sources)
        idle = idle + 1 if not moved and not any(s.pending() for s in sources) else 0
        if idle == 2:
            return
    raise AssertionError("the sources did not drain")


def _dead_letters() -> list[dict]:
    rows = (
        _database()
        .connection()
        .execute("SELECT source, condition, attempts, body FROM dead_letters ORDER BY letter_id")
    )
    return [{"source": s, "condition": c, "attempts": a, **json.loads(b)} for s, c, a, b in rows]


def _rows(table: str) -> int:
    return int(_database().connection().execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _data(letter: dict) -> bytes:
    return base64.b64decode(letter["record"]["kinesis"]["data"])


def test_one_keys_records_stay_in_order_in_one_shard(embedded: dict) -> None:
    handler = Recorder()
    source = _source(handler, batch_size=4)
    keys = [f"acme:pipeline-{n}" for n in range(12)]
    for round_ in range(5):
        for key in keys:
            _put([f"{key}#{round_}".encode()], key)
    _drain(source)
    assert len(handler.processed) == 60
    for key in keys:
        mine = [d for d in handler.processed if d.startswith(f"{key}#".encode())]
        assert mine == [f"{key}#{n}".encode() for n in range(5)]
    used = _database().connection().execute("SELECT DISTINCT shard FROM stream_records")
    assert len(source.shards) == 4 and max(handler.batches) <= 4
    assert {shard for (shard,) in used} <= {0, 1, 2, 3}


def test_partial_failure_retries_from_the_failed_record(embedded: dict) -> None:
    handler = Recorder(fail={b"r3"}, times=2)
    source = _source(handler, batch_size=10, max_retries=5)
    _put(ITEMS)
    _drain(source)
    assert handler.processed == ITEMS
    assert source.stats.retries == 2
    assert _dead_letters() == []


def test_handler_error_bisects_down_to_the_poison_record(embedded: dict) -> None:
    handler = Recorder(fail={b"r6"}, report=False)
    source = _source(handler, batch_size=8, max_retries=1)
    _put(ITEMS)
    _drain(source)
    assert handler.processed == [i for i in ITEMS if i != b"r6"]
    assert [_data(d) for d in _dead_letters()] == [b"r6"]
    assert 4 in handler.batches and 1 in handler.batches


def test_retries_then_the_dead_letter_table_and_the_shard_moves_on(embedded: dict) -> None:
    handler = Recorder(fail={b"r5"})
    source = _source(handler, batch_size=10, max_retries=2)
    _put(ITEMS)
    _drain(source)
    assert handler.processed == [i for i in ITEMS if i != b"r5"]
    (letter,) = _dead_letters()
    assert (letter["source"], letter["condition"], letter["attempts"]) == (
        "test",
        "RetryAttemptsExhausted",
        3,
    )
    assert _data(letter) == b"r5"
    assert letter["record"]["kinesis"]["partitionKey"] == "t:p"
    again = _source(handler, batch_size=10)  # the checkpoint passed the dead letter too
    _drain(again)
    assert handler.processed.count(b"r5") == 0 and len(handler.processed) == 9


def test_records_older_than_the_max_age_are_dead_lettered(embedded: dict) -> None:
    handler = Recorder()
    source = _source(handler, batch_size=4, max_record_age=0.0)
    _put(ITEMS[:3])
    time.sleep(0.05)
    _drain(source)
    assert handler.processed == []
    assert [d["condition"] for d in _dead_letters()] == ["RecordAgeExceeded"] * 3


def test_a_new_source_on_the_same_file_resumes_after_the_checkpoint(embedded: dict) -> None:
    first = Recorder()
    _put(ITEMS[:6])
    _drain(_source(first, batch_size=4))
    assert first.processed == ITEMS[:6]
    _put(ITEMS[6:])
    second = Recorder()
    _drain(_source(second, batch_size=4))
    assert second.processed == ITEMS[6:]


def test_consumed_records_are_trimmed_in_bounded_batches(
    embedded: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.stores.embedded import stream

    monkeypatch.setattr(stream, "TRIM_BATCH", 3)
    _put(ITEMS)
    log = StreamLog(_database(), SCANS)
    (shard,) = {
        row[0] for row in _database().connection().execute("SELECT shard FROM stream_records")
    }
    log.position("slow", shard)  # a second consumer that has read nothing yet
    handler = Recorder()
    _drain(_source(handler, batch_size=10))
    assert handler.processed == ITEMS
    assert _rows("stream_records") == 10, "trimmed before every consumer had passed them"
    assert log.checkpoint("slow", shard, 4 + _first_sequence()) == 3  # bounded
    assert _rows("stream_records") == 7
    trimmed = [log.checkpoint("slow", shard, 10**9) for _ in range(4)]
    assert trimmed == [3, 3, 1, 0] and _rows("stream_records") == 0
    _put([b"later"])
    later = Recorder()
    _drain(_source(later))
    assert later.processed == [b"later"], "sequence numbers went back after the trim"


def _first_sequence() -> int:
    row = _database().connection().execute("SELECT min(sequence) FROM stream_records").fetchone()
    return int(row[0]) - 1


def test_two_processes_split_the_shards(embedded: dict) -> None:
    keys = [f"acme:p{n}" for n in range(16)]
    for key in keys:
        _put([key.encode()], key)
    app_module = importlib.import_module("app")
    seen: list[set[bytes]] = []
    for part in ({0, 1}, {2, 3}):
        handler = Recorder()
        evaluate = stream_sources(app_module, part)[0]
        evaluate.handler = handler
        evaluate.discover(force=True)
        assert sorted(evaluate.shards) == [f"shard-{n:04d}" for n in sorted(part)]
        _drain(evaluate)
        seen.append(set(handler.processed))
    assert seen[0].isdisjoint(seen[1])
    assert seen[0] | seen[1] == {k.encode() for k in keys}


_WRITER = """
import sys
from chalicelib.stores import stream
for n in range(int(sys.argv[1])):
    stream.put_records([(f"acme:p{n % 3}", f"{n % 3}:{n}".encode())])
"""


def test_records_written_by_another_process_are_delivered_in_order(embedded: dict) -> None:
    handler = Recorder()
    source = _source(handler, batch_size=7)
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, "150"],
        cwd=REPO,
        env={**os.environ, **embedded},
    )
    deadline = time.monotonic() + 60
    while len(handler.processed) < 150:
        assert time.monotonic() < deadline, "the other process's records did not arrive"
        source.poll()
        time.sleep(0.005)
    assert writer.wait(30) == 0
    for key in range(3):
        mine = [int(d.split(b":")[1]) for d in handler.processed if d.startswith(b"%d:" % key)]
        assert mine == list(range(key, 150, 3))


# The whole flow on the embedded backend --------------------------------------------------------


@pytest.fixture
def api(embedded: dict) -> Iterator[tuple[Api, Any]]:
    """The app behind the real local HTTP server, a tenant's key, and its event sources."""
    from chalicelib.local.server import create_server
    from chalicelib.tenancy import create_tenant

    app_module = importlib.import_module("app")
    server = create_server(app_module.app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Api(server.url, create_tenant("acme")), app_module
    server.stop()


def _submit(api: Api, run_id: str, artifacts: list[dict] | None = None) -> str:
    response = api.post("/v1/scans", json=scan_body(run_id=run_id, artifacts=artifacts))
    assert response.status_code == 202, response.text
    return str(response.json()["scan_id"])


def _indexed(tenant_id: str) -> list[str]:
    from chalicelib.search.factory import get_index
    from chalicelib.search.port import FindingQuery

    return [
        d["finding_id"] for d in get_index().search(tenant_id, FindingQuery(limit=500)).findings
    ]


def _stored(tenant_id: str) -> list[str]:
    from chalicelib.stores.backend import stores

    page, after = stores().findings.page(tenant_id, 1000)
    assert after is None
    return [f["finding_id"] for f in page]


def test_a_scan_goes_through_the_embedded_stream_and_change_log(api: tuple) -> None:
    client, app_module = api
    scan_id = _submit(client, "run-1")
    sources = stream_sources(app_module)
    _drain(*sources)
    scan = client.get(f"/v1/scans/{scan_id}").json()
    assert (scan["status"], scan["verdict"]) == ("complete", "fail")
    found = client.get("/v1/findings", params={"scan_id": scan_id}).json()["findings"]
    assert {"DF-USER-001", "DF-BASE-001"} <= {f["rule_id"] for f in found}
    assert sorted(_indexed("acme")) == sorted(_stored("acme")) != []
    assert sources[1].stats.processed == len(_stored("acme"))  # one INSERT per finding
    assert _rows("stream_records") == _rows("finding_changes") == 0  # trimmed once consumed


def test_a_removed_finding_leaves_the_index_through_the_change_log(api: tuple) -> None:
    client, app_module = api
    _submit(client, "run-1")
    sources = stream_sources(app_module)
    _drain(*sources)
    gone = _stored("acme")[0]
    with _database().write() as conn:
        conn.execute("DELETE FROM findings WHERE finding_id = ?", (gone,))
    _drain(*sources)
    assert gone not in _indexed("acme") and sorted(_indexed("acme")) == sorted(_stored("acme"))


_CRASH = """
import importlib, os, signal
from chalicelib.local import sqlite_streams
def crash(self, shard, record):
    os.kill(os.getpid(), signal.SIGKILL)  # after the handler finished, before the checkpoint
sqlite_streams.SqliteScanSource._checkpoint = crash
evaluate = sqlite_streams.stream_sources(importlib.import_module("app"))[0]
for _ in range(50):
    evaluate.poll()
"""


def test_a_kill_between_handling_and_checkpoint_keeps_nothing_and_replays_once(
    api: tuple, embedded: dict
) -> None:
    client, app_module = api
    artifacts = [
        {"type": "dockerfile", "path": f"svc{n}/Dockerfile", "content": ROOT_DOCKERFILE}
        for n in range(3)
    ]
    scan_id = _submit(client, "run-1", artifacts)
    crashed = subprocess.run(
        [sys.executable, "-c", _CRASH], cwd=REPO, env={**os.environ, **embedded}, timeout=120
    )
    assert crashed.returncode == -signal.SIGKILL
    # The batch's writes and its checkpoint are one transaction: the kill undid them all.
    assert _stored("acme") == [] and _rows("finding_changes") == 0
    assert client.get(f"/v1/scans/{scan_id}").json()["status"] == "queued"
    assert _rows("stream_records") == 3, "the checkpoint moved although the process died"

    sources = stream_sources(app_module)
    _drain(*sources)
    assert sources[0].stats.processed == 3  # the batch was delivered again
    written = sorted(_stored("acme"))
    assert written and sorted(_indexed("acme")) == written
    assert sources[1].stats.processed == len(written)  # each finding's change once
    scan = client.get(f"/v1/scans/{scan_id}").json()
    assert scan["status"] == "complete" and scan["artifacts_done"] == 3
    assert scan["counts"] == _counts(client, scan_id)


def test_a_checkpoint_that_fails_undoes_the_batch_and_reads_it_again(
    embedded: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = _database()
    with database.write() as conn:
        conn.execute("CREATE TABLE handled (data BLOB PRIMARY KEY)")

    def handler(event: dict, context: Any) -> dict:
        with database.write() as conn:
            for record in event["Records"]:
                data = base64.b64decode(record["kinesis"]["data"])
                conn.execute("INSERT INTO handled VALUES (?)", (data,))
        return {"batchItemFailures": []}

    source = _source(handler, batch_size=10)
    _put(ITEMS)
    real = StreamLog.checkpoint
    monkeypatch.setattr(StreamLog, "checkpoint", _fails_once(real))
    with pytest.raises(OSError, match="disk I/O"):
        source.poll()
    assert _rows("handled") == 0 and _rows("stream_records") == 10
    _drain(source)
    assert _rows("handled") == 10 and _rows("stream_records") == 0
    assert _dead_letters() == []  # a record handled twice would have failed its insert


def _fails_once(checkpoint: Any) -> Any:
    calls = []

    def flaky(self: StreamLog, *args: Any) -> int:
        calls.append(args)
        if len(calls) == 1:
            checkpoint(self, *args)  # its writes are part of the batch's transaction
            raise OSError("disk I/O error")
        return checkpoint(self, *args)

    return flaky


def _counts(client: Api, scan_id: str) -> dict[str, int]:
    found = client.get("/v1/findings", params={"scan_id": scan_id, "limit": 500}).json()
    counts = dict.fromkeys(("critical", "high", "medium", "low", "info"), 0)
    for finding in found["findings"]:
        counts[finding["severity"]] += 1
    return counts


def test_redrive_replays_the_embedded_dead_letters(
    api: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import maintenance
    from chalicelib.search.sqlite import SqliteIndex

    client, app_module = api
    real_upsert = SqliteIndex.upsert
    down = {"on": True}

    def failing_upsert(self: Any, tenant_id: str, docs: list) -> None:
        if down["on"]:
            raise ConnectionError("search index unavailable")
        real_upsert(self, tenant_id, docs)

    monkeypatch.setattr(SqliteIndex, "upsert", failing_upsert)
    scan_id = _submit(client, "run-1")
    evaluate, index = stream_sources(app_module)
    evaluate.handler = _failing(evaluate.handler, times=4)
    for source in (evaluate, index):
        source.options.retry_delay = 0.0
    _drain(evaluate, index)
    letters = _dead_letters()
    assert {d["source"] for d in letters} == {"evaluate_artifacts"}
    assert client.get(f"/v1/scans/{scan_id}").json()["status"] == "queued"

    result = maintenance.redrive()  # the scan record goes back on the stream
    assert (result.replayed, result.left) == (1, []) and _dead_letters() == []
    _drain(evaluate, index)
    assert client.get(f"/v1/scans/{scan_id}").json()["status"] == "complete"
    assert _indexed("acme") == []
    assert {d["source"] for d in _dead_letters()} == {"index_findings"}

    down["on"] = False
    result = maintenance.redrive()  # index failures: the index is rebuilt
    assert result.reindexed and result.left == [] and _dead_letters() == []
    assert sorted(_indexed("acme")) == sorted(_stored("acme")) != []


def _failing(handler: Any, times: int) -> Any:
    calls = {"n": 0}

    def handle(event: dict, context: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= times:
            raise RuntimeError("evaluation is down")
        return handler(event, context)

    return handle


def test_the_change_log_is_written_by_any_sqlite_client_in_dynamodb_stream_shapes(
    embedded: dict,
) -> None:
    import sqlite3

    from chalice.app import DynamoDBEvent

    from chalicelib.local.sqlite_streams import SqliteChangeSource

    _database().connection()  # created and migrated
    doc = {"tenant_id": "acme", "finding_id": "fnd_1", "line": 3, "confidence": 0.5}
    plain = sqlite3.connect(embedded["PIPEGUARD_HOME"] + "/pipeguard.db", isolation_level=None)
    plain.execute(
        "INSERT INTO findings (tenant_id, finding_id, doc) VALUES ('acme', 'fnd_1', ?)",
        (json.dumps(doc),),
    )
    plain.execute("UPDATE findings SET doc = doc")  # unchanged: no change record
    plain.execute("DELETE FROM findings")
    plain.close()
    events: list[dict] = []
    source = SqliteChangeSource(
        _database(),
        region="us-east-1",
        name="test",
        arn="arn:aws:dynamodb:us-east-1:000000000000:table/pipeguard-findings/stream/local",
        handler=lambda event, context: events.append(event) or {"batchItemFailures": []},
        options=SourceOptions(),
        dead_letter_queue_url=None,
        context_factory=lambda: None,
    )
    source.discover(force=True)
    _drain(source)
    (event,) = events
    inserted, removed = DynamoDBEvent(event, None)
    assert (inserted.event_name, removed.event_name) == ("INSERT", "REMOVE")
    assert inserted.keys == {"tenant_id": {"S": "acme"}, "finding_id": {"S": "fnd_1"}}
    assert inserted.new_image["line"] == {"N": "3"}
    assert inserted.new_image["confidence"] == {"N": "0.5"}
    assert removed.new_image is None and removed.keys == inserted.keys
    assert int(removed.sequence_number) > int(inserted.sequence_number)
    assert inserted.table_name == "pipeguard-findings"


def test_fewer_shards_keep_the_records_of_the_old_ones_delivered(embedded: dict) -> None:
    from chalicelib.stores.embedded.stream import set_shards, shard_of

    key = next(f"acme:p{n}" for n in range(100) if shard_of(f"acme:p{n}", 4) == 3)
    _put([b"old"], key)
    set_shards(_database(), 2)
    _put([b"new"], key)
    assert StreamLog(_database(), SCANS).shards() == [0, 1, 3]
    placed = _database().connection().execute("SELECT data, shard FROM stream_records")
    assert dict(placed) == {b"old": 3, b"new": shard_of(key, 2)}
    handler = Recorder()
    _drain(_source(handler))
    assert sorted(handler.processed) == [b"new", b"old"]


def test_one_thread_polls_every_shard_in_turn_each_in_order(embedded: dict) -> None:
    from chalicelib.local.runner import EventSourceRunner

    threads: set[str] = set()
    handler = Recorder()

    def recording(event: dict, context: Any) -> dict:
        threads.add(threading.current_thread().name)
        return handler(event, context)

    source = _source(recording, batch_size=3)
    keys = [f"acme:pipeline-{n}" for n in range(12)]
    for round_ in range(4):
        _put([f"extra#{round_}.{n}".encode() for n in range(6)], keys[0])  # a busier shard
        for key in keys:
            _put([f"{key}#{round_}".encode()], key)
    runner = EventSourceRunner([source], idle_sleep=0.01, thread_per_shard=False)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while source.stats.processed < 72 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        runner.stop()
    assert source.stats.processed == 72
    assert threads == {"runner-test"}
    used = {s for (s,) in _database().connection().execute("SELECT shard FROM stream_records")}
    assert len(source.shards) == 4 and used == set()  # all trimmed once consumed
    for key in keys:
        mine = [d for d in handler.processed if d.startswith(f"{key}#".encode())]
        assert mine == [f"{key}#{n}".encode() for n in range(4)]
