"""Rule 8: the credentials a candidate holds."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from shop.domain.certification import full_certification_date
from shop.domain.history import History
from shop.domain.program import Program


class CredentialKind(enum.StrEnum):
    MODULE_CERTIFICATE = "module_certificate"
    FULL_CERTIFICATION = "full_certification"


@dataclass(frozen=True, slots=True)
class Credential:
    """A credential the rules say was earned; `revoked_on` is set while staff have it revoked."""

    kind: CredentialKind
    earned_on: date
    module: str | None = None
    revoked_on: date | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_on is not None


def credentials(history: History, program: Program) -> tuple[Credential, ...]:
    """Rule 8: a certificate for every module ever passed, then full certification if achieved.

    A module certificate is dated by the module's first pass and never expires, even when the
    pass no longer counts toward full certification. Modules come in the program's order;
    attempts at module ids the program does not know earn nothing. Each says whether (and
    since when) it is revoked; full certification is achieved only with module certificates
    that are not revoked.
    """
    held = [
        Credential(
            CredentialKind.MODULE_CERTIFICATE,
            passes[0].taken_on,
            module.id,
            history.revoked_on(module.id),
        )
        for module in program.modules
        if (passes := history.passes_of(module.id))
    ]
    certified_on = full_certification_date(history, program)
    if certified_on is not None:
        held.append(
            Credential(
                CredentialKind.FULL_CERTIFICATION,
                certified_on,
                revoked_on=history.full_certification_revoked_on,
            )
        )
    return tuple(held)
