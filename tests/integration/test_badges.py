"""Badge images and baking (issue 15, item 5): the badges we draw, as SVG and PNG; the signed
credential baked into the PNG (OB 3.0 baking: an iTXt chunk `openbadgecredential`), read back
here by a PNG parser of the test's own that checks every CRC; the achievement image pointing at
the badge; and the dashboard's links (baked PNG, JSON, LinkedIn)."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from factories import TEST_SIGNING_KEY, add_attempt, add_candidate, sign_in_as
from flask import Flask
from flask.testing import FlaskClient
from ob3_reference import independently_verified, public_multikey_of_secret
from PIL import Image

from shop import db
from shop.openbadges.baking import NotAPng, bake, unbake
from shop.services import credentials, program
from shop.services.credentials import issue_credentials

NOW = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)
PUBLIC = public_multikey_of_secret(TEST_SIGNING_KEY)
REQUIRED = ("safety", "quality", "processes", "maintenance")
SLUGS = ("safety", "quality", "processes", "maintenance", "green", "full-certification")
SVG = "{http://www.w3.org/2000/svg}"
NAMES = {  # each badge's name, as program.toml gives it (wrapped on the band)
    "safety": "Safety",
    "quality": "Quality Practices & Measurement",
    "processes": "Manufacturing Processes & Production",
    "maintenance": "Maintenance Awareness",
    "green": "Green Production",
    "full-certification": "FULL CERTIFICATION Certified CPT",
}


@pytest.fixture(autouse=True)
def _memory_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)


def issued(app: Flask, modules: tuple[str, ...] = ("safety",)) -> tuple[int, list[str]]:
    with app.app_context(), db.transaction() as session:
        candidate = add_candidate(session, name="Bo Chen", email="bo.chen@example.com")
        for day, module in enumerate(modules, start=1):
            add_attempt(session, candidate, module, dt.date(2025, 3, day), passed=True)
        rows = issue_credentials(session, candidate.id, now=NOW, program=program.current())
        return candidate.id, [row.verify_id for row in rows]


def png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """Every (type, data) of a PNG, read without the shop's code; each CRC must match."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    found, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, data = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + data), f"bad CRC on {kind!r}"
        found.append((kind, data))
        offset += 12 + length
    assert offset == len(png)
    return found


def itxt(data: bytes) -> tuple[str, int, int, str, str, str]:
    """An iTXt chunk's keyword, compression flag and method, language, translated keyword, text."""
    keyword, rest = data.split(b"\x00", 1)
    flag, method, rest = rest[0], rest[1], rest[2:]
    language, rest = rest.split(b"\x00", 1)
    translated, text = rest.split(b"\x00", 1)
    return (
        keyword.decode("latin-1"),
        flag,
        method,
        language.decode(),
        translated.decode(),
        text.decode("utf-8"),
    )


def decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes every pixel: a broken IDAT fails here
    return image


# -- the badges ---------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_each_badge_is_an_svg_naming_its_credential_and_a_png_that_decodes(
    app: Flask, client: FlaskClient, slug: str
) -> None:
    svg = client.get(f"/shop/badges/{slug}.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    root = ET.fromstring(svg.data)
    title = root.find(f"{SVG}title")
    assert title is not None and title.text
    words = " ".join(" ".join(t.text or "" for t in root.iter(f"{SVG}text")).split())
    assert NAMES[slug] in words
    assert "Certified Production Technician" in words
    assert root.find(f"{SVG}image") is None  # drawn, not a copied logo
    png = client.get(f"/shop/badges/{slug}.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.headers["Cache-Control"] == "public, max-age=86400"
    image = decoded(png.data)
    assert image.size == (400, 400)
    colours = image.convert("RGB").getcolors(maxcolors=400 * 400)
    assert colours is not None and len(colours) > 2  # drawn, not blank


def test_each_module_has_a_badge_of_its_own(app: Flask, client: FlaskClient) -> None:
    pngs = {client.get(f"/shop/badges/{slug}.png").data for slug in SLUGS}
    assert len(pngs) == len(SLUGS)


@pytest.mark.parametrize("slug", ["nope", "SAFETY", "..%2Fetc", "safety.png"])
def test_an_unknown_badge_is_a_404(app: Flask, client: FlaskClient, slug: str) -> None:
    assert client.get(f"/shop/badges/{slug}.png").status_code == 404
    assert client.get(f"/shop/badges/{slug}.svg").status_code == 404


def test_the_credentials_achievement_image_is_its_badge(app: Flask, client: FlaskClient) -> None:
    _, ids = issued(app, REQUIRED)
    for verify_id, slug in zip(ids, (*REQUIRED, "full-certification"), strict=True):
        badge = client.get(f"/shop/verify/{verify_id}.json").get_json()
        image = badge["credentialSubject"]["achievement"]["image"]
        assert image["id"] == f"http://localhost/shop/badges/{slug}.png"
        assert client.get(urlsplit(image["id"]).path).mimetype == "image/png"


# -- baking -------------------------------------------------------------------------------------


def test_the_baked_png_holds_the_served_credential_in_one_itxt_chunk(
    app: Flask, client: FlaskClient
) -> None:
    _, (safety,) = issued(app)
    served = client.get(f"/shop/verify/{safety}.json").get_json()
    response = client.get(f"/shop/verify/{safety}.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == f'attachment; filename="cpt-{safety}.png"'
    chunks = png_chunks(response.data)
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    baked = [itxt(data) for kind, data in chunks if kind == b"iTXt"]
    assert len(baked) == 1
    keyword, flag, method, language, translated, text = baked[0]
    assert (keyword, flag, method, language, translated) == ("openbadgecredential", 0, 0, "", "")
    assert json.loads(text) == served
    assert independently_verified(json.loads(text), PUBLIC)
    assert decoded(response.data).size == (400, 400)
    # The badge is the same picture as the unbaked one: only the chunk was added.
    plain = png_chunks(client.get("/shop/badges/safety.png").data)
    assert [c for c in chunks if c[0] != b"iTXt"] == plain


def test_baking_again_replaces_the_credential_and_keeps_other_text_chunks(
    app: Flask, client: FlaskClient
) -> None:
    plain = client.get("/shop/badges/safety.png").data
    comment = struct.pack(">I", 9) + b"tEXt" + b"Title\x00CPT"
    comment += struct.pack(">I", zlib.crc32(b"tEXtTitle\x00CPT"))
    with_comment = plain[:-12] + comment + plain[-12:]
    twice = bake(bake(with_comment, {"first": True}), {"second": "é"})
    kinds = [kind for kind, _ in png_chunks(twice)]
    assert kinds.count(b"iTXt") == 1 and kinds.count(b"tEXt") == 1
    assert unbake(twice) == {"second": "é"}
    assert unbake(plain) is None


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda png: b"GIF89a" + png[6:], "PNG signature"),
        (lambda png: png[:12], "a chunk header is cut short at byte 8"),
        (lambda png: png[:20], "the b'IHDR' chunk at byte 8 runs past the end"),
        (lambda png: png[:20] + bytes([png[20] ^ 1]) + png[21:], "IHDR.* has a wrong CRC"),
    ],
    ids=["not a PNG", "a header cut short", "a chunk cut short", "a byte changed"],
)
def test_a_broken_png_is_refused_with_where_it_breaks(
    app: Flask, client: FlaskClient, damage: Any, message: str
) -> None:
    plain = client.get("/shop/badges/safety.png").data
    with pytest.raises(NotAPng, match=message):
        bake(damage(plain), {})


def test_an_unknown_or_mistyped_id_gets_no_baked_badge(app: Flask, client: FlaskClient) -> None:
    _, (safety,) = issued(app)
    assert client.get("/shop/verify/0000-0000-0000-0000-0.png").status_code in (400, 404)
    assert client.get(f"/shop/verify/{safety.lower().replace('-', '')}.png").status_code == 301


# -- the dashboard ------------------------------------------------------------------------------


def test_the_dashboard_offers_the_baked_png_the_json_and_linkedin(
    app: Flask, client: FlaskClient
) -> None:
    candidate_id, ids = issued(app, REQUIRED)
    sign_in_as(client, candidate_id)
    page = client.get("/shop/account").text
    baked = re.findall(r'<a class="baked-badge" href="([^"]+)" download>', page)
    as_json = re.findall(r'<a class="credential-json" href="([^"]+)" download="([^"]+)">', page)
    assert baked == [f"/shop/verify/{each}.png" for each in ids]
    assert as_json == [(f"/shop/verify/{each}.json", f"cpt-{each}.json") for each in ids]
    for link in baked:
        assert unbake(client.get(link).data) == client.get(link.replace(".png", ".json")).get_json()
    links = re.findall(r'<a class="linkedin-link" href="([^"]+)"', page)
    full = parse_qs(urlsplit(html.unescape(links[-1])).query)
    assert full == {
        "startTask": ["CERTIFICATION_NAME"],
        "name": ["Full CPT certification"],
        "organizationName": ["Certified Production Technician program"],
        "issueYear": ["2025"],
        "issueMonth": ["3"],
        "certUrl": [f"http://localhost/shop/verify/{ids[-1]}"],
        "certId": [ids[-1]],
    }


def test_a_revoked_credential_is_not_offered_for_sharing(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    candidate_id, (safety,) = issued(app)
    with app.app_context(), db.transaction() as session:
        credentials.revoke(session, safety, "Review", clock(), by="registrar")
    sign_in_as(client, candidate_id)
    page = client.get("/shop/account").text
    assert "baked-badge" not in page and "credential-json" not in page
