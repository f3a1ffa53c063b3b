"""JUnit report rules (ids `JU-<AREA>-NNN`); each module registers its rules on import."""

from rules.junit import outcomes, stability, suites  # noqa: F401

__all__ = ["outcomes", "stability", "suites"]
