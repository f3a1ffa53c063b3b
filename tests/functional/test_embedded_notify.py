"""The embedded backend's alerts, e-mail and uploads against real servers: a webhook receiver
(http.server), an SMTP server (aiosmtpd) and the local API server with the collector."""

from __future__ import annotations

import base64
import importlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib.stores.ports import Stores
from tests.embedded_backend import fresh_stores, use_embedded

SCAN = {"scan_id": "scn_1", "pipeline": "shop", "run_id": "r1", "commit": "abc"}


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stores]:
    for name in ("PIPEGUARD_SMTP_URL", "PIPEGUARD_ALERT_WEBHOOK", "PIPEGUARD_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    use_embedded(monkeypatch, tmp_path)
    with fresh_stores() as found:
        yield found


# Alerts -------------------------------------------------------------------------------------
class _Webhook(BaseHTTPRequestHandler):
    answers: list[int]
    received: list[dict[str, Any]]

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = self.answers.pop(0) if self.answers else 200
        type(self).received.append({"status": status, "id": self.headers["X-Pipeguard-Alert-Id"],
                                    "body": json.loads(body)})  # fmt: skip
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[_Webhook]]]:
    handler = type("Hook", (_Webhook,), {"answers": [], "received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


def test_alerts_are_kept_once_and_delivered_at_least_once_with_retries(
    embedded: Stores, webhook: tuple[str, Any]
) -> None:
    from chalicelib import alert_webhook, alerts

    url, hook = webhook
    failed = alerts.ScanAlert("acme", SCAN, "fail", {"high": 1})
    alerts.scan_alerts([failed])
    alerts.scan_alerts([failed])  # a retried evaluation alerts again
    outbox: Any = embedded.alerts
    assert len(outbox.recent(10)) == 1

    hook.answers = [503]
    assert alert_webhook.deliver_due(outbox, url, now=1000.0).failed == 1
    (pending,) = outbox.recent(10, pending_only=True)
    assert pending.attempts == 1 and pending.last_error == "HTTP 503"
    assert alert_webhook.deliver_due(outbox, url, now=1000.5).delivered == 0  # not due yet
    assert alert_webhook.deliver_due(outbox, url, now=1000.0 + 3).delivered == 1
    assert outbox.recent(10, pending_only=True) == []
    assert [r["status"] for r in hook.received] == [503, 200]
    body = hook.received[-1]["body"]
    assert hook.received[-1]["id"] == body["alert_id"] == "acme:scn_1:scan.failed"
    assert body["attributes"] == {"tenant_id": "acme", "pipeline": "shop", "severity": "high",
                                  "event": "scan.failed"}  # fmt: skip
    assert body["message"]["verdict"] == "fail"
    assert alert_webhook.deliver_due(outbox, url, now=5000.0).delivered == 0  # delivered once


def test_the_delivery_loop_posts_new_alerts_until_stopped(
    embedded: Stores, webhook: tuple[str, Any]
) -> None:
    import time

    from chalicelib import alert_webhook, alerts

    url, hook = webhook
    stop = threading.Event()
    loop = threading.Thread(
        target=alert_webhook.deliver_forever, args=(embedded.alerts, url, stop, 0.05)
    )
    loop.start()
    try:
        alerts.scan_alert("acme", SCAN, "fail", {"high": 1})
        deadline = time.monotonic() + 10
        while not hook.received and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        loop.join(timeout=5)
    assert not loop.is_alive()
    assert [r["id"] for r in hook.received] == ["acme:scn_1:scan.failed"]


def test_an_unreachable_webhook_keeps_the_alert_pending(embedded: Stores) -> None:
    from chalicelib import alert_webhook, alerts

    alerts.scan_alert("acme", SCAN, "pass", {"critical": 1})
    outbox: Any = embedded.alerts
    outcome = alert_webhook.deliver_due(outbox, "http://127.0.0.1:9/hook", now=0.0, timeout=2)
    assert outcome.failed == 1
    (pending,) = outbox.recent(10, pending_only=True)
    assert pending.last_error and "refused" in pending.last_error.lower()


def test_operators_read_the_outbox(embedded: Stores, capsys: Any, webhook: Any) -> None:
    from chalicelib import alerts, ops

    alerts.scan_alert("acme", SCAN, "fail", {"critical": 1})
    assert ops.main(["alerts", "--pending"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)["alerts"]["alerts"]
    assert listed["tenant_id"] == "acme" and listed["delivered_at"] is None
    assert ops.main(["deliver-alerts", "--url", webhook[0]]) == 0
    assert json.loads(capsys.readouterr().out)["deliver-alerts"] == {"delivered": 1, "failed": 0}
    assert ops.main(["alerts", "--pending"]) == 0
    assert json.loads(capsys.readouterr().out)["alerts"]["alerts"] == []


# E-mail ------------------------------------------------------------------------------------
@pytest.fixture
def smtp_server() -> Iterator[Any]:
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")  # requirements-dev.txt
    from aiosmtpd.handlers import Message
    from aiosmtpd.smtp import AuthResult

    class Inbox(Message):
        def __init__(self) -> None:
            super().__init__()
            self.messages: list[Any] = []

        def handle_message(self, message: Any) -> None:
            self.messages.append(message)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        return AuthResult(success=(auth.login, auth.password) == (b"pipeguard", b"s3cret"))

    import socket

    with socket.socket() as probe:  # the controller checks its own port: it cannot be 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = aiosmtpd.Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
        auth_required=True, auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    controller.inbox = inbox
    yield controller
    controller.stop()


def test_failure_alerts_and_digests_go_to_the_smtp_server(
    embedded: Stores, smtp_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from chalicelib import alerts, notifications
    from chalicelib.config import settings

    monkeypatch.setenv("PIPEGUARD_SMTP_URL", f"smtp://127.0.0.1:{smtp_server.port}")
    monkeypatch.setenv("PIPEGUARD_SMTP_USER", "pipeguard")
    monkeypatch.setenv("PIPEGUARD_SMTP_PASSWORD", "s3cret")
    settings.cache_clear()
    notifications.put("acme", {"emails": ["sec@acme.example"]}, "key_x")
    alerts.scan_alert("acme", SCAN, "fail", {"high": 2})
    (message,) = smtp_server.inbox.messages
    assert message["To"] == "sec@acme.example"
    assert message["Subject"] == "Pipeguard: shop failed policy"
    assert "2 high" in message.get_payload()
    assert not (tmp_path / "state" / "outbox").exists()

    monkeypatch.setenv("PIPEGUARD_SMTP_PASSWORD", "wrong")
    settings.cache_clear()
    from chalicelib.stores.embedded import mail
    from chalicelib.stores.embedded.mail import MailNotSent

    monkeypatch.setattr(mail, "SMTP_TIMEOUT", 3.0)  # aiosmtpd stalls after a refused login

    with pytest.raises(MailNotSent, match="did not take the message"):
        alerts.scan_alert("acme", SCAN, "fail", {"high": 2})  # the evaluation is retried


def test_an_unreachable_smtp_server_fails_the_send(
    embedded: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.config import settings
    from chalicelib.stores.embedded.mail import MailNotSent
    from chalicelib.stores.ports import Email

    monkeypatch.setenv("PIPEGUARD_SMTP_URL", "smtp://127.0.0.1:9")
    settings.cache_clear()
    with pytest.raises(MailNotSent, match="127.0.0.1:9"):
        embedded.mail.send(Email("a@pipeguard.local", ("b@acme.example",), "s", "b"))


@pytest.mark.parametrize(
    "url",
    ["http://mail:25", "smtp://", "smtp://u:p@mail:25", "smtp://mail:25?tls=1", "smtp://mail:x"],
)
def test_smtp_urls_that_are_refused(url: str) -> None:
    from chalicelib.stores.embedded.mail import parse_smtp_url

    with pytest.raises(ValueError, match="PIPEGUARD_SMTP"):
        parse_smtp_url(url)


def test_smtp_url_options() -> None:
    from chalicelib.stores.embedded.mail import SmtpServer, parse_smtp_url

    assert parse_smtp_url("smtp://mail") == SmtpServer("mail", 25, False)
    assert parse_smtp_url("smtp://mail:587?starttls=true") == SmtpServer("mail", 587, True)


# Uploads -----------------------------------------------------------------------------------
@pytest.fixture
def api(embedded: Stores, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from chalicelib.config import settings
    from chalicelib.local.server import create_server
    from chalicelib.tenancy import create_tenant

    monkeypatch.setenv("MAX_UPLOAD_BYTES", str(64 * 1024))
    server = create_server(importlib.import_module("app").app, "127.0.0.1", 0)
    monkeypatch.setenv("PIPEGUARD_PUBLIC_URL", server.url)
    settings.cache_clear()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    keys = {name: create_tenant(name) for name in ("acme", "globex")}
    yield {"url": server.url, "keys": keys, "stores": embedded}
    server.stop()


def _grant(api: dict[str, Any], tenant: str, size: int) -> dict[str, Any]:
    response = requests.post(
        api["url"] + "/v1/uploads", json={"path": "big.json", "size": size},
        headers={"Authorization": f"Bearer {api['keys'][tenant]}"}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()


def _post(grant: dict[str, Any], fields: dict[str, str], data: bytes) -> requests.Response:
    return requests.post(grant["url"], data=fields, files={"file": ("a", data)}, timeout=10)


def test_the_collector_uploads_to_the_local_server_and_the_file_is_read_back(
    api: dict[str, Any],
) -> None:
    from chalicelib import uploads
    from collectors.client import ApiFailure, Client

    data = b"\x00\xff" + b"x" * 40_000  # binary, larger than nothing the API takes inline
    upload_id = Client(api["url"], api["keys"]["acme"]).upload("big.bin", data)
    assert uploads.fetch("acme", upload_id, "artifacts.0.upload_id") == data
    with pytest.raises(ApiFailure) as too_large:
        Client(api["url"], api["keys"]["acme"]).upload("big.bin", b"x" * (64 * 1024 + 1))
    assert too_large.value.status == 413  # the grant refuses it before any upload


def test_an_upload_form_is_used_once_and_only_for_its_key(api: dict[str, Any]) -> None:
    grant = _grant(api, "acme", 10)
    fields = grant["fields"]
    other = _grant(api, "globex", 10)
    stolen = {**fields, "key": other["fields"]["key"]}  # acme's form, globex's key
    refused = _post(grant, stolen, b"FROM evil\n")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"

    # a policy naming globex, signed with acme's signature: the signature does not match
    document = json.loads(base64.urlsafe_b64decode(fields["policy"]))
    forged = base64.urlsafe_b64encode(
        json.dumps({**document, "tenant_id": "globex", "key": other["fields"]["key"]}).encode()
    ).decode()
    assert _post(grant, {**fields, "policy": forged, "key": other["fields"]["key"]},
                 b"FROM evil\n").status_code == 403  # fmt: skip
    assert api["stores"].blobs.size("globex", other["fields"]["key"]) is None

    assert _post(grant, fields, b"FROM ok\n").status_code == 204
    again = _post(grant, fields, b"FROM again\n")
    assert again.status_code == 403 and "used already" in again.json()["error"]["message"]
    assert api["stores"].blobs.get("acme", fields["key"]) == b"FROM ok\n"


def test_upload_forms_that_are_refused(
    api: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.config import settings

    grant = _grant(api, "acme", 10)
    fields = grant["fields"]
    assert _post(grant, fields, b"x" * (64 * 1024 + 1)).status_code == 413
    assert _post(grant, fields, b"").status_code == 400
    no_file = requests.post(grant["url"], files={"key": (None, fields["key"])}, timeout=10)
    assert no_file.status_code == 400
    not_a_form = requests.post(grant["url"], json=fields, timeout=10)
    assert not_a_form.status_code == 415
    assert set(not_a_form.json()["error"]) == {"code", "message", "details"}
    unsigned = _post(grant, {"key": fields["key"]}, b"x")
    assert unsigned.status_code == 400
    assert _post(grant, fields, b"FROM ok\n").status_code == 204  # none of those used it

    monkeypatch.setenv("UPLOAD_EXPIRY_SECONDS", "-1")
    settings.cache_clear()
    expired = _grant(api, "acme", 10)
    response = _post(expired, expired["fields"], b"FROM late\n")
    assert response.status_code == 403 and "expired" in response.json()["error"]["message"]


def test_uploads_need_the_servers_public_url(
    api: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.config import settings

    monkeypatch.delenv("PIPEGUARD_PUBLIC_URL")
    settings.cache_clear()
    response = requests.post(
        api["url"] + "/v1/uploads", json={"path": "big.json", "size": 10},
        headers={"Authorization": f"Bearer {api['keys']['acme']}"}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 503
    assert "PIPEGUARD_PUBLIC_URL" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "data", [b"FROM a\nRUN b\n", b"a\r\nb\r\n", b"x\ry\n\n\n", bytes(range(256)) * 8, b"--x\r\n"]
)
def test_the_form_keeps_the_file_byte_for_byte(data: bytes) -> None:
    from chalicelib.local.upload_receiver import parse_form

    form = requests.Request(
        "POST", "http://127.0.0.1/uploads", data={"key": "k", "policy": "p"},
        files={"file": ("a", data)},
    ).prepare()  # fmt: skip
    assert parse_form(form.headers["Content-Type"], form.body) == (
        {"key": "k", "policy": "p"},
        data,
    )
