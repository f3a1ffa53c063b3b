"""Registered AWS accounts and their service-side posture scans."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from chalicelib import accounts, audit
from chalicelib.errors import BadRequest, Conflict, NotFound, from_pydantic
from chalicelib.paging import PageQuery, decode_cursor, encode_cursor, parse_query
from chalicelib.stores.backend import stores
from chalicelib.stores.ports import NotWritten
from chalicelib.views.call import Call, Reply

_ACCOUNT_ID = re.compile(accounts.ACCOUNT_ID)


_WHAT = f"the account ({', '.join(accounts.AccountRequest.model_fields)})"
"""How 4xx messages name an account body: with every field it may hold."""


def create_account(call: Call) -> Reply:
    try:
        request = accounts.AccountRequest.model_validate(call.json(_WHAT))
    except ValidationError as exc:
        raise from_pydantic(exc, _WHAT) from None
    record = accounts.new_record(call.tenant_id, request, call.principal.key_id, accounts.now())
    entry = audit.new_entry(
        call.tenant_id,
        call.principal.key_id,
        "account.register",
        request.account_id,
        None,
        accounts.public(record),
    )
    try:
        stores().accounts.create(call.tenant_id, record, entry)
    except NotWritten:
        raise Conflict(
            f"account {request.account_id} is registered in this tenant already: "
            "delete it first to register it again"
        ) from None
    return Reply(accounts.public(record), 201, {"Location": f"/v1/accounts/{request.account_id}"})


def list_accounts(call: Call) -> dict[str, Any]:
    """The tenant's accounts by account id, one page at a time."""
    query = parse_query(PageQuery, call.query)
    after = decode_cursor(query.cursor, "accounts") if query.cursor else None
    if after is not None and not _ACCOUNT_ID.fullmatch(after):
        raise BadRequest("the cursor is not valid: pass next_cursor from the previous page")
    listed, last = stores().accounts.page(call.tenant_id, query.limit, after)
    return {
        "accounts": [accounts.public(a) for a in listed],
        "next_cursor": encode_cursor("accounts", last) if last else None,
    }


def get_account(call: Call, account_id: str) -> dict[str, Any]:
    return accounts.public(_registered(call, account_id))


def delete_account(call: Call, account_id: str) -> Reply:
    before = accounts.public(_registered(call, account_id))
    entry = audit.new_entry(
        call.tenant_id, call.principal.key_id, "account.delete", account_id, before, None
    )
    try:
        stores().accounts.delete(call.tenant_id, account_id, entry)
    except NotWritten:
        raise NotFound(f"no account {account_id[:40]!r} registered in this tenant") from None
    return Reply("", 204)


def scan_account(call: Call, account_id: str) -> Reply:
    from chalicelib.account_scans import start_scan

    record = _registered(call, account_id)
    accepted = start_scan(record, call.principal.key_id, accounts.now(), call.correlation_id)
    return Reply(accepted, 202, {"Location": accepted["status_url"]})


def _registered(call: Call, account_id: str) -> dict[str, Any]:
    known = _ACCOUNT_ID.fullmatch(account_id)
    record = stores().accounts.get(call.tenant_id, account_id) if known else None
    if record is None:
        raise NotFound(f"no account {account_id[:40]!r} registered in this tenant")
    return record
