"""A revocation list a machine can read: W3C Bitstring Status List v1.0.

Each credential holds one index; its bit (counted from the most significant bit of the first
byte) is 1 while it is revoked. The list is GZIP-compressed, then written as multibase
base64url ('u'), inside a `BitstringStatusListCredential` signed like the credentials.
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Iterable
from typing import Any

from .contexts import VC_V2
from .credential import xml_datetime
from .multibase import base64url, from_base64url

PURPOSE = "revocation"
MIN_ENTRIES = 131_072  # the least the specification allows (16 KiB): herd privacy


class StatusListError(ValueError):
    """An encoded list that cannot be read, or an index outside it."""


def encode(revoked: Iterable[int], size: int = MIN_ENTRIES) -> str:
    """The bitstring of `size` entries with the `revoked` indexes set, gzipped, base64url."""
    bits = bytearray(size // 8)
    for index in revoked:
        if not 0 <= index < size:
            raise StatusListError(f"index {index} is outside the list of {size} entries")
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same list always gives the same bytes (and the same signature).
    return base64url(gzip.compress(bytes(bits), mtime=0))


def decode(encoded: str) -> bytes:
    """The bitstring of an `encodedList`."""
    try:
        return gzip.decompress(from_base64url(encoded))
    except (OSError, EOFError, ValueError) as error:
        raise StatusListError(
            f"encodedList is not a gzipped base64url bitstring: {error}"
        ) from None


def is_set(bitstring: bytes, index: int) -> bool:
    if not 0 <= index < len(bitstring) * 8:
        raise StatusListError(f"index {index} is outside the list of {len(bitstring) * 8} entries")
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def entry(list_url: str, index: int) -> dict[str, Any]:
    """The `credentialStatus` of the credential holding `index`."""
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": PURPOSE,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def list_credential(
    list_url: str, issuer_did: str, revoked: Iterable[int], valid_from: dt.datetime
) -> dict[str, Any]:
    """The unsigned `BitstringStatusListCredential` of the `revoked` indexes."""
    return {
        "@context": [VC_V2],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did,
        "validFrom": xml_datetime(valid_from),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": PURPOSE,
            "encodedList": encode(revoked),
        },
    }
