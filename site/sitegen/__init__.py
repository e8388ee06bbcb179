"""Static site generator for the CPT program site."""

from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # site/
TEMPLATES = PACKAGE_ROOT / "templates"
STATIC = PACKAGE_ROOT / "static"
DEFAULT_CONTENT = PACKAGE_ROOT.parent / "content"
