"""`make run`'s one address for both (shop.devserver.combined): what it answers with which type."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.test import Client

from shop.devserver import combined
from sitegen.app import create_app as create_site


@pytest.fixture
def served(app: Flask) -> Client:
    """The live site and the real shop behind one WSGI app, as `make run` serves them."""
    return Client(combined(create_site({"LIVE_RELOAD": True}), app))


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/blog/feed.xml", "application/atom+xml; charset=utf-8"),
        ("/sitemap.xml", "application/xml; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/shop/signin", "text/html; charset=utf-8"),
    ],
)
def test_make_run_answers_each_file_with_its_type(
    served: Client, path: str, content_type: str
) -> None:
    response = served.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type


def test_make_run_serves_the_issuers_did_document_readable_from_any_origin(
    served: Client,
) -> None:
    """The built site carries /.well-known/did.json; `make run` serves the live site app, which
    has no such page, so the document comes from the shop's own keys, as the build's does."""
    response = served.get("/.well-known/did.json")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = response.get_json()
    assert document["id"].startswith("did:web:")
    assert document["assertionMethod"]
