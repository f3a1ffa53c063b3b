"""A control of a compliance framework that a rule checks, e.g. `fsbp S3.1`."""

from __future__ import annotations

from dataclasses import dataclass

FRAMEWORK_IDS = ("cis-aws-3.0", "cis-docker-1.6", "fsbp", "nist-800-53-r5", "pci-dss-4.0")
"""The frameworks rules may name (their catalog: `chalicelib.compliance.catalog`)."""


@dataclass(frozen=True, order=True)
class Control:
    """One control of one framework: `Control(framework="cis-aws-3.0", control="5.2")`."""

    framework: str
    control: str

    def __post_init__(self) -> None:
        if self.framework not in FRAMEWORK_IDS:
            raise ValueError(
                f"unknown framework {self.framework!r}: use one of {', '.join(FRAMEWORK_IDS)}"
            )
        if not self.control or " " in self.control:
            raise ValueError(f"control id {self.control!r} must be one word, e.g. 5.2 or S3.1")

    @classmethod
    def parse(cls, text: str) -> Control:
        """`"fsbp S3.1"` → `Control("fsbp", "S3.1")`."""
        framework, _, control = text.strip().partition(" ")
        return cls(framework, control.strip())

    def as_dict(self) -> dict[str, str]:
        return {"framework": self.framework, "control": self.control}
