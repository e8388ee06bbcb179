from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sitegen.app import create_app


@pytest.fixture
def app(content_copy: Path) -> Flask:
    return create_app({"CONTENT_DIR": content_copy, "LIVE_RELOAD": True, "TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
