"""The document loader serves the pinned JSON-LD contexts, as published, and nothing else."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from ob3_reference import manifest, reference_context, reference_dir

from shop.openbadges import contexts
from shop.openbadges.contexts import PINNED, ContextError, pinned_loader

# The package ships the 1EdTech validator's copy of 3.0.3 (two extra terms); 3.0.1 differs
# from the published file in whitespace only. Every other file is byte-identical.
BYTE_IDENTICAL = sorted(
    url for url in PINNED if not url.endswith(("context-3.0.3.json", "context-3.0.1.json"))
)


@pytest.mark.parametrize("url", sorted(PINNED))
def test_each_served_context_is_the_published_one_parsed(url: str) -> None:
    served = pinned_loader()(url)["document"]
    assert served == reference_context(url)


@pytest.mark.parametrize("url", BYTE_IDENTICAL)
def test_a_context_shipped_unchanged_has_the_published_sha256(url: str) -> None:
    pinned = PINNED[url]
    assert pinned.sha256 == manifest()[url]["sha256"]
    shipped = contexts._package_file(pinned.file)
    assert hashlib.sha256(shipped).hexdigest() == manifest()[url]["sha256"]


def test_the_reference_files_have_the_digests_their_manifest_gives() -> None:
    for url, entry in manifest().items():
        data = (reference_dir() / "contexts" / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], url


def test_the_packages_3_0_3_adds_exactly_the_two_terms_the_loader_takes_out() -> None:
    shipped = json.loads(contexts._package_file(PINNED[contexts.OB_V3P0_3_0_3].file))
    published = reference_context(contexts.OB_V3P0_3_0_3)
    added = set(shipped["@context"]) - set(published["@context"])
    assert added == {"endorsementJwt", "jti"} == set(PINNED[contexts.OB_V3P0_3_0_3].added_terms)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.w3.org/ns/credentials/examples/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        "https://www.w3.org/ns/credentials/v2/",
        "http://www.w3.org/ns/credentials/v2",
        "file:///etc/passwd",
        "https://evil.example/context.json",
    ],
)
def test_an_unknown_context_url_is_refused_by_name(url: str) -> None:
    with pytest.raises(ContextError, match="unknown JSON-LD context"):
        pinned_loader()(url)


def test_canonicalizing_a_document_naming_an_unknown_context_is_refused_not_fetched() -> None:
    document = {"@context": "https://evil.example/context.json", "name": "x"}
    with pytest.raises(ContextError, match=r"unknown JSON-LD context 'https://evil\.example"):
        pinned_loader().canonize(document)


def test_a_changed_package_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contexts, "_package_file", lambda name: b'{"@context": {}}')
    with pytest.raises(ContextError, match="not the pinned"):
        contexts.read_pinned(contexts.VC_V2)


def test_bad_json_ld_is_a_clear_error() -> None:
    with pytest.raises(ContextError, match=r"not valid JSON-LD: .*@vocab"):
        pinned_loader().canonize({"@context": {"@vocab": 5}, "name": "x"})


def test_inline_contexts_do_not_grow_the_loaders_cache_without_bound() -> None:
    loader = contexts.DocumentLoader({contexts.VC_V2: contexts.read_pinned(contexts.VC_V2)})
    for number in range(200):
        loader.canonize({"@context": {f"t{number}": f"https://example.org/t{number}"}, "a": 1})
    assert len(loader._resolved_contexts()) <= contexts.RESOLVED_CONTEXTS_KEPT


def test_threads_canonicalizing_at_once_agree() -> None:
    document = read_vector_like_document()
    expected = pinned_loader().canonize(document)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: pinned_loader().canonize(document), range(40)))
    assert set(results) == {expected}


def read_vector_like_document() -> dict[str, object]:
    return {
        "@context": [contexts.VC_V2, contexts.OB_V3P0_3_0_3],
        "id": "https://example.org/c/1",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:web:example.org", "type": ["Profile"], "name": "X"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {"id": "https://example.org/a", "type": ["Achievement"], "name": "A"},
        },
    }


def test_pyld_called_without_our_loader_fetches_nothing() -> None:
    from pyld import jsonld

    document = {"@context": "https://www.w3.org/ns/credentials/v2", "name": "x"}
    with pytest.raises(jsonld.JsonLdError) as failed:
        jsonld.normalize(document, {"algorithm": "URDNA2015", "format": "application/n-quads"})
    assert any("nothing is fetched from the network" in cause for cause in _causes(failed.value))


def _causes(error: BaseException) -> list[str]:
    found = []
    while error is not None:
        found.append(str(error))
        error = getattr(error, "cause", None) or error.__cause__  # type: ignore[assignment]
    return found


def test_a_served_context_cannot_be_changed_by_whoever_is_given_it() -> None:
    loader = pinned_loader()
    loader(contexts.VC_V2)["document"]["@context"]["id"] = "changed"
    assert loader(contexts.VC_V2)["document"] == reference_context(contexts.VC_V2)
