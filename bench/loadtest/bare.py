"""The framework's ceiling: a bare Flask app with one route returning a small HTML string.

Served by `make shop-bench` with the shop's gunicorn settings: `gunicorn ...
'bench.loadtest.bare:create_app()'`; the shop's pages are measured against it.
"""

from __future__ import annotations

from flask import Flask

PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>Bare</title></head>"
    "<body><h1>Bare Flask</h1><p>One route, no database, no template.</p></body></html>"
)


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/bare")
    def bare() -> str:
        return PAGE

    return app
