"""Checking request parameters as Stripe does, with Stripe's error codes and messages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .upstream import UserError


def invalid(message: str, param: str | None = None, code: str = "parameter_invalid") -> UserError:
    contents: dict[str, Any] = {"code": code}
    if param:
        contents["param"] = param
    return UserError(400, message, contents)


def missing(param: str) -> UserError:
    return invalid(f"Missing required param: {param}.", param, "parameter_missing")


def unknown(param: str) -> UserError:
    return invalid(f"Received unknown parameter: {param}", param, "parameter_unknown")


def as_integer(value: Any, param: str, minimum: int | None = None) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value)
    else:
        raise invalid(f"Invalid integer: {value}", param)
    if minimum is not None and number < minimum:
        raise invalid(f"This value must be greater than or equal to {minimum}.", param)
    return number


def as_text(value: Any, param: str, max_length: int = 5000) -> str:
    if not isinstance(value, str):
        raise invalid("Invalid string", param)
    if len(value) > max_length:
        raise invalid(f"This value must be at most {max_length} characters long.", param)
    return value


def as_mapping(value: Any, param: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid object", param)
    return value


def as_metadata(value: Any, param: str) -> dict[str, str]:
    raw = as_mapping(value, param)
    if len(raw) > 50:
        raise invalid("Metadata can have up to 50 keys.", param)
    result: dict[str, str] = {}
    for key, item in raw.items():
        if len(key) > 40:
            raise invalid("Metadata keys can be up to 40 characters long.", f"{param}[{key}]")
        if isinstance(item, bool | int | float):
            item = str(item).lower() if isinstance(item, bool) else str(item)
        result[key] = as_text(item, f"{param}[{key}]", max_length=500)
    return result


def as_url(value: Any, param: str) -> str:
    text = as_text(value, param)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("Not a valid URL", param, "url_invalid")
    return text


def as_string_list(value: Any, param: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise invalid("Invalid array", param)
    return [as_text(item, f"{param}[{index}]") for index, item in enumerate(value)]


def checked_expand(expand: Any) -> list[str]:
    if expand is None:
        return []
    if not isinstance(expand, list) or not all(isinstance(path, str) for path in expand):
        raise invalid("Invalid array", "expand")
    return list(expand)
