"""DynamoDB item (de)serialisation shared by the table adapters and the stream handler."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

_serializer: Any = None
_deserializer: Any = None


def _codecs() -> tuple[Any, Any]:
    global _serializer, _deserializer
    if _serializer is None:
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        _serializer, _deserializer = TypeSerializer(), TypeDeserializer()
    return _serializer, _deserializer


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_from_dynamo(v) for v in value]
    return value


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    """Plain Python dict → DynamoDB attribute-value map."""
    ser, _ = _codecs()
    return {k: ser.serialize(_to_dynamo(v)) for k, v in item.items()}


def deserialize(image: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute-value map (an item or a stream image) → plain Python dict."""
    _, de = _codecs()
    return {k: _from_dynamo(de.deserialize(v)) for k, v in image.items()}


def value(v: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB attribute value."""
    ser, _ = _codecs()
    return ser.serialize(_to_dynamo(v))


def is_conditional_failure(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def put_if_absent(table: str, item: dict[str, Any], key_attribute: str) -> bool:
    """Put `item` unless an item with its key exists; False (nothing written) if one does."""
    from chalicelib.stores.clients import client

    try:
        client("dynamodb").put_item(
            TableName=table,
            Item=serialize(item),
            ConditionExpression=f"attribute_not_exists({key_attribute})",
        )
    except Exception as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


def update_if(table: str, key: dict[str, Any], **request: Any) -> dict[str, Any] | None:
    """`update_item` with a condition: the returned attributes (deserialised, maybe empty),
    or None when the condition did not hold (nothing written)."""
    from chalicelib.stores.clients import client

    try:
        response = client("dynamodb").update_item(TableName=table, Key=serialize(key), **request)
    except Exception as exc:
        if is_conditional_failure(exc):
            return None
        raise
    return deserialize(response.get("Attributes") or {})


class ConditionFailed(Exception):
    """A condition of a transaction did not hold: nothing of it was written."""

    def __init__(self, failed: list[int]) -> None:
        super().__init__(f"the condition of transaction item(s) {failed} did not hold")
        self.failed = failed


def put_action(table: str, item: dict[str, Any], condition: str | None = None) -> dict[str, Any]:
    """A `Put` of a transaction (`condition` may name only the item's key attributes)."""
    put: dict[str, Any] = {"TableName": table, "Item": serialize(item)}
    if condition:
        put["ConditionExpression"] = condition
    return {"Put": put}


def update_action(table: str, key: dict[str, Any], **request: Any) -> dict[str, Any]:
    """An `Update` of a transaction: `UpdateExpression`, `ConditionExpression`, and the
    expression names and (serialised) values, as `update_item` takes them."""
    return {"Update": {"TableName": table, "Key": serialize(key), **request}}


_TRANSACTION_ATTEMPTS = 4


def transact(actions: list[dict[str, Any]]) -> None:
    """Write every action or none (DynamoDB TransactWriteItems).

    Raises `ConditionFailed` naming the actions whose condition did not hold; a transaction
    cancelled by a concurrent one on the same items is tried again a few times first.
    """
    import time

    from botocore.exceptions import ClientError

    from chalicelib.stores.clients import client

    for attempt in range(_TRANSACTION_ATTEMPTS):
        try:
            client("dynamodb").transact_write_items(TransactItems=actions)
            return
        except ClientError as exc:
            response = exc.response
            if response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            codes = [r.get("Code", "None") for r in response.get("CancellationReasons") or []]
            failed = [i for i, code in enumerate(codes) if code == "ConditionalCheckFailed"]
            if failed:
                raise ConditionFailed(failed) from None
            if attempt + 1 == _TRANSACTION_ATTEMPTS or "TransactionConflict" not in codes:
                raise
            time.sleep(0.02 * 2**attempt)


def query_items(
    query: dict[str, Any],
    count: int,
    start: dict[str, Any] | None = None,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> list[dict[str, Any]]:
    """Up to `count` items of `query` (deserialized, those `keep` accepts), read page by page
    from the exclusive start key `start`: ask for one more than a page holds to learn whether
    another page follows."""
    from chalicelib.stores.clients import client

    request = dict(query)
    items: list[dict[str, Any]] = []
    while len(items) < count:
        if start:
            request["ExclusiveStartKey"] = serialize(start)
        response = client("dynamodb").query(**request, Limit=count - len(items))
        got = map(deserialize, response["Items"])
        items.extend(got if keep is None else filter(keep, got))
        evaluated = response.get("LastEvaluatedKey")
        if not evaluated:
            break
        start = deserialize(evaluated)
    return items
