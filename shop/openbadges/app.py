"""The app's signing key and document loader, read once per configuration."""

from __future__ import annotations

from flask import Flask

from .contexts import DocumentLoader, pinned_loader
from .keys import SigningKey, load_signing_key

_EXTENSION = "openbadges.signing_key"


def signing_key(app: Flask) -> SigningKey:
    """The key the app's configuration names (SigningKeyError says why when it cannot)."""
    settings = (app.config.get("OB_SIGNING_KEY"), str(app.config.get("OB_SIGNING_KEY_FILE")))
    cached = app.extensions.get(_EXTENSION)
    if cached is not None and cached[0] == settings:
        key: SigningKey = cached[1]
        return key
    key = load_signing_key(app.config)
    app.extensions[_EXTENSION] = (settings, key)
    return key


def loader() -> DocumentLoader:
    return pinned_loader()
