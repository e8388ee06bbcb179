"""Fixtures shared by every kind of test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from sitegen.build import BuildResult, build

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"


@pytest.fixture(autouse=True)
def _close_every_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Close every database engine a test opened when it ends.

    A connection left to the garbage collector raises ResourceWarning at some later moment,
    which this suite (warnings are errors) would pin on whichever test happens to run then.
    """
    import shop.db

    opened: list[Engine] = []
    original = shop.db.make_engine

    def tracked(url: str) -> Engine:
        engine = original(url)
        opened.append(engine)
        return engine

    monkeypatch.setattr(shop.db, "make_engine", tracked)
    yield
    for engine in opened:
        engine.dispose()


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A private copy of the real content tree that a test may change."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


@pytest.fixture(scope="session")
def document_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One PDF cache for the session: builds of unchanged documents need not render them again."""
    return tmp_path_factory.mktemp("document-cache")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory, document_cache: Path) -> BuildResult:
    """The real content built once, with its search index, for the tests that only read it."""
    return build(CONTENT, tmp_path_factory.mktemp("site") / "out", cache_dir=document_cache)
