"""Built-in rules, one package per artifact type; importing this registers them all."""

from rules import cloudformation, dockerfile, junit  # noqa: F401 - imported to register

__all__ = ["cloudformation", "dockerfile", "junit"]
