"""The project installs as a wheel, not only editable: `pip install .` then `flask --app shop db
upgrade` works, with the templates, static files and migrations found inside the installed
packages and the content found through CONTENT_DIR.

The wheel is built from a copy of the sources (pip builds in the tree it is given) and installed
with --no-deps into a venv of its own; that venv reads the dependencies from this venv's
site-packages through a .pth file, so nothing is downloaded beyond the build backend that
`make install` fetches too, and this checkout is on none of its import paths.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from shop.models import Base

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "shop", "site")
# Checked from inside the installed packages: where each looks for its files, and one page each.
PROBE = """
import shop, sitegen
from shop import create_app
from sitegen.app import create_app as create_site
print(shop.__file__)
print(sitegen.TEMPLATES)
print(sitegen.STATIC)
shop_page = create_app({"TESTING": True}).test_client().get("/shop/signin")
site_page = create_site({"TESTING": True}).test_client().get("/")
print(shop_page.status_code, site_page.status_code)
"""


@dataclass(frozen=True)
class Installed:
    wheel: Path
    python: Path
    work: Path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    tree = work / "src"
    tree.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
            shutil.copytree(source, tree / name, ignore=ignore)
        else:
            shutil.copy2(source, tree / name)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work), str(tree)])
    (wheel,) = work.glob("cpt_site_shop-*.whl")
    venv = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    # This venv's packages (the dependencies), after the new venv's own; its .pth files (the
    # editable install of this checkout among them) are not read from there.
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib.strip(), "dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    run([*pip, "install", "-q", "--no-deps", "--no-index", str(wheel)])
    return Installed(wheel, python, work)


def run(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(
        argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=300, check=False
    )
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clean_env(**values: str) -> dict[str, str]:
    """This environment without the shop's settings nor PYTHONPATH, plus `values`."""
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    return {**keep, **values}


def test_the_wheel_carries_the_product_and_its_files_but_not_the_benchmarks(
    installed: Installed,
) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    modules = {str(path.relative_to(ROOT)) for path in (ROOT / "shop").rglob("*.py")} | {
        "sitegen/" + str(path.relative_to(ROOT / "site" / "sitegen"))
        for path in (ROOT / "site" / "sitegen").rglob("*.py")
    }
    missing = sorted(modules - names)  # every module, the migrations' too
    assert missing == [], "add their packages to `packages` in pyproject.toml: " + ", ".join(
        missing
    )
    for data in (
        ROOT / "shop" / "templates",
        ROOT / "shop" / "documents" / "templates",
        ROOT / "shop" / "migrations",
    ):
        files = {str(p.relative_to(ROOT)) for p in data.rglob("*") if p.is_file()}
        assert sorted(f for f in files - names if "__pycache__" not in f) == []
    for folder in ("templates", "static"):
        files = {
            f"sitegen/{folder}/" + str(p.relative_to(ROOT / "site" / folder))
            for p in (ROOT / "site" / folder).rglob("*")
            if p.is_file()
        }
        assert sorted(files - names) == []
    assert [n for n in names if n.startswith("bench/") or "loadtest" in n] == []
    assert [n for n in names if "__pycache__" in n or n.endswith(".pyc")] == []


def test_the_installed_wheel_migrates_a_database(installed: Installed) -> None:
    database = installed.work / "shop.sqlite3"
    env = clean_env(DATABASE_URL=f"sqlite:///{database}", CONTENT_DIR=str(ROOT / "content"))
    flask = [str(installed.python), "-m", "flask", "--app", "shop"]

    run([*flask, "db", "upgrade"], env=env, cwd=installed.work)

    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert set(Base.metadata.tables) | {"alembic_version"} <= tables


def test_the_installed_packages_find_their_templates_and_static_files(
    installed: Installed,
) -> None:
    env = clean_env(
        DATABASE_URL=f"sqlite:///{installed.work / 'probe.sqlite3'}",
        CONTENT_DIR=str(ROOT / "content"),
    )
    shop_file, templates, static, statuses = run(
        [str(installed.python), "-c", PROBE], env=env, cwd=installed.work
    ).splitlines()[-4:]
    venv = installed.python.parent.parent
    for path in (shop_file, templates, static):
        assert Path(path).is_relative_to(venv), path  # the wheel's files, not the checkout's
    assert (Path(templates) / "base.html").is_file()
    assert statuses == "200 200"


def test_outside_a_checkout_the_shop_says_that_content_dir_is_needed(
    installed: Installed,
) -> None:
    env = clean_env(DATABASE_URL=f"sqlite:///{installed.work / 'none.sqlite3'}")
    done = subprocess.run(
        [str(installed.python), "-m", "flask", "--app", "shop", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        cwd=installed.work,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "CONTENT_DIR is not set" in done.stderr
    assert not (installed.work / "none.sqlite3").exists()
