"""Strict JSON for request bodies: no NaN or Infinity, no number that overflows to infinity."""

from __future__ import annotations

import json
import math
from typing import Any


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is out of range")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(raw: bytes | str) -> Any:
    """Parse JSON; raises ValueError (or RecursionError when nested too deep) on bad input."""
    return json.loads(raw, parse_float=_finite, parse_constant=_no_constants)
