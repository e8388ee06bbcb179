"""Every page type renders from content, with its metadata, and policy numbers come from data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

PAGE_TYPES = {
    "home": "/",
    "content page": "/policies/",
    "modules index": "/modules/",
    "module": "/modules/safety/",
    "kwa": "/modules/quality/blueprint-reading/",
    "blog index": "/blog/",
    "post": "/blog/retake-waits-explained/",
    "search": "/search/",
    "not found page": "/404.html",
}


def meta(html: str, attribute: str, name: str) -> str:
    found = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)"', html)
    assert found, f"no meta {attribute}={name}"
    return found.group(1)


@pytest.mark.parametrize("url", PAGE_TYPES.values(), ids=PAGE_TYPES.keys())
def test_every_page_type_renders_with_title_description_canonical_and_open_graph(
    client: FlaskClient, url: str
) -> None:
    response = client.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    title = re.search(r"<title>([^<]+)</title>", html)
    assert title and title.group(1).strip()
    assert meta(html, "name", "description").strip()
    assert f'<link rel="canonical" href="https://cpt.example.org{url}">' in html
    assert meta(html, "property", "og:url") == f"https://cpt.example.org{url}"
    assert meta(html, "property", "og:title").strip()
    assert meta(html, "property", "og:description") == meta(html, "name", "description")
    assert html.count("<h1") == 1


def test_a_module_page_lists_its_kwas_in_order_with_links(client: FlaskClient) -> None:
    html = client.get("/modules/maintenance/").get_data(as_text=True)
    slugs = re.findall(r'href="/modules/maintenance/([a-z-]+)/"', html)
    assert slugs[:4] == [
        "preventive-maintenance",
        "monitor-indicators",
        "housekeeping",
        "recognize-maintenance-issues",
    ]
    assert 'href="/documents/kwa-maintenance.pdf"' in html


def test_the_green_module_says_its_kwa_list_is_a_summary(client: FlaskClient) -> None:
    html = client.get("/modules/green/").get_data(as_text=True)
    assert "our summary" in html
    assert "not part of full certification" in html


def test_an_unknown_page_gets_the_404_page_with_status_404(client: FlaskClient) -> None:
    response = client.get("/modules/welding/")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("old", "new", "url", "shown"),
    [
        (
            "retake_waits_days = [15, 15, 60]",
            "retake_waits_days = [10, 20, 45]",
            "/policies/",
            ["20 calendar days", "45 calendar days"],
        ),
        ("window_years = 2", "window_years = 3", "/policies/", ["3 calendar years"]),
        ("price_cents = 6000", "price_cents = 7500", "/assessments/", ["$75.00"]),
        ("price_cents = 800", "price_cents = 950", "/credentials/", ["$9.50"]),
    ],
    ids=["retake-waits", "window", "assessment-fee", "small-patch-price"],
)
def test_policy_pages_render_their_numbers_from_the_program_file(
    client: FlaskClient, content_copy: Path, old: str, new: str, url: str, shown: list[str]
) -> None:
    program = content_copy / "program.toml"
    program.write_text(program.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    html = client.get(url).get_data(as_text=True)
    for text in shown:
        assert text in html


def test_the_policies_page_states_what_a_revoked_credential_means(client: FlaskClient) -> None:
    html = client.get("/policies/").get_data(as_text=True)
    words = " ".join(re.sub(r"<[^>]+>", "", html).split())
    assert '<h2 id="revoked-credentials">Revoked credentials</h2>' in html
    for rule in (
        "its passes no longer count toward full certification",
        "the shop does not sell that module's assessment fee, and it gives no date",
        "Reinstating a credential gives everything back at once",
        "the payment is refunded in full",
    ):
        assert rule in words


def test_an_edited_markdown_file_shows_on_the_next_request(
    client: FlaskClient, content_copy: Path
) -> None:
    assert "A sentence added while the server runs." not in client.get("/faq/").get_data(True)
    faq = content_copy / "faq.md"
    faq.write_text(faq.read_text() + "\nA sentence added while the server runs.\n")
    assert "A sentence added while the server runs." in client.get("/faq/").get_data(True)


@pytest.mark.parametrize(
    ("markdown", "forbidden"),
    [
        ("<script>alert('x')</script>", "<script>alert"),
        ('<img src="x.png" onerror="alert(1)">', "onerror"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<iframe src="https://evil.example/"></iframe>', "<iframe"),
        ("<style>body{display:none}</style>", "<style>"),
    ],
    ids=["script", "event-handler", "javascript-url", "iframe", "style"],
)
def test_raw_html_in_content_cannot_inject_code(
    client: FlaskClient, content_copy: Path, markdown: str, forbidden: str
) -> None:
    about = content_copy / "about.md"
    about.write_text(about.read_text() + f"\n{markdown}\n\nAfter the raw HTML.\n")
    html = client.get("/about/").get_data(as_text=True)
    assert "After the raw HTML." in html
    body = html.split('<div class="prose">', 1)[1]
    assert forbidden not in body
