"""Tell a failure of the storage itself (disk full, read-only, I/O error) from a bug.

SQLite reports these as result codes (`SQLITE_FULL`, `SQLITE_READONLY`, `SQLITE_IOERR`,
`SQLITE_CANTOPEN`), file writes as `OSError` numbers (`ENOSPC`, `EDQUOT`, `EROFS`, `EIO`). Such a
failure is the operator's to fix and goes away once space or write access returns, so the API
answers it with a 503 (`storage_unavailable`, `Retry-After`) rather than a 500.
"""

from __future__ import annotations

import errno
import sys

from chalicelib.errors import StorageUnavailable

_ERRNOS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the state directory is read-only",
    errno.EIO: "the disk reported an I/O error",
}
# SQLite's primary result codes (the low byte of an extended code).
_SQLITE_CODES = {
    13: "the disk is full",  # SQLITE_FULL
    8: "the state directory is read-only",  # SQLITE_READONLY
    10: "the disk reported an I/O error",  # SQLITE_IOERR
    14: "the database file cannot be opened",  # SQLITE_CANTOPEN
}


def storage_failure(exc: BaseException) -> str | None:
    """What failed, if `exc` (or an exception it was raised from) is a storage failure."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        reason = _reason(current)
        if reason:
            return reason
        current = current.__cause__ or current.__context__
    return None


def _reason(exc: BaseException) -> str | None:
    if isinstance(exc, OSError):
        return _ERRNOS.get(exc.errno or 0)
    sqlite3 = sys.modules.get("sqlite3")  # not imported: no SQLite error can have occurred
    if sqlite3 is not None and isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None:
            return _SQLITE_CODES.get(code & 0xFF)
    return None


def unavailable(reason: str) -> StorageUnavailable:
    """The 503 for a storage failure: nothing of the request was stored."""
    return StorageUnavailable(
        f"the service cannot write its storage ({reason}): nothing of this request was "
        "stored; send it again once the operator has freed space or write access",
        [{"field": "storage", "message": reason}],
    )
