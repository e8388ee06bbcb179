"""The issuer's DID document, checked and written into the site at /.well-known/did.json.

The shop makes it from its signing key (`flask --app shop credentials did --out FILE`); the
build only needs that public file, never the key. did:web resolves `did:web:<host>` to
https://<host>/.well-known/did.json, so the document's id must be the site's own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

FILE = ".well-known/did.json"


class DidDocumentError(ValueError):
    """The DID document file cannot be published; the message names the file and the problem."""


def did_web(site_url: str) -> str:
    parts = urlsplit(site_url)
    host = (parts.hostname or "") + (f"%3A{parts.port}" if parts.port else "")
    return f"did:web:{host}"


def did_document_file(path: Path, site_url: str) -> bytes:
    """The bytes to publish for the DID document in `path`, after checking it fits the site."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DidDocumentError(f"{path}: cannot read it ({error.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DidDocumentError(f"{path}: not JSON ({error})") from None
    problems = _problems(document, did_web(site_url))
    if problems:
        raise DidDocumentError(f"{path}: " + "; ".join(problems))
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _problems(document: Any, did: str) -> list[str]:
    if not isinstance(document, dict):
        return ["a DID document is a JSON object"]
    problems = []
    if document.get("id") != did:
        problems.append(f"its id is {document.get('id')!r}, not the site's {did!r}")
    methods = document.get("verificationMethod")
    if not isinstance(methods, list) or not methods:
        problems.append("it lists no verificationMethod")
    else:
        for method in methods:
            if not isinstance(method, dict) or method.get("type") != "Multikey":
                problems.append(f"a verificationMethod is not a Multikey: {method!r:.80}")
            elif not str(method.get("publicKeyMultibase", "")).startswith("z6Mk"):
                problems.append(f"{method.get('id')!r} has no Ed25519 publicKeyMultibase")
    if not document.get("assertionMethod"):
        problems.append("it lists no assertionMethod")
    return problems
