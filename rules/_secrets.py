"""Shared heuristics for names and values that look like credentials."""

from __future__ import annotations

import functools
import re

_TOKEN_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "credential",
        "credentials",
        "apikey",
        "privatekey",
        "accesskey",
        "secretkey",
    }
)
_SECRET_PAIRS = frozenset(
    {
        ("api", "key"),
        ("private", "key"),
        ("access", "key"),
        ("secret", "key"),
        ("license", "key"),
        ("auth", "key"),
        ("client", "secret"),
        ("signing", "key"),
        ("encryption", "key"),
        ("master", "key"),
        ("account", "key"),
        ("auth", "token"),
    }
)
# a name ending like this points at a secret, or describes one, without holding it
_NOT_A_VALUE = frozenset(
    {
        "file",
        "path",
        "dir",
        "name",
        "id",
        "url",
        "version",
        "length",
        "ttl",
        "type",
        "arn",
        "user",
        "username",
        "header",
        "env",
        "policy",
        "rotation",
        "expiry",
        "enabled",
        "prefix",
        "location",
        "ref",
        "param",
        "parameter",
    }
)


def name_tokens(name: str) -> list[str]:
    """`dbPassword_FILE` -> ["db", "password", "file"]."""
    return [part.lower() for part in _TOKEN_SPLIT.split(name) if part]


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """True for names such as DB_PASSWORD, apiKey, AWS_SECRET_ACCESS_KEY, LDAP_ROOTPASS."""
    tokens = name_tokens(name)
    if not tokens or tokens[-1] in _NOT_A_VALUE:
        return False
    for token in tokens:
        if token in _SECRET_WORDS:
            return True
        if token.endswith(("password", "passwd")) or (token.endswith("pass") and token != "bypass"):
            return True
    return any(pair in _SECRET_PAIRS for pair in zip(tokens, tokens[1:], strict=False))


def is_literal_secret_value(value: object) -> bool:
    """A non-empty literal that is not a reference to a value kept elsewhere."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return True
    if not isinstance(value, str):
        return False
    text = value.strip().strip("'\"")
    if not text:
        return False
    return not text.startswith(("$", "{{resolve:"))


_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_AWS_KEY_ID = re.compile(r"(?<![A-Z0-9])AKIA[0-9A-Z]{16}(?![A-Z0-9])")
_ASSIGNMENT = re.compile(
    r"(?:^|[\s;&|(])(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s*(['\"]?)([^\s'\"`;&|]+)\2"
)


def secret_in_text(text: str) -> str | None:
    """What secret a script or configuration text holds in clear, or None.

    A private key block, a long-term AWS access key id, or a literal assigned to a name that
    looks like a credential (`DB_PASSWORD=hunter2`, `api_key: abc`); values taken from a
    variable, a command substitution or a dynamic reference are not literals.
    """
    if _PRIVATE_KEY.search(text):
        return "a private key"
    if _AWS_KEY_ID.search(text):
        return "an AWS access key id"
    for match in _ASSIGNMENT.finditer(text):
        name, value = match.group(1), match.group(3)
        literal = is_literal_secret_value(value) and not value.startswith(("(", "<"))
        if len(value) >= 4 and literal and is_secret_name(name) and "{{resolve:" not in value:
            return f"a value assigned to {name}"
    return None
