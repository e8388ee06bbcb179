"""Assessment vouchers: their codes, expiry, states, and whether one may be accepted.

A code is 12 symbols of the verification ids' alphabet (60 random bits) in groups of four,
then one check symbol computed as a verification id's is, so a mistyped character is caught
before any lookup: 4KQ2-9XDM-HTVP-7. Accepting a voucher is buying the assessment fee with
someone else's money: the same eligibility decides, on the day of acceptance.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date

from shop.domain import verify_id
from shop.domain.eligibility import Decision, eligibility
from shop.domain.history import History
from shop.domain.program import CatalogueItem, ItemKind, Program

CODE_LENGTH = 12  # symbols of 5 bits: 60 bits
CODE_BITS = 5 * CODE_LENGTH
ANY_MODULE = ""  # a voucher's module when it pays for any module's assessment


class CodeProblem(enum.StrEnum):
    MALFORMED = "malformed"  # not 12 symbols and a check symbol
    MISTYPED = "mistyped"  # the check symbol does not match: a typo


def make_code(random_bits: int) -> str:
    """The code of a 60-bit random number (the caller draws it: `secrets.randbits(60)`)."""
    if not 0 <= random_bits < 1 << CODE_BITS:
        raise ValueError("expected a 60-bit number")
    symbols = "".join(
        verify_id.SYMBOLS[(random_bits >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH))
    )
    return _grouped(symbols)


def _grouped(symbols: str) -> str:
    groups = [symbols[i : i + 4] for i in range(0, CODE_LENGTH, 4)]
    return "-".join([*groups, verify_id.check_symbol(symbols)])


def normalise_code(text: str) -> str | CodeProblem:
    """The canonical form of a typed code (any case, spaces and dashes anywhere, O for 0 and
    I or L for 1), or what is wrong with it."""
    cleaned = verify_id.symbols_of(text)
    if cleaned is None or len(cleaned) != CODE_LENGTH + 1:
        return CodeProblem.MALFORMED
    body, check = cleaned[:CODE_LENGTH], cleaned[CODE_LENGTH]
    if verify_id.check_symbol(body) != check:
        return CodeProblem.MISTYPED
    return _grouped(body)


def expires_on(purchased_on: date, program: Program) -> date:
    """The first day a voucher no longer counts: `voucher_months` calendar months after its
    purchase (the last day of a shorter month when that day does not exist: 31 March + 1
    month expires on 30 April)."""
    months = purchased_on.month - 1 + program.policy.voucher_months
    year, month = purchased_on.year + months // 12, months % 12 + 1
    day = min(purchased_on.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


class VoucherState(enum.StrEnum):
    UNASSIGNED = "unassigned"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    USED = "used"
    EXPIRED = "expired"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class VoucherFacts:
    """What the rules need to know of a voucher, read from its row."""

    module: str  # ANY_MODULE for any
    expires_on: date
    assigned_email: str | None = None
    accepted: bool = False
    used: bool = False
    refunded: bool = False


def state_of(voucher: VoucherFacts, today: date) -> VoucherState:
    """Refunded and accepted are for ever; an unaccepted voucher expires on its day."""
    if voucher.refunded:
        return VoucherState.REFUNDED
    if voucher.accepted:
        return VoucherState.USED if voucher.used else VoucherState.ACCEPTED
    if today >= voucher.expires_on:
        return VoucherState.EXPIRED
    return VoucherState.ASSIGNED if voucher.assigned_email else VoucherState.UNASSIGNED


def may_refund(voucher: VoucherFacts, today: date) -> bool:
    """Only an unassigned voucher, before it expires, is refunded (one at a time)."""
    return state_of(voucher, today) is VoucherState.UNASSIGNED


def may_assign(voucher: VoucherFacts, today: date) -> bool:
    """Unassigned or assigned (to give it to someone else instead), and not expired."""
    return state_of(voucher, today) in (VoucherState.UNASSIGNED, VoucherState.ASSIGNED)


class VoucherProblem(enum.StrEnum):
    """Why a voucher cannot be accepted, apart from the candidate's eligibility."""

    MALFORMED = "malformed"
    MISTYPED = "mistyped"
    UNKNOWN = "unknown"  # no such code, or one not assigned to this person's address
    EXPIRED = "expired"
    ALREADY_ACCEPTED = "already_accepted"
    REFUNDED = "refunded"
    MODULE_NEEDED = "module_needed"  # an any-module voucher: the candidate names the module
    WRONG_MODULE = "wrong_module"

    @property
    def message(self) -> str:
        return _PROBLEMS[self]


_PROBLEMS: dict[VoucherProblem, str] = {
    VoucherProblem.MALFORMED: "that is not a voucher code (12 characters and a check character)",
    VoucherProblem.MISTYPED: "the code has a typing mistake (its check character does not match)",
    VoucherProblem.UNKNOWN: "no voucher with that code has been assigned to your address",
    VoucherProblem.EXPIRED: "the voucher has expired",
    VoucherProblem.ALREADY_ACCEPTED: "the voucher has already been accepted",
    VoucherProblem.REFUNDED: "the voucher was refunded to its organisation",
    VoucherProblem.MODULE_NEEDED: "choose the module whose assessment the voucher pays for",
    VoucherProblem.WRONG_MODULE: "the voucher pays for another module's assessment",
}


@dataclass(frozen=True, slots=True)
class Acceptance:
    """May the voucher be accepted: a problem with the voucher itself, or the candidate's
    eligibility for the module's assessment fee (with its reasons and first date)."""

    problem: VoucherProblem | None
    decision: Decision | None = None
    module: str | None = None

    @property
    def allowed(self) -> bool:
        return self.problem is None and self.decision is not None and self.decision.allowed


def acceptance(
    voucher: VoucherFacts | None,
    email: str,
    module: str | None,
    history: History,
    today: date,
    program: Program,
) -> Acceptance:
    """Whether the person at `email`, with `history`, may accept `voucher` for `module`
    today; `voucher` None: the code named no voucher."""
    if voucher is None or (voucher.assigned_email or "").lower() != email.lower():
        return Acceptance(VoucherProblem.UNKNOWN)
    if voucher.refunded:
        return Acceptance(VoucherProblem.REFUNDED)
    if voucher.accepted:
        return Acceptance(VoucherProblem.ALREADY_ACCEPTED)
    if today >= voucher.expires_on:
        return Acceptance(VoucherProblem.EXPIRED)
    chosen = voucher.module or module
    if not chosen:
        return Acceptance(VoucherProblem.MODULE_NEEDED)
    if voucher.module and module and module != voucher.module:
        return Acceptance(VoucherProblem.WRONG_MODULE)
    fee = assessment_fee(chosen, program)
    return Acceptance(None, eligibility(history, fee, today, program), chosen)


def assessment_fee(module: str, program: Program) -> CatalogueItem:
    """The catalogue's assessment fee of a module; KeyError when there is none."""
    for item in program.catalogue:
        if item.kind is ItemKind.ASSESSMENT_FEE and item.module == module:
            return item
    raise KeyError(module)


def voucher_price_cents(module: str, program: Program) -> int:
    """The catalogue's full price (no discount, rule of the seed); an any-module voucher costs
    the dearest module's fee, so it never pays less than the assessment it is used for."""
    if module:
        return assessment_fee(module, program).price_cents
    return max(m.price_cents for m in program.catalogue if m.kind is ItemKind.ASSESSMENT_FEE)
