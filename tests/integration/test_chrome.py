"""The shop's templates build links through a url_for that remembers what it built."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, render_template_string, url_for

LINKS: list[tuple[str, dict[str, Any]]] = [
    ("home", {}),
    ("modules", {}),
    ("page", {"name": "employers"}),
    ("kwa", {"module_id": "safety", "kwa_slug": "a-kwa"}),
    ("module_document", {"module_id": "all"}),
    ("static", {"filename": "css/site.css"}),
    ("store.catalogue", {}),
    ("signin.start", {"next": None}),
    ("signin.start", {"next": "/shop/cart"}),
    ("verify.credential", {"verify_id": "ABCD-EFGH"}),
]


@pytest.mark.parametrize(("endpoint", "values"), LINKS)
def test_templates_get_the_urls_flask_builds_again_and_again(
    app: Flask, endpoint: str, values: dict[str, Any]
) -> None:
    remembered = app.jinja_env.globals["url_for"]
    with app.test_request_context("/shop/"):
        expected = url_for(endpoint, **values)
        assert remembered(endpoint, **values) == expected  # type: ignore[operator]
        assert remembered(endpoint, **values) == expected  # type: ignore[operator]


def test_a_shop_mounted_under_a_prefix_links_under_that_prefix(app: Flask) -> None:
    remembered = app.jinja_env.globals["url_for"]
    with app.test_request_context("/shop/"):
        assert remembered("modules") == "/modules/"  # type: ignore[operator]
    with app.test_request_context("/shop/", base_url="http://localhost/cpt"):
        assert remembered("modules") == "/cpt/modules/"  # type: ignore[operator]
    with app.test_request_context("/shop/"):
        assert remembered("modules") == "/modules/"  # type: ignore[operator]


def test_external_urls_name_the_host_of_each_request(app: Flask) -> None:
    remembered = app.jinja_env.globals["url_for"]
    for host in ("shop.example", "other.example"):
        with app.test_request_context("/shop/", base_url=f"https://{host}"):
            url = remembered("store.catalogue", _external=True)  # type: ignore[operator]
            assert url == f"https://{host}/shop/"


def test_templates_use_the_remembering_url_for(app: Flask) -> None:
    with app.test_request_context("/shop/"):
        assert render_template_string("{{ url_for('modules') }}") == "/modules/"
    assert app.jinja_env.globals["url_for"] is not url_for
