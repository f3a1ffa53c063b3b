"""Index: apply findings-table stream changes to the search index, per tenant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.search.factory import get_index
from chalicelib.stores import dynamo

NOT_INDEXED = ("artifact_key", "pipeline_key", "version", "history")  # stored, not searched


@dataclass(frozen=True)
class Change:
    """One findings-table change: the new document, or a deletion of `finding_id`."""

    tenant_id: str
    finding_id: str
    document: dict[str, Any] | None


def change_from_stream(event_name: str, keys: dict, new_image: dict | None) -> Change:
    """Build a change from a DynamoDB stream record's raw (typed) images."""
    key = dynamo.deserialize(keys)
    document = dynamo.deserialize(new_image) if event_name != "REMOVE" and new_image else None
    if document is not None:
        for internal in ("artifact_key", "pipeline_key"):
            document.pop(internal, None)
    return Change(key["tenant_id"], key["finding_id"], document)


def apply(changes: Iterable[Change]) -> int:
    """Apply changes in order, batched per tenant; the last change of a finding wins."""
    latest: dict[tuple[str, str], Change] = {}
    for change in changes:
        latest[(change.tenant_id, change.finding_id)] = change
    upserts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    deletes: dict[str, list[str]] = defaultdict(list)
    for change in latest.values():
        if change.document is None:
            deletes[change.tenant_id].append(change.finding_id)
        else:
            doc = {k: v for k, v in change.document.items() if k not in NOT_INDEXED}
            upserts[change.tenant_id].append(doc)
    index = get_index()
    with index.grouped():  # one transaction for every tenant's changes, where the index can
        for tenant_id, docs in upserts.items():
            index.upsert(tenant_id, docs)
        for tenant_id, finding_ids in deletes.items():
            index.delete(tenant_id, finding_ids)
    return len(latest)
