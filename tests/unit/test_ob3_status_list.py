"""The Bitstring Status List: bits counted from the most significant, gzip, base64url."""

from __future__ import annotations

import base64
import gzip

import pytest
from ob3_reference import read_json

from shop.openbadges import status_list
from shop.openbadges.status_list import MIN_ENTRIES, StatusListError, decode, encode, is_set


def independently_decoded(encoded: str) -> bytes:
    assert encoded[0] == "u"
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@pytest.mark.parametrize(
    ("index", "byte", "mask"),
    [(0, 0, 0x80), (7, 0, 0x01), (8, 1, 0x80), (23, 2, 0x01), (MIN_ENTRIES - 1, 16383, 0x01)],
)
def test_an_index_sets_its_bit_counted_from_the_most_significant(
    index: int, byte: int, mask: int
) -> None:
    bits = independently_decoded(encode({index}))
    assert len(bits) * 8 == MIN_ENTRIES
    assert bits[byte] == mask
    assert sum(bin(b).count("1") for b in bits) == 1
    assert is_set(bits, index)
    assert not is_set(bits, index ^ 1)


@pytest.mark.parametrize("index", [-1, MIN_ENTRIES])
def test_an_index_outside_the_list_is_refused(index: int) -> None:
    with pytest.raises(StatusListError, match="outside the list"):
        encode({index})
    with pytest.raises(StatusListError, match="outside the list"):
        is_set(bytes(MIN_ENTRIES // 8), index)


def test_the_same_list_always_encodes_to_the_same_text() -> None:
    assert encode({5, 70_000}) == encode([70_000, 5])


def test_1edtechs_list_decodes_to_index_23_alone_as_our_encoding_of_it() -> None:
    listed = read_json("vectors/1edtech/testlist.json")["credentialSubject"]["encodedList"]
    bits = decode(listed)
    assert [i for i in range(len(bits) * 8) if is_set(bits, i)] == [23]
    assert decode(encode({23}, size=len(bits) * 8)) == bits


@pytest.mark.parametrize(
    "text", ["zabc", "u!!!", "u" + base64.urlsafe_b64encode(b"plain").decode()]
)
def test_an_encoded_list_that_is_not_gzipped_base64url_is_a_clear_error(text: str) -> None:
    with pytest.raises(StatusListError, match="not a gzipped base64url bitstring"):
        decode(text)


def test_an_entry_points_at_its_index_in_the_list() -> None:
    url = "https://shop.example/shop/credentials/status/1"
    assert status_list.entry(url, 77) == {
        "id": f"{url}#77",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "77",
        "statusListCredential": url,
    }
