"""Multibase text (base58btc 'z', base64url 'u') and Ed25519 Multikey values."""

from __future__ import annotations

import base64

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {char: value for value, char in enumerate(BASE58_ALPHABET)}
# Multicodec prefixes (unsigned varints) of Ed25519 keys, as Multikey writes them.
ED25519_PUBLIC = b"\xed\x01"
ED25519_PRIVATE = b"\x80\x26"
ED25519_KEY_LENGTH = 32


class MultibaseError(ValueError):
    """Text that is not the multibase value expected; the message says what is wrong."""


def base58btc(data: bytes) -> str:
    """`data` in multibase base58btc: 'z', then Bitcoin's base58 (leading zero bytes as '1')."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(BASE58_ALPHABET[digit])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "z" + "1" * zeros + "".join(reversed(digits))


def from_base58btc(text: str) -> bytes:
    if not text.startswith("z"):
        raise MultibaseError(f"not multibase base58btc (it starts with 'z'): {text[:12]!r}")
    body = text[1:]
    number = 0
    for char in body:
        value = _BASE58_INDEX.get(char)
        if value is None:
            raise MultibaseError(f"{char!r} is not a base58 character")
        number = number * 58 + value
    zeros = len(body) - len(body.lstrip("1"))
    length = (number.bit_length() + 7) // 8
    return b"\0" * zeros + number.to_bytes(length, "big")


def base64url(data: bytes) -> str:
    """`data` in multibase base64url without padding: 'u', then RFC 4648's URL alphabet."""
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_base64url(text: str) -> bytes:
    if not text.startswith("u"):
        raise MultibaseError(f"not multibase base64url (it starts with 'u'): {text[:12]!r}")
    body = text[1:]
    try:
        padded = (body + "=" * (-len(body) % 4)).encode("ascii")
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    except ValueError as error:  # UnicodeEncodeError too: a character that is not ASCII
        raise MultibaseError(f"not base64url: {error}") from None


def public_multikey(raw: bytes) -> str:
    """An Ed25519 public key as a Multikey `publicKeyMultibase` ('z6Mk...')."""
    return base58btc(ED25519_PUBLIC + _key_bytes(raw))


def private_multikey(raw: bytes) -> str:
    """An Ed25519 private key (its 32-byte seed) as a Multikey `secretKeyMultibase`."""
    return base58btc(ED25519_PRIVATE + _key_bytes(raw))


def from_public_multikey(text: str) -> bytes:
    return _unprefixed(text, ED25519_PUBLIC, "an Ed25519 public Multikey")


def from_private_multikey(text: str) -> bytes:
    return _unprefixed(text, ED25519_PRIVATE, "an Ed25519 private Multikey")


def _unprefixed(text: str, prefix: bytes, what: str) -> bytes:
    data = from_base58btc(text.strip())
    if not data.startswith(prefix) or len(data) != len(prefix) + ED25519_KEY_LENGTH:
        raise MultibaseError(f"not {what} (multicodec 0x{prefix.hex()} and 32 bytes)")
    return data[len(prefix) :]


def _key_bytes(raw: bytes) -> bytes:
    if len(raw) != ED25519_KEY_LENGTH:
        raise MultibaseError(f"an Ed25519 key has 32 bytes, not {len(raw)}")
    return raw
