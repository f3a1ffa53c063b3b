"""The table of secret-bearing CloudFormation properties is derived from the resource schemas.

`rules/cloudformation/_secret_properties.py` is generated from the CloudFormation resource
provider schemas that cfn-lint ships (us-east-1; the version pinned in requirements-infra.txt,
installed into its own venv): every string property, at any depth, whose
name says it holds a credential (password, secret, token, private or API key...) and that is
not an identifier, a name, an ARN or a reference to where the secret is kept. This test
regenerates the table and compares it with the committed one. Regenerate it with:

    .venv/bin/python -m tests.rules.test_secret_properties
    .venv/bin/ruff format rules/cloudformation/_secret_properties.py
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rules._secrets import name_tokens
from tests.infra_venv import cfnlint_schemas

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "rules" / "cloudformation" / "_secret_properties.py"
HEADER = '''"""CloudFormation properties that hold a credential, by resource type (generated).

Derived from the CloudFormation resource provider schemas shipped with cfn-lint (the version in
requirements-infra.txt); regenerate
with `.venv/bin/python -m tests.rules.test_secret_properties` (then `ruff format` it).
`*` stands for any list item.
"""

SECRET_PROPERTIES: dict[str, tuple[tuple[str, ...], ...]] = '''
# last name tokens that make a property a credential
_SECRET_ENDINGS = (
    ("password",),
    ("passphrase",),
    ("secret",),
    ("secret", "key"),
    ("secret", "access", "key"),
    ("private", "key"),
    ("api", "key"),
    ("api", "key", "value"),
    ("api", "token"),
    ("api", "secret", "key"),
    ("auth", "token"),
    ("auth", "key"),
    ("access", "token"),
    ("refresh", "token"),
    ("oauth", "token"),
    ("jwt", "token"),
    ("token", "key"),
    ("shared", "secret"),
    ("secret", "token"),
    ("app", "secret"),
    ("wallet", "secret"),
    ("access", "key"),
)
# names that end like a credential but are not one
_NOT_SECRETS = frozenset(
    {
        "AuthorizerCredentials",  # an IAM role ARN
        "Credentials",  # API Gateway integration: an IAM role ARN
        "SecretStringTemplate",
        "GenerateSecretString",
        "AccessKey",  # ambiguous alone (an access key id, next to a SecretKey)
    }
)
# containers whose members describe a credential without holding it
_NOT_UNDER = frozenset({"File", "TokenValidityUnits"})
# already covered by a dedicated rule (CF-SM-003)
_COVERED = frozenset({("AWS::SecretsManager::Secret", "SecretString")})


def _schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    base = cfnlint_schemas()
    index = json.loads((base / "providers" / "us-east-1.json").read_text())
    for type_name, digest in sorted(index.items()):
        yield type_name, json.loads((base / "resources" / f"{digest}.json").read_text())


def _is_secret(name: str) -> bool:
    if name in _NOT_SECRETS:
        return False
    tokens = tuple(name_tokens(name))
    return any(tokens[-len(end) :] == end for end in _SECRET_ENDINGS)


def _walk(schema: dict, node: dict, path: tuple[str, ...], seen: frozenset[str]) -> Iterator:
    if len(path) > 8:
        return
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            return
        node = schema.get("definitions", {}).get(ref.rsplit("/", 1)[-1], {})
        seen = seen | {ref}
    if node.get("type") == "array" or "items" in node:
        yield from _walk(schema, node.get("items", {}), (*path, "*"), seen)
        return
    properties = node.get("properties")
    if isinstance(properties, dict):
        for name, child in properties.items():
            yield from _walk(schema, child, (*path, name), seen)
        return
    kind = node.get("type")
    if not path or path[-1] == "*" or kind not in ("string", None) or not _is_secret(path[-1]):
        return
    if _NOT_UNDER.intersection(path) or _names_an_arn(node):
        return
    yield path


def _names_an_arn(node: dict) -> bool:
    """A property documented as the ARN of a secret kept elsewhere (Secrets Manager...)."""
    text = f"{node.get('description', '')} {node.get('pattern', '')}"
    return "ARN" in text or "Amazon Resource Name" in text or "arn:" in text


def derive() -> dict[str, tuple[tuple[str, ...], ...]]:
    table: dict[str, tuple[tuple[str, ...], ...]] = {}
    for type_name, schema in _schemas():
        root = {"properties": schema.get("properties", {})}
        outputs = {p.removeprefix("/properties/") for p in schema.get("readOnlyProperties", [])}
        paths = sorted(
            {
                p
                for p in _walk(schema, root, (), frozenset())
                if (type_name, ".".join(p)) not in _COVERED and "/".join(p) not in outputs
            }
        )
        if paths:
            table[type_name] = tuple(paths)
    return table


def render(table: dict[str, tuple[tuple[str, ...], ...]]) -> str:
    """The module text (`ruff format` then lays it out)."""
    lines = [HEADER + "{"]
    for type_name in sorted(table):
        lines.append(f'    "{type_name}": (')
        for path in table[type_name]:
            items = ", ".join(f'"{p}"' for p in path) + ("," if len(path) == 1 else "")
            if len(items) + 11 <= 100:
                lines.append(f"        ({items}),")
            else:
                lines += ["        ("] + [f'            "{p}",' for p in path] + ["        ),"]
        lines.append("    ),")
    return "\n".join(lines) + "\n}\n"


def test_secret_property_table_is_current() -> None:
    from rules.cloudformation._secret_properties import SECRET_PROPERTIES

    assert derive() == SECRET_PROPERTIES, (
        "rules/cloudformation/_secret_properties.py is stale: run "
        "`.venv/bin/python -m tests.rules.test_secret_properties`"
    )


def test_table_covers_the_well_known_credentials() -> None:
    from rules.cloudformation._secret_properties import SECRET_PROPERTIES

    for type_name, path in [
        ("AWS::RDS::DBInstance", ("MasterUserPassword",)),
        ("AWS::DirectoryService::MicrosoftAD", ("Password",)),
        ("AWS::DMS::Endpoint", ("MongoDbSettings", "Password")),
        ("AWS::AmazonMQ::Broker", ("Users", "*", "Password")),
        ("AWS::Amplify::App", ("AccessToken",)),
        ("AWS::ElastiCache::ReplicationGroup", ("AuthToken",)),
    ]:
        assert path in SECRET_PROPERTIES[type_name], (type_name, path)
    assert ("ClientToken",) not in SECRET_PROPERTIES.get("AWS::EFS::AccessPoint", ())
    assert "AWS::ApiGateway::Method" not in SECRET_PROPERTIES


if __name__ == "__main__":
    TABLE.write_text(render(derive()), encoding="utf-8")
    print(f"wrote {TABLE.relative_to(ROOT)}")
