"""Rules about how old an image and its base are."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.image import Image
from rules.image import _helpers
from rules.image._helpers import OCI_CONFIG, number_param

# Dates before Docker existed are placeholders: reproducible builds write 1970-01-01
# (SOURCE_DATE_EPOCH=0), some tools 0001-01-01. Such an image's age is unknown.
_FIRST_PLAUSIBLE = datetime(2013, 3, 1, tzinfo=UTC)


def base_date(image: Image) -> tuple[datetime, int | None, str] | None:
    """When the image's oldest layer was made (the base's root filesystem), with its line and
    what it is; the image's own creation date when the history says nothing."""
    for step in image.history:
        if step.created is not None and step.created >= _FIRST_PLAUSIBLE:
            line = step.created_line or step.line
            return step.created, line, f"its oldest layer (history entry {step.index + 1})"
    if image.created is not None and image.created >= _FIRST_PLAUSIBLE:
        return image.created, image.created_line, "the image (so its base is at least as old)"
    return None


@rule(
    id="IMG-AGE-001",
    artifact_type="image",
    title="Image built on a base older than the allowed age",
    severity="medium",
    description=(
        "The oldest layer of the image, the base image's root filesystem, was created more "
        "than `max_age_days` days ago (when the metadata has no history, the image's own "
        "creation date is used: its base is at least that old). Distribution packages in a "
        "stale base miss every security fix published since, and rebuilding the application "
        "on top does not bring them in. Images whose dates are placeholders (reproducible "
        "builds write 1970-01-01) cannot be judged and pass."
    ),
    remediation=(
        "Rebuild on a fresh base and keep it fresh: `docker build --pull .`, a base pinned by "
        "digest and bumped by Renovate or Dependabot, and a scheduled rebuild of images that "
        "change rarely. Raise `max_age_days` in the tenant policy (`rule_params`) if the "
        "release cycle needs it."
    ),
    references=(
        OCI_CONFIG,
        "https://docs.docker.com/build/building/best-practices/#rebuild-your-images-often",
    ),
    params={"max_age_days": 180},
)
def old_base(image: Image, params: Mapping[str, Any]) -> Iterator[Hit]:
    limit = number_param(params, "max_age_days", 180)
    found = base_date(image)
    if found is None:
        return
    moment, line, what = found
    age = (_helpers.now() - moment).days
    if age > limit:
        yield Hit(
            f"{what} was created {age} days ago, on {moment.date().isoformat()} "
            f"(the limit is {limit:g} days)",
            line=line,
        )
