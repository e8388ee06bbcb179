"""Credentials: issuing them, finding them by verify id, and staff revoking, reinstating and
reissuing them (each with a reason, kept in the credential's history).

Issuing: each credential the rules say a candidate holds gets a row and a verify id. The staff
actions take the session and the time; none commits: the caller (a page or a command) owns the
transaction. Problems a person can fix are raised as `CredentialError`, a ValueError whose
message is shown as it is.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable

from sqlalchemy import Select, String, func, or_, select
from sqlalchemy.orm import Session, joinedload

from shop.domain import names as name_rules
from shop.domain import verify_id
from shop.domain.credentials import CredentialKind, credentials
from shop.domain.program import Program
from shop.models import Candidate, Credential, CredentialEvent

from .history import history_of

RandomBits = Callable[[int], int]
STATUS_LIST_BITS = 17  # 2**17 = 131,072 entries: the least the Bitstring Status List allows
STATUS_LIST_SIZE = 2**STATUS_LIST_BITS
STATUS_INDEX_TRIES = 64


def issue_credentials(
    session: Session,
    candidate_id: int,
    *,
    now: dt.datetime,
    program: Program,
    random_bits: RandomBits = secrets.randbits,
) -> list[Credential]:
    """Create the rows of credentials newly earned; return all of the candidate's, in order.

    Idempotent: a credential already issued keeps its row, its verify id and its status.
    Runs in the caller's transaction; two racing calls meet the unique key on
    (candidate, kind, module), and the loser's transaction fails and can simply be retried.
    """
    candidate = session.get(Candidate, candidate_id)
    if candidate is None:
        raise LookupError(f"no candidate {candidate_id}")
    existing = {
        (c.kind, c.module): c
        for c in session.scalars(select(Credential).where(Credential.candidate_id == candidate_id))
    }
    for held in credentials(history_of(session, candidate_id), program):
        key = (held.kind.value, held.module or "")
        if key in existing:
            continue
        credential = Credential(
            verify_id=verify_id.make(random_bits(80)),
            candidate_id=candidate_id,
            kind=held.kind.value,
            module=held.module or "",
            earned_on=held.earned_on,
            holder_name=candidate.name,
            issued_at=now,
            edition=1,
            status_index=_free_status_index(session, random_bits),
            identity_salt=f"{random_bits(128):032x}",
        )
        session.add(credential)
        session.flush()
        session.add(CredentialEvent(credential_id=credential.id, action="issued", at=now))
        existing[key] = credential
    session.flush()
    order = {m.id: i for i, m in enumerate(program.modules)}
    return sorted(
        existing.values(),
        key=lambda c: (c.kind != "module_certificate", order.get(c.module, len(order))),
    )


def _free_status_index(session: Session, random_bits: RandomBits) -> int:
    """A random index of the status list that no credential holds (random, not in order:
    neighbours in the list say nothing about each other)."""
    for _ in range(STATUS_INDEX_TRIES):
        index = random_bits(STATUS_LIST_BITS)
        taken = session.scalar(select(Credential.id).where(Credential.status_index == index))
        if taken is None:
            return index
    raise RuntimeError(
        f"no free index in the status list after {STATUS_INDEX_TRIES} random tries: "
        f"it is nearly full ({STATUS_LIST_SIZE} entries); a second list is needed"
    )


# -- looking up, revoking, reinstating and reissuing ------------------------------------------

REASON_MAX = 400  # fits CredentialEvent.reason (500) and Credential.revoked_reason (500)
NAME_MAX = 200  # Candidate.name and Credential.holder_name
SEARCH_LIMIT = 100  # rows on one page of the staff search
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class CredentialError(ValueError):
    """A credential action that cannot be done; the message says why, in words to show."""


class CredentialNotFound(CredentialError):
    """No credential has the id given (or it is not an id at all)."""


def find_by_verify_id(session: Session, text: str) -> Credential | verify_id.IdProblem | None:
    """The credential with the id typed in `text`, what is wrong with the id, or None."""
    canonical = verify_id.normalise(text)
    if isinstance(canonical, verify_id.IdProblem):
        return canonical
    return session.scalars(
        select(Credential).where(Credential.verify_id == canonical)
    ).one_or_none()


def revoke(
    session: Session, verify_id_text: str, reason: str, now: dt.datetime, *, by: str
) -> Credential:
    """Revoke a valid credential: its verify page says so from now on. Does not commit."""
    why = _reason(reason, "revoking")
    credential = get(session, verify_id_text, lock=True)
    if credential.revoked_at is not None:
        raise CredentialError(
            f"Credential {credential.verify_id} was already revoked on "
            f"{credential.revoked_at.date().isoformat()}: nothing changed."
        )
    credential.revoked_at = now
    credential.revoked_reason = why
    session.add(_event(credential, "revoked", why, now, by))
    session.flush()
    return credential


def reinstate(
    session: Session, verify_id_text: str, reason: str, now: dt.datetime, *, by: str
) -> Credential:
    """Make a revoked credential valid again, with the same id. Does not commit."""
    why = _reason(reason, "reinstating")
    credential = get(session, verify_id_text, lock=True)
    if credential.revoked_at is None:
        raise CredentialError(
            f"Credential {credential.verify_id} is valid, not revoked: nothing to reinstate."
        )
    credential.revoked_at = None
    credential.revoked_reason = None
    session.add(_event(credential, "reinstated", why, now, by))
    session.flush()
    return credential


def reissue(
    session: Session,
    verify_id_text: str,
    new_name: str,
    reason: str,
    now: dt.datetime,
    *,
    by: str,
) -> list[Credential]:
    """After a name change: the candidate takes `new_name`, and so does every credential of theirs.

    Each credential keeps its verify id and status, gets the next edition (a new document) and
    an event with the reason. Refused when every credential already bears the name. Returns the
    candidate's credentials, the named one first. Does not commit.
    """
    why = _reason(reason, "reissuing")
    name = _name(new_name)
    credential = get(session, verify_id_text, lock=True)
    held = list(
        session.scalars(
            select(Credential)
            .where(Credential.candidate_id == credential.candidate_id)
            .order_by(Credential.id)
            .with_for_update()
        )
    )
    if all(c.holder_name == name for c in held):
        raise CredentialError(
            f"Credential {credential.verify_id} already bears the name {name!r}: "
            "nothing to reissue."
        )
    credential.candidate.name = name
    credential.candidate.name_set_by_staff_at = now  # imports keep it from now on
    for each in held:
        each.holder_name = name
        each.edition += 1
        session.add(_event(each, "reissued", why, now, by))
    session.flush()
    return [credential, *(c for c in held if c.id != credential.id)]


def _event(
    credential: Credential, action: str, reason: str, now: dt.datetime, by: str
) -> CredentialEvent:
    """A staff change's event, naming who made it (never anonymous)."""
    actor = by.strip()
    if not actor:
        raise ValueError("a change to a credential must name who made it")
    return CredentialEvent(
        credential_id=credential.id, action=action, reason=reason, at=now, actor=actor[:320]
    )


def revoked_status_indexes(session: Session, program: Program) -> frozenset[int]:
    """The status-list indexes of the credentials not valid now: the bits set in the list.

    Those staff revoked, and each full certification while a required module certificate it
    rests on is revoked (the rules do not hold it then); reinstating the module clears its bit.
    """
    revoked = select(Credential.status_index).where(Credential.revoked_at.is_not(None))
    resting = select(Credential.status_index).where(
        Credential.kind == CredentialKind.FULL_CERTIFICATION.value,
        Credential.candidate_id.in_(_holders_of_revoked_required_modules(program)),
    )
    return frozenset(session.scalars(revoked.union(resting)))


def rests_on_a_revoked_module(session: Session, credential: Credential, program: Program) -> bool:
    """Whether `credential` is a full certification one of whose required module certificates
    is revoked: not held by the rules, so not valid, while that lasts."""
    if credential.kind != CredentialKind.FULL_CERTIFICATION:
        return False
    holders = _holders_of_revoked_required_modules(program).where(
        Credential.candidate_id == credential.candidate_id
    )
    return session.scalar(holders.limit(1)) is not None


def _holders_of_revoked_required_modules(program: Program) -> Select[int]:
    """The candidates one of whose required module certificates is revoked now."""
    return select(Credential.candidate_id).where(
        Credential.kind == CredentialKind.MODULE_CERTIFICATE.value,
        Credential.module.in_([m.id for m in program.required_modules]),
        Credential.revoked_at.is_not(None),
    )


def last_status_change(session: Session) -> dt.datetime | None:
    """When the status list last changed: a revocation or reinstatement, else the first issue
    (None: no credential yet)."""
    changed = session.scalar(
        select(func.max(CredentialEvent.at)).where(
            CredentialEvent.action.in_(("revoked", "reinstated"))
        )
    )
    return changed or session.scalar(select(func.min(Credential.issued_at)))


def history(session: Session, credential_id: int) -> list[CredentialEvent]:
    """The credential's events, oldest first."""
    return list(
        session.scalars(
            select(CredentialEvent)
            .where(CredentialEvent.credential_id == credential_id)
            .order_by(CredentialEvent.at, CredentialEvent.id)
        )
    )


def search(session: Session, query: str) -> list[Credential]:
    """Staff search: by verify id (whole, typed loosely, or a part), holder or candidate name,
    or email; the newest credentials when `query` is blank. At most SEARCH_LIMIT rows."""
    statement = (
        select(Credential)
        .join(Candidate, Credential.candidate_id == Candidate.id)
        .options(joinedload(Credential.candidate))
        .order_by(Credential.issued_at.desc(), Credential.id.desc())
        .limit(SEARCH_LIMIT)
    )
    words = query.strip()
    if not words:
        return list(session.scalars(statement))
    canonical = verify_id.normalise(words)
    if not isinstance(canonical, verify_id.IdProblem):
        return list(session.scalars(statement.where(Credential.verify_id == canonical)))
    conditions = [
        Candidate.name.icontains(words, autoescape=True),
        Credential.holder_name.icontains(words, autoescape=True),
        Candidate.email.icontains(words, autoescape=True),
    ]
    # A part of an id, read as the public form reads a whole one: spaces and dashes anywhere
    # or nowhere, so it is matched against the id's symbols without their dashes.
    id_part = verify_id.symbols_of(words)
    if id_part is not None and len(id_part) >= verify_id.GROUP:
        symbols = func.replace(Credential.verify_id, "-", "", type_=String)
        conditions.append(symbols.contains(id_part, autoescape=True))
    return list(session.scalars(statement.where(or_(*conditions))))


def get(session: Session, text: str, *, lock: bool = False) -> Credential:
    """The credential with the id typed in `text`; CredentialNotFound says what is wrong.

    `lock` takes its row lock (FOR UPDATE) until the transaction ends, for a change to it.
    """
    canonical = verify_id.normalise(text)
    if canonical is verify_id.IdProblem.MALFORMED:
        raise CredentialNotFound(
            f"{text.strip()!r} is not a verification id: it has 16 letters and digits and a "
            f"check character, like {verify_id.example()}."
        )
    if canonical is verify_id.IdProblem.MISTYPED:
        raise CredentialNotFound(
            f"{text.strip()!r}: the check character does not match: one character was mistyped."
        )
    statement = select(Credential).where(Credential.verify_id == canonical)
    if lock:
        statement = statement.with_for_update()
    credential = session.scalars(statement).one_or_none()
    if credential is None:
        raise CredentialNotFound(f"No credential has the id {canonical}.")
    return credential


def _reason(reason: str, doing: str) -> str:
    why = reason.strip()
    if not why:
        raise CredentialError(f"Give a reason for {doing} the credential: it goes in its history.")
    if _CONTROL.search(why):
        raise CredentialError("The reason has a control character in it: type it on one line.")
    if len(why) > REASON_MAX:
        raise CredentialError(
            f"The reason is {len(why)} characters long: at most {REASON_MAX} fit."
        )
    return why


def _name(new_name: str) -> str:
    # Checked before spaces are collapsed: split() would quietly turn a line separator into one.
    refused = name_rules.refused_character(new_name)
    if refused is not None:
        raise CredentialError(
            f"The name has a character a name cannot hold: {refused}. Type it as printed."
        )
    name = name_rules.normalised(" ".join(new_name.split()))
    if not name:
        raise CredentialError("Give the new name, as it is to be printed on the credentials.")
    if len(name) > NAME_MAX:
        raise CredentialError(f"The name is {len(name)} characters long: at most {NAME_MAX} fit.")
    return name


# -- how a credential is named and described -------------------------------------------------

ISSUER_NAME = "Certified Production Technician program"


def credential_title(credential: Credential, program: Program) -> str:
    """'Certified Production Technician: Safety module certificate', 'Full CPT certification'."""
    if credential.kind == CredentialKind.MODULE_CERTIFICATE:
        return f"{program.name}: {module_name(credential, program)} module certificate"
    return f"Full {program.short_name} certification"


def module_name(credential: Credential, program: Program) -> str:
    try:
        return program.module(credential.module).name
    except KeyError:
        return credential.module
