"""The parameters of POST /v1/checkout/sessions, checked as Stripe checks them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .clock import now
from .line_items import LineItems, parse_line_items
from .params import (
    as_integer,
    as_mapping,
    as_metadata,
    as_string_list,
    as_text,
    as_url,
    invalid,
    missing,
    unknown,
)
from .upstream import ls_resources

# Stripe: expires_at is 30 minutes to 24 hours after creation (default 24 hours).
MIN_LIFETIME = 30 * 60
MAX_LIFETIME = 24 * 60 * 60
LIFETIME_LEEWAY = 60  # seconds of slack for the caller's clock and the request's travel

# Parameters of POST /v1/checkout/sessions: used, or accepted and ignored (as a Stripe
# account without those features would). Anything else is refused, as Stripe does.
USED_PARAMS = frozenset(
    {
        "mode",
        "ui_mode",
        "line_items",
        "success_url",
        "cancel_url",
        "client_reference_id",
        "metadata",
        "customer",
        "customer_email",
        "shipping_address_collection",
        "payment_intent_data",
        "expires_at",
        "payment_method_types",
        "locale",
        "submit_type",
        "currency",
    }
)
IGNORED_PARAMS = frozenset(
    {
        "after_expiration",
        "allow_promotion_codes",
        "automatic_tax",
        "billing_address_collection",
        "consent_collection",
        "custom_fields",
        "custom_text",
        "customer_creation",
        "invoice_creation",
        "payment_method_options",
        "phone_number_collection",
        "tax_id_collection",
    }
)
PAYMENT_INTENT_DATA_PARAMS = frozenset(
    {
        "metadata",
        "description",
        "receipt_email",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "capture_method",
        "setup_future_usage",
    }
)


@dataclass
class SessionParams:
    """The checked parameters of POST /v1/checkout/sessions."""

    line_items: LineItems
    created: int
    expires_at: int
    success_url: str | None
    cancel_url: str | None
    client_reference_id: str | None
    metadata: dict[str, str]
    customer: str | None
    customer_email: str | None
    shipping_address_collection: dict[str, Any] | None
    payment_intent_metadata: dict[str, str]
    payment_method_types: list[str]
    locale: str | None
    submit_type: str | None


def parse_create(data: Mapping[str, Any]) -> SessionParams:
    """Check the parameters as Stripe would; nothing is stored until all of them pass."""
    for key in data:
        if key not in USED_PARAMS and key not in IGNORED_PARAMS:
            raise unknown(key)
    if "mode" not in data:
        raise missing("mode")
    if data["mode"] != "payment":
        raise invalid("The offline fake Stripe supports Checkout in mode=payment only.", "mode")
    if data.get("ui_mode", "hosted") != "hosted":
        raise invalid("The offline fake Stripe supports ui_mode=hosted only.", "ui_mode")
    created = now()
    line_items = parse_line_items(data.get("line_items"), created)
    if "currency" in data and str(data["currency"]).lower() != line_items.currency:
        raise invalid("currency does not match the line items' currency.", "currency")

    expires_at = created + MAX_LIFETIME
    if data.get("expires_at") not in (None, ""):
        expires_at = as_integer(data["expires_at"], "expires_at")
        lifetime = expires_at - created
        if lifetime < MIN_LIFETIME - LIFETIME_LEEWAY:
            raise invalid(
                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session "
                f"creation (the fake's clock says {created}; see set_clock).",
                "expires_at",
            )
        if lifetime > MAX_LIFETIME + LIFETIME_LEEWAY:
            raise invalid(
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session "
                f"creation (the fake's clock says {created}; see set_clock).",
                "expires_at",
            )

    customer = data.get("customer") or None
    customer_email = data.get("customer_email") or None
    if customer is not None and customer_email is not None:
        raise invalid(
            "You may only specify one of these parameters: customer, customer_email.",
            "customer_email",
        )
    if customer is not None:
        ls_resources.Customer._api_retrieve(as_text(customer, "customer"))  # 404 if unknown
    if customer_email is not None and "@" not in as_text(customer_email, "customer_email", 800):
        raise invalid("Invalid email address: " + str(customer_email), "customer_email")

    shipping: dict[str, Any] | None = None
    if data.get("shipping_address_collection") not in (None, ""):
        raw = as_mapping(data["shipping_address_collection"], "shipping_address_collection")
        if "allowed_countries" not in raw:
            raise missing("shipping_address_collection[allowed_countries]")
        countries = as_string_list(
            raw["allowed_countries"], "shipping_address_collection[allowed_countries]"
        )
        for index, country in enumerate(countries):
            if len(country) != 2 or not country.isalpha() or not country.isupper():
                raise invalid(
                    f"Invalid country: {country}",
                    f"shipping_address_collection[allowed_countries][{index}]",
                )
        shipping = {"allowed_countries": countries}

    intent_data = as_mapping(data.get("payment_intent_data"), "payment_intent_data")
    for key in intent_data:
        if key not in PAYMENT_INTENT_DATA_PARAMS:
            raise unknown(f"payment_intent_data[{key}]")
    if intent_data.get("capture_method", "automatic") not in ("automatic", "automatic_async"):
        raise invalid(
            "The offline fake Stripe captures automatically only.",
            "payment_intent_data[capture_method]",
        )

    methods = ["card"]
    if data.get("payment_method_types") not in (None, ""):
        methods = as_string_list(data["payment_method_types"], "payment_method_types")

    def optional_url(name: str) -> str | None:
        value = data.get(name)
        return None if value in (None, "") else as_url(value, name)

    def optional_text(name: str, max_length: int = 5000) -> str | None:
        value = data.get(name)
        return None if value in (None, "") else as_text(value, name, max_length)

    return SessionParams(
        line_items=line_items,
        created=created,
        expires_at=expires_at,
        success_url=optional_url("success_url"),
        cancel_url=optional_url("cancel_url"),
        client_reference_id=optional_text("client_reference_id", 200),
        metadata=as_metadata(data.get("metadata"), "metadata"),
        customer=customer,
        customer_email=customer_email,
        shipping_address_collection=shipping,
        payment_intent_metadata=as_metadata(
            intent_data.get("metadata"), "payment_intent_data[metadata]"
        ),
        payment_method_types=methods,
        locale=optional_text("locale"),
        submit_type=optional_text("submit_type"),
    )
