"""Dockerfile rules (ids `DF-<AREA>-NNN`); each module registers its rules on import."""

from rules.dockerfile import add, base, health, ports, process, run, secrets, user  # noqa: F401

__all__ = ["add", "base", "health", "ports", "process", "run", "secrets", "user"]
