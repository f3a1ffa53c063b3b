"""API Gateway's own refusals (the packaged template's Gateway Responses) are the API's JSON
error body whatever the error message holds."""

from __future__ import annotations

import json

from chalicelib.parsers.cloudformation import _load
from tests.conftest import REPO_ROOT

# How API Gateway fills the variables a response template may use: `messageString` is the
# message already quoted as a JSON string ("...").
FILLED = {
    "$context.error.messageString": json.dumps('Invalid request body: "x" at \\ line 1'),
    "$context.error.message": "Invalid request body",
    "$context.error.responseType": "BAD_REQUEST_BODY",
}


def _responses() -> dict[str, dict]:
    template = _load((REPO_ROOT / ".chalice" / "infra.yaml").read_text())
    return template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]


def test_every_gateway_response_is_the_json_error_body() -> None:
    responses = _responses()
    assert {"UNAUTHORIZED", "ACCESS_DENIED", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    for name, response in responses.items():
        text = response["ResponseTemplates"]["application/json"]
        for variable, value in FILLED.items():
            text = text.replace(variable, value)
        body = json.loads(text)  # raises if a filled template is not JSON
        assert set(body["error"]) == {"code", "message", "details"}, name
        assert body["error"]["message"], name


def test_the_default_4xx_response_carries_api_gateways_message() -> None:
    text = _responses()["DEFAULT_4XX"]["ResponseTemplates"]["application/json"]
    for variable, value in FILLED.items():
        text = text.replace(variable, value)
    assert json.loads(text)["error"]["message"] == 'Invalid request body: "x" at \\ line 1'
