"""A tenant's settings: notifications."""

from __future__ import annotations

from typing import Any

from chalicelib.views.call import Call


def get_notifications(call: Call) -> dict[str, Any]:
    from chalicelib import notifications

    return notifications.get(call.tenant_id).model_dump(mode="json")


def put_notifications(call: Call) -> dict[str, Any]:
    from chalicelib import notifications

    document = call.json("the notification settings")
    chosen = notifications.put(call.tenant_id, document, call.principal.key_id)
    return chosen.model_dump(mode="json")
