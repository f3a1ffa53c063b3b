"""Import every rule module of a pack, so adding a module is all it takes to add rules."""

from __future__ import annotations

import importlib
import pkgutil


def import_pack(package: str, path: list[str]) -> list[str]:
    """Import each public module of `package` (those not starting with `_`); returns their names."""
    names = sorted(m.name for m in pkgutil.iter_modules(path) if not m.name.startswith("_"))
    for name in names:
        importlib.import_module(f"{package}.{name}")
    return names
