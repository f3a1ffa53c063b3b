"""E-mail on the embedded backend: SMTP when `PIPEGUARD_SMTP_URL` names a server, else each
message as an .eml file (owner-only) in `$PIPEGUARD_HOME/outbox/`.

`PIPEGUARD_SMTP_URL` is `smtp://host[:port][?starttls=true]` (port 25 by default); the
credentials, if the server wants them, are `PIPEGUARD_SMTP_USER` and `PIPEGUARD_SMTP_PASSWORD`,
never part of the URL (it is printed in logs and errors).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from chalicelib.config import settings
from chalicelib.stores.ports import Email

SMTP_TIMEOUT = 30.0
_TRUE = ("1", "true", "yes")


class MailNotSent(RuntimeError):
    """The SMTP server refused the message, or could not be reached."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    starttls: bool


def parse_smtp_url(url: str) -> SmtpServer:
    """The server `PIPEGUARD_SMTP_URL` names; `ValueError` saying what to fix."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    unknown = set(query) - {"starttls"}
    if parts.scheme != "smtp" or not parts.hostname or unknown or parts.path not in ("", "/"):
        raise ValueError(
            "PIPEGUARD_SMTP_URL must be smtp://host[:port][?starttls=true]"
            " (credentials go in PIPEGUARD_SMTP_USER / PIPEGUARD_SMTP_PASSWORD)"
        )
    if parts.username or parts.password:
        raise ValueError(
            "PIPEGUARD_SMTP_URL must not hold credentials: set PIPEGUARD_SMTP_USER and "
            "PIPEGUARD_SMTP_PASSWORD"
        )
    try:
        port = parts.port or 25
    except ValueError:
        raise ValueError("PIPEGUARD_SMTP_URL has an invalid port") from None
    starttls = query.get("starttls", ["false"])[-1].lower() in _TRUE
    return SmtpServer(parts.hostname, port, starttls)


def message_of(email: Email) -> EmailMessage:
    message = EmailMessage()
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=email.sender.rpartition("@")[2] or None)
    message.set_content(email.body)
    return message


class LocalMail:
    """`Mailer` for the embedded backend, in the state directory `home`."""

    def __init__(self, home: str | Path) -> None:
        self.home = Path(home)

    def send(self, email: Email) -> None:
        config = settings()
        message = message_of(email)
        if config.smtp_url:
            _smtp(parse_smtp_url(config.smtp_url), message, config.smtp_user, config.smtp_password)
        else:
            self._write(message)

    def _write(self, message: EmailMessage) -> Path:
        outbox = self.home / "outbox"
        outbox.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = outbox / f"{stamp}-{secrets.token_hex(4)}.eml"
        temporary = outbox / f".{path.name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(message.as_bytes())
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)  # a reader of the outbox never sees half a message
        return path


def _smtp(server: SmtpServer, message: EmailMessage, user: str, password: str) -> None:
    import smtplib

    try:
        with smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT) as smtp:
            if server.starttls:
                import ssl

                smtp.starttls(context=ssl.create_default_context())
            if user:
                smtp.login(user, password)
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailNotSent(
            f"the SMTP server {server.host}:{server.port} did not take the message: {exc}"
        ) from exc
