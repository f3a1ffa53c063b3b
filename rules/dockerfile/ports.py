"""Rules about exposed ports."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import effective, split_words


@rule(
    id="DF-PORT-001",
    artifact_type="dockerfile",
    title="SSH port exposed",
    severity="medium",
    description=(
        "Exposing port 22 means the image runs an SSH server next to its application: one "
        "more network service, with credentials or keys, to attack. Containers are entered "
        "with `docker exec` / `kubectl exec`, not SSH."
    ),
    remediation=(
        "Remove `EXPOSE 22` and the SSH server; use `docker exec -it <container> sh` to debug."
    ),
    references=("https://docs.docker.com/reference/dockerfile/#expose",),
)
def ssh_exposed(df: Dockerfile) -> Iterator[Hit]:
    for ins in effective(df, "EXPOSE"):
        for word in split_words(ins.args):
            port = word.split("/", 1)[0]
            low, _, high = port.partition("-")
            if not low.isdigit():
                continue
            if int(low) == 22 or (high.isdigit() and int(low) <= 22 <= int(high)):
                yield Hit(f"EXPOSE {word} opens the SSH port", line=ins.line)
                break
