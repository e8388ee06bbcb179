"""The JSON-LD contexts a credential may name, served from a pinned package, never fetched.

Canonicalizing a credential resolves every `@context` URL it names. Fetching them at run time
would let whoever serves a context change what a signature covers (and is a way into our
network), so the loader serves only the files the pinned `openbadgeslib` package ships,
each checked against the digest below, and refuses every other URL.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from pyld import jsonld
from pyld.context_resolver import ContextResolver

PACKAGE = "openbadgeslib"
PACKAGE_VERSION = "4.6.3"  # pinned in pyproject.toml: a new version may change a context
FOLDER = "openbadgeslib/ob3/contexts"

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3P0_3_0_3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"


@dataclass(frozen=True)
class PinnedContext:
    file: str
    sha256: str  # of the package's file, as shipped
    # Terms the package's copy adds to the published context, taken out again (see below).
    added_terms: tuple[str, ...] = ()


PINNED: Mapping[str, PinnedContext] = {
    VC_V2: PinnedContext(
        "credentials-v2.json", "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
    ),
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json": PinnedContext(
        "ob-v3p0-context-3.0.1.json",
        "5f3d9dd6288ef437ff8286cf95ffbff609c748a66f24a1e9450c45ca64be1571",
    ),
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": PinnedContext(
        "ob-v3p0-context-3.0.2.json",
        "00666ad080ba407687ed1846b7f5e7495f5019042b202a727de47c48a1755c53",
    ),
    # The package ships the 1EdTech validator's locally extended copy of 3.0.3, which adds
    # two terms the published context lacks. Served as published, so that a credential
    # canonicalizes here exactly as it does for a verifier that fetches the real URL.
    OB_V3P0_3_0_3: PinnedContext(
        "ob-v3p0-context-3.0.3.json",
        "3d34f4d4ef1bce691106e63798beb5e7b862ba841423f5ee1e53ab7ddf3bca84",
        added_terms=("endorsementJwt", "jti"),
    ),
    DATA_INTEGRITY_V2: PinnedContext(
        "security-data-integrity-v2.json",
        "67f21e6e33a6c14e5ccfd2fc7865f7474fb71a04af7e94136cb399dfac8ae8f4",
    ),
    MULTIKEY_V1: PinnedContext(
        "security-multikey-v1.json",
        "ba2c182de2d92f7e47184bcca8fcf0beaee6d3986c527bf664c195bbc7c58597",
    ),
}


class ContextError(ValueError):
    """A context URL we do not serve, or a pinned file that is missing or changed."""


def read_pinned(url: str) -> dict[str, Any]:
    """The context published at `url`, from the installed package, its digest checked."""
    pinned = PINNED.get(url)
    if pinned is None:
        raise ContextError(
            f"unknown JSON-LD context {url!r}: only the pinned contexts are served "
            f"({', '.join(sorted(PINNED))}); none is fetched from the network"
        )
    data = _package_file(pinned.file)
    digest = hashlib.sha256(data).hexdigest()
    if digest != pinned.sha256:
        raise ContextError(
            f"{PACKAGE} {FOLDER}/{pinned.file} has sha256 {digest}, not the pinned "
            f"{pinned.sha256}: check the package version ({PACKAGE_VERSION} is pinned)"
        )
    document: dict[str, Any] = json.loads(data)
    for term in pinned.added_terms:
        del document["@context"][term]
    return document


def _package_file(name: str) -> bytes:
    try:
        distribution = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError:
        raise ContextError(f"the package {PACKAGE}=={PACKAGE_VERSION} is not installed") from None
    if distribution.version != PACKAGE_VERSION:
        raise ContextError(
            f"{PACKAGE} {distribution.version} is installed; {PACKAGE_VERSION} is pinned"
        )
    path = Path(str(distribution.locate_file(f"{FOLDER}/{name}")))
    try:
        return path.read_bytes()
    except OSError as error:
        raise ContextError(f"{PACKAGE} has no {FOLDER}/{name}: {error}") from None


RESOLVED_CONTEXTS_KEPT = 64  # per thread: the pinned ones, and a few inline ones


@dataclass
class DocumentLoader:
    """A pyld document loader over a fixed set of documents: anything else is refused.

    Resolved contexts are kept in this loader's own caches (never pyld's global one, which
    another loader's documents for the same URL could fill): one per thread, as the cache is
    not thread-safe, and bounded, as a document's inline contexts are kept there too.
    """

    documents: Mapping[str, dict[str, Any]]
    _caches: threading.local = field(default_factory=threading.local, repr=False)

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        document = self.documents.get(url)
        if document is None:
            raise ContextError(
                f"unknown JSON-LD context {url!r}: only "
                f"{', '.join(sorted(self.documents))} are served; none is fetched"
            )
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": copy.deepcopy(document),  # pyld may resolve URLs in it in place
            "tag": "static",
        }

    def canonize(self, document: Mapping[str, Any]) -> str:
        """RDFC-1.0 (URDNA2015) canonical N-Quads of `document`, contexts from this loader."""
        options = {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": self,
            "contextResolver": ContextResolver(self._resolved_contexts(), self),
            "base": "",
        }
        try:
            canonical: str = jsonld.normalize(dict(document), options)
        except (jsonld.JsonLdError, ValueError) as error:
            # pyld raises a bare ValueError for some bad IRIs (a relative @context URL).
            raise _jsonld_problem(error) from None
        return canonical

    def _resolved_contexts(self) -> LRUCache[str, Any]:
        cache: LRUCache[str, Any] | None = getattr(self._caches, "cache", None)
        if cache is None:
            cache = self._caches.cache = LRUCache(maxsize=RESOLVED_CONTEXTS_KEPT)
        return cache

    def with_documents(self, extra: Mapping[str, dict[str, Any]]) -> DocumentLoader:
        """A loader serving these documents as well (tests: a vector's example context)."""
        return DocumentLoader({**self.documents, **extra})


def _jsonld_problem(error: BaseException) -> ContextError:
    """Our own refusal if it is the cause, else pyld's innermost message (it wraps each level)."""
    cause: BaseException | None = error
    innermost = error
    while cause is not None:
        if isinstance(cause, ContextError):
            return cause
        innermost = cause
        cause = getattr(cause, "cause", None) or cause.__cause__
    message = innermost.args[0] if innermost.args else type(innermost).__name__
    code = getattr(innermost, "code", None)
    return ContextError(f"not valid JSON-LD: {message}" + (f" ({code})" if code else ""))


def _no_network(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    raise ContextError(
        f"JSON-LD context {url!r} was asked for without a document loader: "
        "nothing is fetched from the network (use pinned_loader())"
    )


# pyld's own default loader fetches URLs with requests: any call that forgets ours fails.
jsonld.set_document_loader(_no_network)

_pinned_loader: DocumentLoader | None = None


def pinned_loader() -> DocumentLoader:
    """The loader of every pinned context (built once: each file is read and checked once)."""
    global _pinned_loader
    if _pinned_loader is None:
        _pinned_loader = DocumentLoader({url: read_pinned(url) for url in PINNED})
    return _pinned_loader
