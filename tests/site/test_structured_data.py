"""schema.org JSON-LD on the module pages and the full certification page (issue 15, item 6):
one `EducationalOccupationalCredential` each, valid JSON-LD by pyld's expansion.

The schema.org context is not in any pinned package and must never be fetched, so the test
expands each block with its `@context` replaced by `{"@vocab": "https://schema.org/"}` (what
the published context amounts to for these terms) and a document loader that refuses every
URL: no network, and a term that did not expand would be dropped, which the test would see.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from shop.domain.program import load_program
from sitegen.build import BuildResult

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = load_program(ROOT / "content" / "program.toml")
S = "https://schema.org/"
SCRIPT = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)
PAGES = {
    **{f"modules/{m.id}/index.html": m.id for m in PROGRAM.modules},
    "credentials/index.html": "full",
}


def no_fetching(url: str, options: Any = None) -> Any:
    raise AssertionError(f"the test must not fetch {url}")


def blocks(page: Path) -> list[dict[str, Any]]:
    return [json.loads(text) for text in SCRIPT.findall(page.read_text(encoding="utf-8"))]


def expanded(document: dict[str, Any]) -> dict[str, Any]:
    assert document["@context"] == "https://schema.org"
    inline = {**document, "@context": {"@vocab": S}}
    (node,) = jsonld.expand(inline, {"documentLoader": no_fetching})
    return node  # type: ignore[no-any-return]


def flattened_keys(node: Any) -> set[str]:
    """Every property of `node` and the nodes in it, after expansion."""
    keys: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            keys.add(key)
            keys |= flattened_keys(value)
    elif isinstance(node, list):
        for value in node:
            keys |= flattened_keys(value)
    return keys


def values(node: dict[str, Any], term: str) -> list[Any]:
    return [v.get("@value", v.get("@id", v)) for v in node.get(S + term, [])]


@pytest.mark.parametrize("path", list(PAGES))
def test_each_credential_page_carries_one_credential_that_expands(
    built_site: BuildResult, path: str
) -> None:
    (document,) = blocks(built_site.out_dir / path)
    node = expanded(document)
    assert node["@type"] == [S + "EducationalOccupationalCredential"]
    keys = flattened_keys(node) - {"@type", "@id", "@value"}
    assert all(key.startswith(S) for key in keys), keys  # nothing dropped or left relative
    assert set(flattened_keys(document)) - {"@context", "@type", "@id"} == {
        key.removeprefix(S) for key in keys
    }
    recognised = [n[S + "name"][0]["@value"] for n in node[S + "recognizedBy"]]
    assert recognised == [
        "National Association of Manufacturers (NAM)",
        "American National Standards Institute (ANSI)",
    ]
    assessments = node[S + "subjectOf"]
    assert all(a["@type"] == [S + "Quiz"] for a in assessments)
    assert all(values(a, "timeRequired") == ["PT90M"] for a in assessments)


@pytest.mark.parametrize("module", PROGRAM.modules, ids=lambda m: m.id)
def test_a_module_credential_requires_its_kwas_and_names_its_assessment(
    built_site: BuildResult, module: Any
) -> None:
    (document,) = blocks(built_site.out_dir / "modules" / module.id / "index.html")
    node = expanded(document)
    assert node["@id"] == f"https://cpt.example.org/modules/{module.id}/"  # the OB achievement
    assert values(node, "credentialCategory") == ["certificate"]
    terms = node[S + "competencyRequired"]
    assert [t[S + "name"][0]["@value"] for t in terms] == [k.title for k in module.kwas]
    assert [t[S + "url"][0]["@value"] for t in terms] == [
        f"https://cpt.example.org/modules/{module.id}/{k.slug}/" for k in module.kwas
    ]
    (assessment,) = node[S + "subjectOf"]
    assert values(assessment, "name") == [f"{module.name} assessment"]
    assert values(assessment, "assesses") == [k.title for k in module.kwas]
    if module.cut_score_percent:
        assert f"passed at {module.cut_score_percent}%" in values(assessment, "description")[0]


def test_full_certification_requires_the_kwas_of_every_required_module(
    built_site: BuildResult,
) -> None:
    (document,) = blocks(built_site.out_dir / "credentials" / "index.html")
    node = expanded(document)
    assert node["@id"] == "https://cpt.example.org/credentials/#full-certification"
    assert values(node, "credentialCategory") == ["certification"]
    required = [k.title for m in PROGRAM.required_modules for k in m.kwas]
    assert [t[S + "name"][0]["@value"] for t in node[S + "competencyRequired"]] == required
    names = [values(a, "name")[0] for a in node[S + "subjectOf"]]
    assert names == [f"{m.name} assessment" for m in PROGRAM.required_modules]
    assert "Green Production assessment" not in names


def test_other_pages_carry_no_credential(built_site: BuildResult) -> None:
    for page in ("index.html", "about/index.html", "modules/index.html", "faq/index.html"):
        assert blocks(built_site.out_dir / page) == [], page


def test_the_json_cannot_close_its_script_element(built_site: BuildResult) -> None:
    for path in PAGES:
        (text,) = SCRIPT.findall((built_site.out_dir / path).read_text(encoding="utf-8"))
        assert "<" not in text and ">" not in text and "&" not in text  # escaped as \\u003c...
