"""The process's stores, on the backend `settings().backend` names (`PIPEGUARD_BACKEND`).

`aws` (the default): DynamoDB through boto3. `embedded`: SQLite at `settings().database_path`
(`PIPEGUARD_HOME`/pipeguard.db). Built on first use, so importing this costs no boto3 or
sqlite3 work; built again when the settings change (tests point them elsewhere).
"""

from __future__ import annotations

import threading

from chalicelib.config import settings
from chalicelib.stores.ports import Stores

BACKENDS = ("aws", "embedded")

_lock = threading.Lock()
_built: dict[tuple[str, str], Stores] = {}


def build(backend: str, database_path: str = "") -> Stores:
    """New adapters of `backend` (one of `BACKENDS`)."""
    if backend == "aws":
        from chalicelib.stores import aws

        return aws.build()
    if backend == "embedded":
        from chalicelib.stores import embedded

        return embedded.build(database_path)
    raise ValueError(
        f"unknown PIPEGUARD_BACKEND {backend!r}: expected one of {', '.join(BACKENDS)}"
    )


def stores() -> Stores:
    """This process's adapters for the configured backend."""
    config = settings()
    backend = config.backend.strip().lower()
    key = (backend, config.database_path if backend == "embedded" else "")
    with _lock:
        built = _built.get(key)
        if built is None:
            built = _built[key] = build(*key)
        return built


def reset() -> None:
    """Forget the built adapters (the next `stores()` builds them again)."""
    with _lock:
        _built.clear()
