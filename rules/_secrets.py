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
