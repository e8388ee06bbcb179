"""Bulk verification for organisations: read a CSV or a pasted list of verification ids, look
every one up, and answer one row each, as the public verify page would for that id.

A row says what the public page says of the id (the holder's name as printed, the credential,
when it was earned, valid or revoked with the date) and, when the organisation gave them,
whether the name and the email address it has on file match. An address is compared by its
salted hash only, the one the credential's signed Open Badge carries (its `identityHash`, with
the salt stored beside the credential): the holder's address never leaves the shop and the one
given is not kept. Nothing of a lookup is stored but a count (record_lookup).
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import hmac
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload

from shop.domain import verify_id
from shop.domain.program import Program
from shop.models import Credential
from shop.models_organisations import OrganisationLookupCount
from shop.openbadges.credential import identity_hash
from shop.services.credentials import credential_title

MAX_ROWS = 5000
MAX_BYTES = 2_000_000  # 5,000 rows of id, name and email fit in a fifth of this
ID_COLUMNS = frozenset({"id", "verification_id", "verification id", "verify_id"})
OPTIONAL_COLUMNS = frozenset({"name", "email"})
_LOOKUP_CHUNK = 500  # ids per query: well under every database's limit on parameters
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class BadInput(ValueError):
    """A file or list that cannot be read, with the line to look at (None: the whole input)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


@dataclass(frozen=True, slots=True)
class Query:
    line: int
    typed: str
    name: str = ""
    email: str = ""


class Outcome(enum.StrEnum):
    FOUND = "found"
    NOT_FOUND = "not found"
    MISTYPED = "mistyped"  # the check symbol does not match: a typo
    MALFORMED = "not an id"


@dataclass(frozen=True, slots=True)
class Row:
    """The answer for one query: what the public verify page shows, and the matches."""

    line: int
    typed: str
    outcome: Outcome
    verify_id: str = ""
    holder: str = ""
    credential: str = ""
    earned_on: dt.date | None = None
    revoked_on: dt.date | None = None
    name_matches: bool | None = None  # None: no name was given
    email_matches: bool | None = None

    @property
    def status(self) -> str:
        if self.outcome is not Outcome.FOUND:
            return ""
        return "revoked" if self.revoked_on else "valid"

    @property
    def note(self) -> str:
        return NOTES[self.outcome].format(line=self.line)


NOTES = {
    Outcome.FOUND: "",
    Outcome.NOT_FOUND: "No credential has this id.",
    Outcome.MISTYPED: "Line {line}: the check character does not match: one character was "
    "mistyped.",
    Outcome.MALFORMED: "Line {line}: not a verification id (16 letters and digits and a check "
    "character).",
}


# -- reading -----------------------------------------------------------------------------------


def parse_csv(data: bytes) -> list[Query]:
    """The queries of a CSV file whose header names an id column (and optionally name, email)."""
    text = _decoded(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise BadInput("the file is empty: the first line names the columns (id, name, email)")
        columns = _columns(header)
        queries: list[Query] = []
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if len(fields) > len(columns):
                raise BadInput(
                    f"{len(fields)} fields, but the header names {len(columns)} columns", line
                )
            values = dict(zip(columns, (f.strip() for f in fields), strict=False))
            _count_row(len(queries), line)
            queries.append(
                Query(line, values.get("id", ""), values.get("name", ""), values.get("email", ""))
            )
    except csv.Error as error:
        raise BadInput(f"not CSV ({error})", reader.line_num) from None
    if not queries:
        raise BadInput("the file names its columns but has no rows of ids")
    return queries


def parse_pasted(text: str) -> list[Query]:
    """One id a line, blank lines skipped."""
    if "\x00" in text:
        raise BadInput("the list holds a NUL character", text[: text.index("\x00")].count("\n") + 1)
    queries: list[Query] = []
    for line, value in enumerate(text.splitlines(), start=1):
        if value.strip():
            _count_row(len(queries), line)
            queries.append(Query(line, value.strip()))
    if not queries:
        raise BadInput("the list is empty: paste one verification id a line")
    return queries


def _count_row(before: int, line: int) -> None:
    if before >= MAX_ROWS:
        raise BadInput(f"more than {MAX_ROWS:,} rows: send at most {MAX_ROWS:,} at once", line)


def _decoded(data: bytes) -> str:
    """The text of a UTF-8 file, or BadInput naming the first line that is not text."""
    if len(data) > MAX_BYTES:
        raise BadInput(f"the file is larger than {MAX_BYTES // 1_000_000} MB")
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if b"\x00" in raw:
            raise BadInput(
                "a NUL byte: this is not a CSV text file (a spreadsheet? save as CSV)", number
            )
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput("not UTF-8 text: save the file as CSV UTF-8", number) from None
    return data.decode("utf-8").removeprefix("\ufeff")


def _columns(header: Sequence[str]) -> list[str]:
    """The header's columns, as "id", "name" and "email"; BadInput on line 1 otherwise."""
    columns = []
    for field in header:
        label = field.strip().lower()
        column = "id" if label in ID_COLUMNS else label
        if column not in OPTIONAL_COLUMNS and column != "id":
            raise BadInput(
                f"unknown column {field.strip()!r}: the columns are id (required), name and "
                "email, named on the first line",
                1,
            )
        if column in columns:
            raise BadInput(f"the column {column!r} is named twice", 1)
        columns.append(column)
    if "id" not in columns:
        raise BadInput("no id column: the first line names the columns, e.g. id,name,email", 1)
    return columns


# -- looking up --------------------------------------------------------------------------------


def verify(
    session: Session,
    queries: Sequence[Query],
    *,
    program: Program,
    time_zone: str,
) -> list[Row]:
    """One row per query, in order."""
    canonical = {q.line: verify_id.normalise(q.typed) for q in queries}
    found = _credentials(session, {c for c in canonical.values() if isinstance(c, str)})
    zone = ZoneInfo(time_zone)
    rows = []
    for query in queries:
        id_or_problem = canonical[query.line]
        if id_or_problem is verify_id.IdProblem.MISTYPED:
            rows.append(Row(query.line, query.typed, Outcome.MISTYPED))
        elif isinstance(id_or_problem, verify_id.IdProblem):
            rows.append(Row(query.line, query.typed, Outcome.MALFORMED))
        elif (credential := found.get(id_or_problem)) is None:
            rows.append(Row(query.line, query.typed, Outcome.NOT_FOUND, verify_id=id_or_problem))
        else:
            rows.append(_found_row(query, credential, program, zone))
    return rows


def _credentials(session: Session, ids: Iterable[str]) -> dict[str, Credential]:
    wanted = sorted(ids)
    found: dict[str, Credential] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        rows = session.scalars(
            select(Credential)
            .options(joinedload(Credential.candidate))
            .where(Credential.verify_id.in_(chunk))
        )
        found.update((c.verify_id, c) for c in rows)
    return found


def _found_row(query: Query, credential: Credential, program: Program, zone: ZoneInfo) -> Row:
    revoked = credential.revoked_at
    name_matches = names_match(query.name, credential.holder_name) if query.name else None
    email_matches = None
    if query.email:
        salt = credential.identity_salt
        email_matches = hmac.compare_digest(
            identity_hash(query.email, salt), identity_hash(credential.candidate.email, salt)
        )
    return Row(
        query.line,
        query.typed,
        Outcome.FOUND,
        verify_id=credential.verify_id,
        holder=credential.holder_name,
        credential=credential_title(credential, program),
        earned_on=credential.earned_on,
        revoked_on=revoked.astimezone(zone).date() if revoked else None,
        name_matches=name_matches,
        email_matches=email_matches,
    )


def names_match(given: str, holder: str) -> bool:
    """The same name whatever the case, the spacing or the Unicode composition."""
    return _name_key(given) == _name_key(holder)


def _name_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


# -- answering ---------------------------------------------------------------------------------

CSV_COLUMNS = (
    "line",
    "id_as_typed",
    "result",
    "verification_id",
    "holder",
    "credential",
    "earned_on",
    "status",
    "revoked_on",
    "name_matches",
    "email_matches",
    "note",
)


def as_csv(rows: Iterable[Row]) -> str:
    """The rows as CSV; no cell can be read by a spreadsheet as a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([safe_cell(value) for value in _cells(row)])
    return out.getvalue()


def as_json(row: Row) -> dict[str, object]:
    return {
        "line": row.line,
        "id_as_typed": row.typed,
        "result": row.outcome.value,
        "verification_id": row.verify_id or None,
        "holder": row.holder or None,
        "credential": row.credential or None,
        "earned_on": row.earned_on.isoformat() if row.earned_on else None,
        "status": row.status or None,
        "revoked_on": row.revoked_on.isoformat() if row.revoked_on else None,
        "name_matches": row.name_matches,
        "email_matches": row.email_matches,
        "note": row.note or None,
    }


def _cells(row: Row) -> list[str]:
    return [
        str(row.line),
        row.typed,
        row.outcome.value,
        row.verify_id,
        row.holder,
        row.credential,
        row.earned_on.isoformat() if row.earned_on else "",
        row.status,
        row.revoked_on.isoformat() if row.revoked_on else "",
        _yes_no(row.name_matches),
        _yes_no(row.email_matches),
        row.note,
    ]


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a quote first."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


# -- what is kept ------------------------------------------------------------------------------


def record_lookup(session: Session, organisation_id: int, day: dt.date, ids: int) -> None:
    """Add one request of `ids` ids to the organisation's count for the day (nothing else of
    the lookup is kept). One upsert, so concurrent lookups add up on every database."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(OrganisationLookupCount).values(
        organisation_id=organisation_id, day=day, requests=1, ids=ids
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["organisation_id", "day"],
            set_={
                "requests": OrganisationLookupCount.requests + 1,
                "ids": OrganisationLookupCount.ids + ids,
            },
        )
    )


def lookups_on(
    session: Session, organisation_id: int, day: dt.date
) -> OrganisationLookupCount | None:
    return session.get(OrganisationLookupCount, (organisation_id, day))
