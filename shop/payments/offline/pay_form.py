"""The pay page's form: its fields and choices, the values it starts with, what it refuses."""

from __future__ import annotations

from collections.abc import Mapping

from .sessions import CheckoutSession
from .upstream import ls_resources

BANK_TRANSFER = "bank_transfer"
PAYMENT_CHOICES: tuple[tuple[str, str], ...] = (
    ("pm_card_visa", "Visa 4242 (succeeds)"),
    ("pm_card_chargeCustomerFail", "Declined card"),
    (BANK_TRANSFER, "Bank transfer (settles later)"),
)
ADDRESS_FIELDS = ("name", "line1", "city", "state", "postal_code", "country")
FORM_FIELDS = ("email", *ADDRESS_FIELDS, "payment_method")
DEMO_EMAIL = "jenny.rosen@example.com"
DEMO_ADDRESS = {
    "name": "Jenny Rosen",
    "line1": "354 Oyster Point Blvd",
    "city": "South San Francisco",
    "state": "CA",
    "postal_code": "94080",
    "country": "US",
}


def default_values(session: CheckoutSession) -> dict[str, str]:
    email = session.customer_email
    if email is None and session.customer:
        email = ls_resources.Customer._api_retrieve(session.customer).email
    values = dict(DEMO_ADDRESS, email=email or DEMO_EMAIL, payment_method=PAYMENT_CHOICES[0][0])
    allowed = (session.shipping_address_collection or {}).get("allowed_countries") or ["US"]
    if values["country"] not in allowed:
        values["country"] = allowed[0]
    return values


def form_problem(session: CheckoutSession, values: Mapping[str, str]) -> str | None:
    email = values["email"]
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        return "Enter your email address."
    if session.shipping_address_collection:
        labels = {
            "name": "the name",
            "line1": "the address",
            "city": "the city",
            "postal_code": "the ZIP code",
        }
        for key, label in labels.items():
            if not values[key]:
                return f"Enter {label} for shipping."
        allowed = session.shipping_address_collection["allowed_countries"]
        if values["country"] not in allowed:
            return "We cannot ship to that country."
        if values["country"] == "US" and not values["state"]:
            return "Enter the state for shipping."
    if values["payment_method"] not in dict(PAYMENT_CHOICES):
        return "Choose a payment method."
    return None
