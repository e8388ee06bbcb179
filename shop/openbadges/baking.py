"""Baking (Open Badges 3.0, section "Baking"): the signed credential inside the badge's PNG, as
an iTXt chunk with the keyword `openbadgecredential`, uncompressed, holding the credential's
JSON. A badge already baked has its old chunk replaced, never two.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"openbadgecredential"


class NotAPng(ValueError):
    """Bytes that are not a PNG, or whose chunks are broken; the message says where."""


def chunks(png: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The (type, data) of each chunk, its length and CRC checked."""
    if not png.startswith(SIGNATURE):
        raise NotAPng("it does not start with the PNG signature")
    offset = len(SIGNATURE)
    while offset < len(png):
        if offset + 8 > len(png):
            raise NotAPng(f"a chunk header is cut short at byte {offset}")
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        end = offset + 8 + length
        if end + 4 > len(png):
            raise NotAPng(f"the {kind!r} chunk at byte {offset} runs past the end")
        data = png[offset + 8 : end]
        (crc,) = struct.unpack(">I", png[end : end + 4])
        if crc != zlib.crc32(kind + data):
            raise NotAPng(f"the {kind!r} chunk at byte {offset} has a wrong CRC")
        yield kind, data
        offset = end + 4


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def credential_chunk(credential: Mapping[str, Any]) -> bytes:
    """The iTXt chunk: keyword, NUL, compression flag 0 and method 0, no language tag and no
    translated keyword (each NUL-terminated), then the JSON as UTF-8."""
    text = json.dumps(credential, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return chunk(b"iTXt", KEYWORD + b"\x00\x00\x00" + b"\x00\x00" + text)


def bake(png: bytes, credential: Mapping[str, Any]) -> bytes:
    """`png` with `credential` baked in, just before IEND (any earlier one taken out)."""
    kept = [
        chunk(kind, data)
        for kind, data in chunks(png)
        if kind != b"IEND" and not (kind == b"iTXt" and data.startswith(KEYWORD + b"\x00"))
    ]
    return SIGNATURE + b"".join(kept) + credential_chunk(credential) + chunk(b"IEND", b"")


def unbake(png: bytes) -> Any | None:
    """The credential baked in `png` (parsed JSON), or None when none is."""
    for kind, data in chunks(png):
        if kind == b"iTXt" and data.startswith(KEYWORD + b"\x00"):
            header = len(KEYWORD) + 3  # NUL, compression flag, compression method
            language_end = data.index(b"\x00", header)
            translated_end = data.index(b"\x00", language_end + 1)
            if data[len(KEYWORD) + 1] != 0:
                return json.loads(zlib.decompress(data[translated_end + 1 :]))
            return json.loads(data[translated_end + 1 :].decode("utf-8"))
    return None
