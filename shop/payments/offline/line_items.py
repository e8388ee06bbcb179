"""The line items of a new Checkout Session: checked, priced and given their products."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .params import as_integer, as_mapping, as_metadata, as_text, invalid, missing, unknown
from .upstream import ls_resources


@dataclass
class LineItems:
    items: list[dict[str, Any]]
    products: dict[str, dict[str, Any]]
    currency: str
    subtotal: int


def parse_line_items(value: Any, created: int) -> LineItems:
    if value is None:
        raise missing("line_items")
    if not isinstance(value, list) or not value:
        raise invalid("Invalid array", "line_items")
    items: list[dict[str, Any]] = []
    products: dict[str, dict[str, Any]] = {}
    currency: str | None = None
    for index, raw in enumerate(value):
        where = f"line_items[{index}]"
        if not isinstance(raw, dict):
            raise invalid("Invalid object", where)
        for key in raw:
            if key not in ("price", "price_data", "quantity", "adjustable_quantity", "tax_rates"):
                raise unknown(f"{where}[{key}]")
        if "price" in raw:
            raise invalid(
                "The offline fake Stripe has no Prices: give price_data[currency], "
                "price_data[unit_amount] and price_data[product_data][name] instead.",
                f"{where}[price]",
            )
        price_data = raw.get("price_data")
        if price_data is None:
            raise missing(f"{where}[price_data]")
        if not isinstance(price_data, dict):
            raise invalid("Invalid object", f"{where}[price_data]")
        for key in price_data:
            if key not in ("currency", "product", "product_data", "unit_amount", "tax_behavior"):
                if key in ("recurring", "unit_amount_decimal"):
                    raise invalid(
                        f"The offline fake Stripe does not support price_data[{key}].",
                        f"{where}[price_data][{key}]",
                    )
                raise unknown(f"{where}[price_data][{key}]")
        if "currency" not in price_data:
            raise missing(f"{where}[price_data][currency]")
        item_currency = as_text(price_data["currency"], f"{where}[price_data][currency]").lower()
        if len(item_currency) != 3 or not item_currency.isalpha():
            raise invalid(f"Invalid currency: {item_currency}", f"{where}[price_data][currency]")
        if currency is not None and item_currency != currency:
            raise invalid(
                "All line items must have the same currency.", f"{where}[price_data][currency]"
            )
        currency = item_currency
        if "unit_amount" not in price_data:
            raise missing(f"{where}[price_data][unit_amount]")
        unit_amount = as_integer(
            price_data["unit_amount"], f"{where}[price_data][unit_amount]", minimum=0
        )
        if "quantity" not in raw:
            raise missing(f"{where}[quantity]")
        quantity = as_integer(raw["quantity"], f"{where}[quantity]", minimum=1)
        product = _product(price_data, where, created)
        products[product["id"]] = product
        subtotal = unit_amount * quantity
        items.append(
            {
                "id": "li_" + ls_resources.random_id(24),
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": subtotal,
                "amount_tax": 0,
                "amount_total": subtotal,
                "currency": item_currency,
                "description": product["name"],
                "quantity": quantity,
                "price": {
                    "id": "price_" + ls_resources.random_id(24),
                    "object": "price",
                    "active": False,
                    "billing_scheme": "per_unit",
                    "created": created,
                    "currency": item_currency,
                    "custom_unit_amount": None,
                    "livemode": False,
                    "lookup_key": None,
                    "metadata": {},
                    "nickname": None,
                    "product": product["id"],
                    "recurring": None,
                    "tax_behavior": price_data.get("tax_behavior") or "unspecified",
                    "tiers_mode": None,
                    "transform_quantity": None,
                    "type": "one_time",
                    "unit_amount": unit_amount,
                    "unit_amount_decimal": str(unit_amount),
                },
            }
        )
    assert currency is not None
    total = sum(item["amount_total"] for item in items)
    if total <= 0:
        raise invalid("The Checkout Session's total amount due must be greater than 0.")
    return LineItems(items, products, currency, total)


def _product(price_data: dict[str, Any], where: str, created: int) -> dict[str, Any]:
    """The product of a line item: made from product_data, or an existing localstripe one."""
    if "product" in price_data:
        product_id = as_text(price_data["product"], f"{where}[price_data][product]")
        exported: dict[str, Any] = ls_resources.Product._api_retrieve(product_id)._export()
        return exported
    if "product_data" not in price_data:
        raise missing(f"{where}[price_data][product_data]")
    data = as_mapping(price_data["product_data"], f"{where}[price_data][product_data]")
    param = f"{where}[price_data][product_data]"
    for key in data:
        if key not in ("name", "description", "images", "metadata", "tax_code", "unit_label"):
            raise unknown(f"{param}[{key}]")
    if not data.get("name"):
        raise missing(f"{param}[name]")
    return {
        "id": "prod_" + ls_resources.random_id(14),
        "object": "product",
        "active": False,
        "created": created,
        "description": data.get("description"),
        "images": data.get("images") or [],
        "livemode": False,
        "metadata": as_metadata(data.get("metadata"), f"{param}[metadata]"),
        "name": as_text(data["name"], f"{param}[name]"),
        "type": "service",
    }
