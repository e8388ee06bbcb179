"""The program's data file (content/program.toml) as typed, validated objects."""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ProgramDataError(ValueError):
    """The data file is missing a value or holds one of the wrong kind."""


class ItemKind(enum.StrEnum):
    ASSESSMENT_FEE = "assessment_fee"
    CERTIFICATE_DOWNLOAD = "certificate_download"
    CERTIFICATE_PRINT = "certificate_print"
    KWA_DOCUMENT = "kwa_document"
    SMALL_PATCH = "small_patch"
    FULL_CERTIFICATE_DOWNLOAD = "full_certificate_download"
    FULL_CERTIFICATE_PRINT = "full_certificate_print"
    LARGE_PATCH = "large_patch"
    WALLET_CARD = "wallet_card"


@dataclass(frozen=True, slots=True)
class Kwa:
    slug: str
    title: str
    weight_percent: float | None = None


@dataclass(frozen=True, slots=True)
class Module:
    id: str
    name: str
    required: bool
    kwas: tuple[Kwa, ...]
    questions: int | None = None
    cut_score_percent: int | None = None
    kwas_are_summary: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    retake_waits_days: tuple[int, ...]
    window_years: int
    recommended_math_grade: int
    recommended_reading_grade: int
    retake_discounts_allowed: bool
    voucher_months: int

    def wait_after_failure(self, failure_number: int) -> int:
        """Days to wait after the n-th failed attempt (1-based); the last wait repeats."""
        if failure_number < 1:
            raise ValueError("failure_number counts from 1")
        return self.retake_waits_days[min(failure_number, len(self.retake_waits_days)) - 1]


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    sku: str
    name: str
    kind: ItemKind
    price_cents: int
    physical: bool
    module: str | None = None


@dataclass(frozen=True, slots=True)
class Program:
    name: str
    short_name: str
    site_url: str
    description: str
    policy: Policy
    assessment_minutes: int
    questions_min: int
    questions_max: int
    modules: tuple[Module, ...]
    catalogue: tuple[CatalogueItem, ...]

    @property
    def required_modules(self) -> tuple[Module, ...]:
        return tuple(m for m in self.modules if m.required)

    @property
    def required_module_ids(self) -> frozenset[str]:
        return frozenset(m.id for m in self.modules if m.required)

    def module(self, module_id: str) -> Module:
        for module in self.modules:
            if module.id == module_id:
                return module
        raise KeyError(module_id)

    def item(self, sku: str) -> CatalogueItem:
        for item in self.catalogue:
            if item.sku == sku:
                return item
        raise KeyError(sku)


def load_program(path: Path) -> Program:
    """Read and validate the program data file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ProgramDataError(f"{path}: {error}") from None
    try:
        return parse_program(data)
    except ProgramDataError as error:
        raise ProgramDataError(f"{path}: {error}") from None


def parse_program(data: Mapping[str, Any]) -> Program:
    program = _table(data, "program")
    policy = _table(data, "policy")
    assessment = _table(data, "assessment")
    modules = tuple(_parse_module(m, f"modules[{i}]") for i, m in enumerate(_list(data, "modules")))
    _require_unique([m.id for m in modules], "module id")
    catalogue = tuple(
        item
        for i, raw in enumerate(_list(data, "catalogue"))
        for item in _parse_items(raw, f"catalogue[{i}]", modules)
    )
    _require_unique([item.sku for item in catalogue], "catalogue sku")
    waits = tuple(_get(policy, "retake_waits_days", list, "policy"))
    if not waits or not all(isinstance(w, int) and w >= 0 for w in waits):
        raise ProgramDataError("policy.retake_waits_days: expected a list of whole days")
    return Program(
        name=_get(program, "name", str, "program"),
        short_name=_get(program, "short_name", str, "program"),
        site_url=_get(program, "site_url", str, "program").rstrip("/"),
        description=_get(program, "description", str, "program"),
        policy=Policy(
            retake_waits_days=waits,
            window_years=_get(policy, "window_years", int, "policy"),
            recommended_math_grade=_get(policy, "recommended_math_grade", int, "policy"),
            recommended_reading_grade=_get(policy, "recommended_reading_grade", int, "policy"),
            retake_discounts_allowed=_get(policy, "retake_discounts_allowed", bool, "policy"),
            voucher_months=_positive(policy, "voucher_months", "policy"),
        ),
        assessment_minutes=_get(assessment, "minutes", int, "assessment"),
        questions_min=_get(assessment, "questions_min", int, "assessment"),
        questions_max=_get(assessment, "questions_max", int, "assessment"),
        modules=modules,
        catalogue=catalogue,
    )


def _parse_module(raw: Any, where: str) -> Module:
    if not isinstance(raw, Mapping):
        raise ProgramDataError(f"{where}: expected a table")
    kwas = tuple(
        Kwa(
            slug=_get(k, "slug", str, f"{where}.kwas[{j}]"),
            title=_get(k, "title", str, f"{where}.kwas[{j}]"),
            weight_percent=_optional_number(k, "weight_percent", f"{where}.kwas[{j}]"),
        )
        for j, k in enumerate(_get(raw, "kwas", list, where))
    )
    _require_unique([k.slug for k in kwas], f"{where} KWA slug")
    return Module(
        id=_get(raw, "id", str, where),
        name=_get(raw, "name", str, where),
        required=_get(raw, "required", bool, where),
        kwas=kwas,
        questions=raw.get("questions"),
        cut_score_percent=raw.get("cut_score_percent"),
        kwas_are_summary=bool(raw.get("kwas_are_summary", False)),
    )


def _parse_items(raw: Any, where: str, modules: tuple[Module, ...]) -> list[CatalogueItem]:
    if not isinstance(raw, Mapping):
        raise ProgramDataError(f"{where}: expected a table")
    sku = _get(raw, "sku", str, where)
    name = _get(raw, "name", str, where)
    kind_value = _get(raw, "kind", str, where)
    try:
        kind = ItemKind(kind_value)
    except ValueError:
        known = ", ".join(k.value for k in ItemKind)
        raise ProgramDataError(f"{where}.kind: {kind_value!r} is not one of {known}") from None
    price = _get(raw, "price_cents", int, where)
    if price < 0:
        raise ProgramDataError(f"{where}.price_cents: expected zero or more cents")
    physical = _get(raw, "physical", bool, where)
    if not raw.get("per_module", False):
        return [CatalogueItem(sku, name, kind, price, physical)]
    return [
        CatalogueItem(
            f"{sku}-{m.id}", name.replace("{module}", m.name), kind, price, physical, m.id
        )
        for m in modules
    ]


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise ProgramDataError(f"[{key}]: expected a table")
    return value


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise ProgramDataError(f"[[{key}]]: expected at least one entry")
    return value


def _get(table: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in table:
        raise ProgramDataError(f"{where}.{key}: missing (expected {kind.__name__})")
    value = table[key]
    # bool is a subclass of int: a true/false where a number belongs is still wrong.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProgramDataError(f"{where}.{key}: expected {kind.__name__}, got {value!r}")
    return value


def _positive(table: Mapping[str, Any], key: str, where: str) -> int:
    value: int = _get(table, key, int, where)
    if value < 1:
        raise ProgramDataError(f"{where}.{key}: expected a whole number above 0, got {value}")
    return value


def _optional_number(table: Mapping[str, Any], key: str, where: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProgramDataError(f"{where}.{key}: expected a number, got {value!r}")
    return float(value)


def _require_unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ProgramDataError(f"duplicate {what} {value!r}")
        seen.add(value)
