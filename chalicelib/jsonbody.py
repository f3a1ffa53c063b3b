"""Strict JSON for request bodies: no NaN or Infinity, no number that overflows to infinity,
and no number longer than `MAX_DIGITS` digits."""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DIGITS = 100
"""Digits of one JSON number (no field takes more; DynamoDB keeps 38)."""


class NumberTooLong(ValueError):
    """A JSON number with more than `MAX_DIGITS` digits."""


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _bounded(text: str) -> None:
    if len(text) > MAX_DIGITS and _digits(text) > MAX_DIGITS:
        raise NumberTooLong(
            f"a number has {_digits(text)} digits; numbers are limited to {MAX_DIGITS} digits"
        )


def _integer(text: str) -> int:
    _bounded(text)
    return int(text)


def _finite(text: str) -> float:
    _bounded(text)
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is out of range")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(raw: bytes | str) -> Any:
    """Parse JSON; raises ValueError (`NumberTooLong` for a number beyond `MAX_DIGITS`
    digits), or RecursionError when nested too deep."""
    return json.loads(raw, parse_int=_integer, parse_float=_finite, parse_constant=_no_constants)
