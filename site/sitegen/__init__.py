"""Static site generator for the CPT program site."""

import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# Installed from a wheel, the templates and static files are inside the package (pyproject.toml
# maps site/templates and site/static there); in a checkout they are beside it, in site/.
PACKAGE_ROOT = _HERE if (_HERE / "templates").is_dir() else _HERE.parent
TEMPLATES = PACKAGE_ROOT / "templates"
STATIC = PACKAGE_ROOT / "static"
# The content: CONTENT_DIR when it is set, else the checkout's content/.
DEFAULT_CONTENT = Path(os.environ.get("CONTENT_DIR") or _HERE.parent.parent / "content")
