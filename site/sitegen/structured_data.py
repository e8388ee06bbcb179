"""schema.org JSON-LD for the module pages and the full certification page (/credentials/).

Each is an `EducationalOccupationalCredential`: its category (a module certificate, or the
certification), the competencies it requires (the module's Key Work Activities, each a
`DefinedTerm` linking to its page), who recognises it (the NAM endorsement and the ANSI
accreditation to ISO/IEC 17024) and the assessment that earns it (a `Quiz`, under `subjectOf`:
schema.org has no property of a credential for the test that awards it). The names come from
program.toml, as the pages' do. Written into the page as <script type="application/ld+json">,
which is data: browsers never run it, so the CSP needs no change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shop.domain.program import Module, Program

SCHEMA_ORG = "https://schema.org"
FULL_CERTIFICATION_ANCHOR = "#full-certification"  # the id its Open Badge achievement has
UrlOf = Callable[..., str]  # flask.url_for: an endpoint and its values to a path

RECOGNISED_BY = [
    {
        "@type": "Organization",
        "name": "National Association of Manufacturers (NAM)",
        "description": "Endorses the certification for the manufacturing workforce.",
    },
    {
        "@type": "Organization",
        "name": "American National Standards Institute (ANSI)",
        "description": "Accredits the certification program to ISO/IEC 17024.",
    },
]


def module_credential(program: Program, module: Module, base: str, url_of: UrlOf) -> dict[str, Any]:
    """The module certificate the module's page describes."""
    page = base + url_of("module", module_id=module.id)
    competencies = [
        {
            "@type": "DefinedTerm",
            "name": kwa.title,
            "url": base + url_of("kwa", module_id=module.id, kwa_slug=kwa.slug),
            "inDefinedTermSet": page,
        }
        for kwa in module.kwas
    ]
    return {
        "@context": SCHEMA_ORG,
        "@type": "EducationalOccupationalCredential",
        "@id": page,
        "url": page,
        "name": f"{program.name}: {module.name} module certificate",
        "description": (
            f"A module certificate of the {program.name} ({program.short_name}) program, "
            f"earned by passing the {module.name} assessment."
        ),
        "credentialCategory": "certificate",
        "competencyRequired": competencies,
        "recognizedBy": RECOGNISED_BY,
        "subjectOf": _assessment(program, module, page, competencies),
    }


def full_certification(program: Program, base: str, url_of: UrlOf) -> dict[str, Any]:
    """Full certification, as the credentials page describes it."""
    page = base + url_of("page", name="credentials")
    required = program.required_modules
    return {
        "@context": SCHEMA_ORG,
        "@type": "EducationalOccupationalCredential",
        "@id": page + FULL_CERTIFICATION_ANCHOR,
        "url": page + FULL_CERTIFICATION_ANCHOR,
        "name": f"Full {program.short_name} certification",
        "description": (
            f"Full certification in the {program.name} ({program.short_name}) program: all "
            f"{len(required)} required modules passed within {program.policy.window_years} "
            "years."
        ),
        "credentialCategory": "certification",
        "competencyRequired": [
            {
                "@type": "DefinedTerm",
                "name": kwa.title,
                "url": base + url_of("kwa", module_id=module.id, kwa_slug=kwa.slug),
                "inDefinedTermSet": base + url_of("module", module_id=module.id),
            }
            for module in required
            for kwa in module.kwas
        ],
        "recognizedBy": RECOGNISED_BY,
        "subjectOf": [
            _assessment(program, module, base + url_of("module", module_id=module.id), [])
            for module in required
        ],
    }


def _assessment(
    program: Program, module: Module, page: str, competencies: list[dict[str, Any]]
) -> dict[str, Any]:
    """The module's assessment: online, multiple choice, timed, pass or fail at a cut score."""
    questions = (
        f"{module.questions} multiple-choice questions"
        if module.questions
        else f"about {program.questions_min} to {program.questions_max} multiple-choice questions"
    )
    cut = f", passed at {module.cut_score_percent}%" if module.cut_score_percent else ""
    node: dict[str, Any] = {
        "@type": "Quiz",
        "name": f"{module.name} assessment",
        "url": page,
        "description": f"Online, {questions} in {program.assessment_minutes} minutes{cut}.",
        "educationalUse": "assessment",
        "timeRequired": f"PT{program.assessment_minutes}M",
    }
    if competencies:
        node["assesses"] = [term["name"] for term in competencies]
    return node
