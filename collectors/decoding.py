"""Artifact bytes to text, so that no readable file is dropped for its encoding.

- UTF-8 (with or without a byte order mark) is read as it is.
- UTF-16 with a byte order mark (what some Windows editors and shells write) is decoded.
- Anything else is read as UTF-8 where it is valid, and each byte that is not is read as
  Latin-1 (ISO-8859-1): every byte maps to one character, so line numbers stay exact and rules
  that match ASCII text (instructions, keys, image names) match exactly as in UTF-8. A note
  says how many bytes were read that way and where the first one is.
- A file with NUL bytes is binary, not text: `NotText`.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = ["Decoded", "NotText", "decode"]

# surrogateescape turns each invalid byte 0x80-0xFF into U+DC80-U+DCFF; map it to Latin-1
_LATIN1 = {0xDC00 + byte: byte for byte in range(0x80, 0x100)}
_ESCAPED = re.compile("[\udc80-\udcff]")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class NotText(ValueError):
    """The bytes are no text (NUL bytes, or broken UTF-16); the message says why."""


@dataclass(frozen=True)
class Decoded:
    text: str
    note: str | None = None  # set when the Latin-1 fallback was used


def decode(data: bytes) -> Decoded:
    """The text of `data`; raises NotText for binary content."""
    if data.startswith(_UTF16_BOMS) and not data.startswith(codecs.BOM_UTF32_LE):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise NotText("it starts with a UTF-16 byte order mark but is not UTF-16") from None
        if "\x00" in text:
            raise NotText("binary: it contains NUL characters")
        return Decoded(text)
    if b"\x00" in data:
        raise NotText("binary: it contains NUL bytes")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return Decoded(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        first = exc.start
    escaped = data.decode("utf-8", errors="surrogateescape")
    count = len(_ESCAPED.findall(escaped))
    line = data.count(b"\n", 0, first) + 1
    plural = "s" * (count != 1)
    note = (
        f"not valid UTF-8: {count} byte{plural} read as Latin-1 (ISO-8859-1), "
        f"the first on line {line}"
    )
    return Decoded(escaped.translate(_LATIN1), note)
