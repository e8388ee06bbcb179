"""Checkout Sessions for localstripe: the API routes, the hosted pay page and its webhooks.

localstripe (a stateful fake Stripe, PyPI) has no Checkout. `install(app)` adds it to
localstripe's aiohttp `app`. Sessions live in localstripe's own store (so `DELETE
/_config/data` forgets them too), payments are real localstripe PaymentIntents confirmed
through its resource classes, and events are localstripe `Event`s sent by its own webhook
sender, signed like Stripe's.

Stripe API, authenticated with any `sk_test_...` key like every localstripe route:

    POST /v1/checkout/sessions                  create (mode=payment, price_data line items)
    GET  /v1/checkout/sessions                  list (payment_intent, customer, status)
    GET  /v1/checkout/sessions/{id}             retrieve (expand: payment_intent, line_items)
    GET  /v1/checkout/sessions/{id}/line_items  the session's line items
    POST /v1/checkout/sessions/{id}/expire      expire an open session

Test pages and hooks, without a key like localstripe's other `/_config/` routes:

    GET  /_config/checkout/pay/{id}             the hosted pay page: the session's `url`
                                                (after a bank transfer: its settle buttons)
    POST /_config/checkout/pay/{id}             pay (form fields: FORM_FIELDS)
    POST /_config/checkout/settle/{id}          settle a bank transfer: outcome=succeeded|failed
                                                (then=shop: 303 back to success_url)

Events: `checkout.session.completed` when the pay page takes a payment (card: paid; bank
transfer: unpaid until settled), `checkout.session.async_payment_succeeded` / `..._failed`
when a bank transfer settles, `checkout.session.expired` on expire or once `expires_at` has
passed (checked on every access and once a second). localstripe itself adds
`payment_intent.succeeded` / `payment_intent.payment_failed` for the PaymentIntent.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import logging
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

with warnings.catch_warnings():
    # Importing localstripe's server registers its plain (non-async) request handlers, which
    # aiohttp deprecates. That is the only warning localstripe raises; it is silenced here,
    # for this import only, rather than for the whole test suite.
    warnings.filterwarnings(
        "ignore", message="Bare functions are deprecated", category=DeprecationWarning
    )
    from localstripe import resources as ls_resources
    from localstripe import server as ls_server
    from localstripe.errors import UserError

__all__ = [
    "FORM_FIELDS",
    "PAYMENT_CHOICES",
    "PAY_PATH",
    "SETTLE_PATH",
    "CheckoutSession",
    "Clock",
    "UserError",
    "all_sessions",
    "find_session",
    "install",
    "ls_resources",
    "ls_server",
    "money",
    "now",
    "parse_create",
    "set_clock",
]

log = logging.getLogger(__name__)

PAY_PATH = "/_config/checkout/pay/"
SETTLE_PATH = "/_config/checkout/settle/"
SESSION_ID_TEMPLATE = "{CHECKOUT_SESSION_ID}"

# Stripe: expires_at is 30 minutes to 24 hours after creation (default 24 hours).
MIN_LIFETIME = 30 * 60
MAX_LIFETIME = 24 * 60 * 60
LIFETIME_LEEWAY = 60  # seconds of slack for the caller's clock and the request's travel
SWEEP_SECONDS = 1.0

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

# fmt: off
ZERO_DECIMAL_CURRENCIES = frozenset({
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
    "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
})
# fmt: on
CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}

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

# --- the clock -------------------------------------------------------------------------------

Clock = Callable[[], float]
_clock: Clock = time.time


def set_clock(clock: Clock | None) -> None:
    """Judge `expires_at` (and date new sessions) by `clock` (epoch seconds); None: real time.

    Webhook signatures always use real time, as `stripe.Webhook.construct_event` checks them
    against it.
    """
    global _clock
    _clock = clock or time.time


def now() -> int:
    return int(_clock())


# --- parameters ------------------------------------------------------------------------------


def _invalid(message: str, param: str | None = None, code: str = "parameter_invalid") -> UserError:
    contents: dict[str, Any] = {"code": code}
    if param:
        contents["param"] = param
    return UserError(400, message, contents)


def _missing(param: str) -> UserError:
    return _invalid(f"Missing required param: {param}.", param, "parameter_missing")


def _unknown(param: str) -> UserError:
    return _invalid(f"Received unknown parameter: {param}", param, "parameter_unknown")


def _integer(value: Any, param: str, minimum: int | None = None) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value)
    else:
        raise _invalid(f"Invalid integer: {value}", param)
    if minimum is not None and number < minimum:
        raise _invalid(f"This value must be greater than or equal to {minimum}.", param)
    return number


def _text(value: Any, param: str, max_length: int = 5000) -> str:
    if not isinstance(value, str):
        raise _invalid("Invalid string", param)
    if len(value) > max_length:
        raise _invalid(f"This value must be at most {max_length} characters long.", param)
    return value


def _mapping(value: Any, param: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise _invalid("Invalid object", param)
    return value


def _metadata(value: Any, param: str) -> dict[str, str]:
    raw = _mapping(value, param)
    if len(raw) > 50:
        raise _invalid("Metadata can have up to 50 keys.", param)
    result: dict[str, str] = {}
    for key, item in raw.items():
        if len(key) > 40:
            raise _invalid("Metadata keys can be up to 40 characters long.", f"{param}[{key}]")
        if isinstance(item, bool | int | float):
            item = str(item).lower() if isinstance(item, bool) else str(item)
        result[key] = _text(item, f"{param}[{key}]", max_length=500)
    return result


def _url(value: Any, param: str) -> str:
    text = _text(value, param)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _invalid("Not a valid URL", param, "url_invalid")
    return text


def _string_list(value: Any, param: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise _invalid("Invalid array", param)
    return [_text(item, f"{param}[{index}]") for index, item in enumerate(value)]


def _check_expand(expand: Any) -> list[str]:
    if expand is None:
        return []
    if not isinstance(expand, list) or not all(isinstance(path, str) for path in expand):
        raise _invalid("Invalid array", "expand")
    return list(expand)


@dataclass
class _LineItems:
    items: list[dict[str, Any]]
    products: dict[str, dict[str, Any]]
    currency: str
    subtotal: int


def _line_items(value: Any, created: int) -> _LineItems:
    if value is None:
        raise _missing("line_items")
    if not isinstance(value, list) or not value:
        raise _invalid("Invalid array", "line_items")
    items: list[dict[str, Any]] = []
    products: dict[str, dict[str, Any]] = {}
    currency: str | None = None
    for index, raw in enumerate(value):
        where = f"line_items[{index}]"
        if not isinstance(raw, dict):
            raise _invalid("Invalid object", where)
        for key in raw:
            if key not in ("price", "price_data", "quantity", "adjustable_quantity", "tax_rates"):
                raise _unknown(f"{where}[{key}]")
        if "price" in raw:
            raise _invalid(
                "The offline fake Stripe has no Prices: give price_data[currency], "
                "price_data[unit_amount] and price_data[product_data][name] instead.",
                f"{where}[price]",
            )
        price_data = raw.get("price_data")
        if price_data is None:
            raise _missing(f"{where}[price_data]")
        if not isinstance(price_data, dict):
            raise _invalid("Invalid object", f"{where}[price_data]")
        for key in price_data:
            if key not in ("currency", "product", "product_data", "unit_amount", "tax_behavior"):
                if key in ("recurring", "unit_amount_decimal"):
                    raise _invalid(
                        f"The offline fake Stripe does not support price_data[{key}].",
                        f"{where}[price_data][{key}]",
                    )
                raise _unknown(f"{where}[price_data][{key}]")
        if "currency" not in price_data:
            raise _missing(f"{where}[price_data][currency]")
        item_currency = _text(price_data["currency"], f"{where}[price_data][currency]").lower()
        if len(item_currency) != 3 or not item_currency.isalpha():
            raise _invalid(f"Invalid currency: {item_currency}", f"{where}[price_data][currency]")
        if currency is not None and item_currency != currency:
            raise _invalid(
                "All line items must have the same currency.", f"{where}[price_data][currency]"
            )
        currency = item_currency
        if "unit_amount" not in price_data:
            raise _missing(f"{where}[price_data][unit_amount]")
        unit_amount = _integer(
            price_data["unit_amount"], f"{where}[price_data][unit_amount]", minimum=0
        )
        if "quantity" not in raw:
            raise _missing(f"{where}[quantity]")
        quantity = _integer(raw["quantity"], f"{where}[quantity]", minimum=1)
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
        raise _invalid("The Checkout Session's total amount due must be greater than 0.")
    return _LineItems(items, products, currency, total)


def _product(price_data: dict[str, Any], where: str, created: int) -> dict[str, Any]:
    """The product of a line item: made from product_data, or an existing localstripe one."""
    if "product" in price_data:
        product_id = _text(price_data["product"], f"{where}[price_data][product]")
        exported: dict[str, Any] = ls_resources.Product._api_retrieve(product_id)._export()
        return exported
    if "product_data" not in price_data:
        raise _missing(f"{where}[price_data][product_data]")
    data = _mapping(price_data["product_data"], f"{where}[price_data][product_data]")
    param = f"{where}[price_data][product_data]"
    for key in data:
        if key not in ("name", "description", "images", "metadata", "tax_code", "unit_label"):
            raise _unknown(f"{param}[{key}]")
    if not data.get("name"):
        raise _missing(f"{param}[name]")
    return {
        "id": "prod_" + ls_resources.random_id(14),
        "object": "product",
        "active": False,
        "created": created,
        "description": data.get("description"),
        "images": data.get("images") or [],
        "livemode": False,
        "metadata": _metadata(data.get("metadata"), f"{param}[metadata]"),
        "name": _text(data["name"], f"{param}[name]"),
        "type": "service",
    }


@dataclass
class _Create:
    """The checked parameters of POST /v1/checkout/sessions."""

    line_items: _LineItems
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


def parse_create(data: Mapping[str, Any]) -> _Create:
    """Check the parameters as Stripe would; nothing is stored until all of them pass."""
    for key in data:
        if key not in USED_PARAMS and key not in IGNORED_PARAMS:
            raise _unknown(key)
    if "mode" not in data:
        raise _missing("mode")
    if data["mode"] != "payment":
        raise _invalid("The offline fake Stripe supports Checkout in mode=payment only.", "mode")
    if data.get("ui_mode", "hosted") != "hosted":
        raise _invalid("The offline fake Stripe supports ui_mode=hosted only.", "ui_mode")
    created = now()
    line_items = _line_items(data.get("line_items"), created)
    if "currency" in data and str(data["currency"]).lower() != line_items.currency:
        raise _invalid("currency does not match the line items' currency.", "currency")

    expires_at = created + MAX_LIFETIME
    if data.get("expires_at") not in (None, ""):
        expires_at = _integer(data["expires_at"], "expires_at")
        lifetime = expires_at - created
        if lifetime < MIN_LIFETIME - LIFETIME_LEEWAY:
            raise _invalid(
                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session "
                f"creation (the fake's clock says {created}; see set_clock).",
                "expires_at",
            )
        if lifetime > MAX_LIFETIME + LIFETIME_LEEWAY:
            raise _invalid(
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session "
                f"creation (the fake's clock says {created}; see set_clock).",
                "expires_at",
            )

    customer = data.get("customer") or None
    customer_email = data.get("customer_email") or None
    if customer is not None and customer_email is not None:
        raise _invalid(
            "You may only specify one of these parameters: customer, customer_email.",
            "customer_email",
        )
    if customer is not None:
        ls_resources.Customer._api_retrieve(_text(customer, "customer"))  # 404 if unknown
    if customer_email is not None and "@" not in _text(customer_email, "customer_email", 800):
        raise _invalid("Invalid email address: " + str(customer_email), "customer_email")

    shipping: dict[str, Any] | None = None
    if data.get("shipping_address_collection") not in (None, ""):
        raw = _mapping(data["shipping_address_collection"], "shipping_address_collection")
        if "allowed_countries" not in raw:
            raise _missing("shipping_address_collection[allowed_countries]")
        countries = _string_list(
            raw["allowed_countries"], "shipping_address_collection[allowed_countries]"
        )
        for index, country in enumerate(countries):
            if len(country) != 2 or not country.isalpha() or not country.isupper():
                raise _invalid(
                    f"Invalid country: {country}",
                    f"shipping_address_collection[allowed_countries][{index}]",
                )
        shipping = {"allowed_countries": countries}

    intent_data = _mapping(data.get("payment_intent_data"), "payment_intent_data")
    for key in intent_data:
        if key not in PAYMENT_INTENT_DATA_PARAMS:
            raise _unknown(f"payment_intent_data[{key}]")
    if intent_data.get("capture_method", "automatic") not in ("automatic", "automatic_async"):
        raise _invalid(
            "The offline fake Stripe captures automatically only.",
            "payment_intent_data[capture_method]",
        )

    methods = ["card"]
    if data.get("payment_method_types") not in (None, ""):
        methods = _string_list(data["payment_method_types"], "payment_method_types")

    def optional_url(name: str) -> str | None:
        value = data.get(name)
        return None if value in (None, "") else _url(value, name)

    def optional_text(name: str, max_length: int = 5000) -> str | None:
        value = data.get(name)
        return None if value in (None, "") else _text(value, name, max_length)

    return _Create(
        line_items=line_items,
        created=created,
        expires_at=expires_at,
        success_url=optional_url("success_url"),
        cancel_url=optional_url("cancel_url"),
        client_reference_id=optional_text("client_reference_id", 200),
        metadata=_metadata(data.get("metadata"), "metadata"),
        customer=customer,
        customer_email=customer_email,
        shipping_address_collection=shipping,
        payment_intent_metadata=_metadata(
            intent_data.get("metadata"), "payment_intent_data[metadata]"
        ),
        payment_method_types=methods,
        locale=optional_text("locale"),
        submit_type=optional_text("submit_type"),
    )


# --- the session -----------------------------------------------------------------------------


class CheckoutSession(ls_resources.StripeObject):  # type: ignore[misc]  # localstripe is untyped
    """A Checkout Session in localstripe's store.

    localstripe exports every attribute without a leading underscore (and every public
    property or method!), so private state and helpers start with `_`.
    """

    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(self, params: _Create, base_url: str) -> None:
        # Stripe's ids are this long (66 characters): columns sized for them fit ours.
        super().__init__(id=self._id_prefix + ls_resources.random_id(58))
        self.created = params.created
        self.mode = "payment"
        self.ui_mode = "hosted"
        self.status = "open"
        self.payment_status = "unpaid"
        self.url: str | None = f"{base_url}{PAY_PATH}{self.id}"
        self.success_url = _with_session_id(params.success_url, self.id)
        self.cancel_url = _with_session_id(params.cancel_url, self.id)
        self.client_reference_id = params.client_reference_id
        self.metadata = params.metadata
        self.customer = params.customer
        self.customer_email = params.customer_email
        self.customer_creation = "if_required"
        self.customer_details: dict[str, Any] | None = None
        self.currency = params.line_items.currency
        self.amount_subtotal = params.line_items.subtotal
        self.amount_total = params.line_items.subtotal
        self.total_details = {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}
        self.expires_at = params.expires_at
        self.payment_intent: str | None = None
        self.payment_method_types = params.payment_method_types
        self.locale = params.locale
        self.submit_type = params.submit_type
        self.shipping_address_collection = params.shipping_address_collection
        self.shipping_details: dict[str, Any] | None = None
        self.collected_information: dict[str, Any] | None = None
        self.invoice = None
        self.payment_link = None
        self.setup_intent = None
        self.subscription = None
        self._line_items = params.line_items.items
        self._products = params.line_items.products
        self._payment_intent_metadata = params.payment_intent_metadata
        self._awaiting_settlement = False

    # localstripe calls _export() for API answers and for Event payloads: a deep copy keeps
    # an event's snapshot from changing with the session.
    def _export(self, expand: Any = None) -> dict[str, Any]:
        if not isinstance(expand, list):
            exported: dict[str, Any] = super()._export(expand=expand)
            return copy.deepcopy(exported)
        own = [p for p in expand if p == "line_items" or p.startswith("line_items.")]
        exported = copy.deepcopy(super()._export(expand=[p for p in expand if p not in own]))
        if own:
            deeper = [p.removeprefix("line_items.") for p in own if p != "line_items"]
            exported["line_items"] = self._line_items_list(expand=deeper)
        return exported

    def _line_items_list(
        self, limit: int = 10, starting_after: str | None = None, expand: Iterable[str] = ()
    ) -> dict[str, Any]:
        items = copy.deepcopy(self._line_items)
        for path in expand:
            if path not in ("data.price", "data.price.product"):
                raise _invalid(f"This property cannot be expanded ({path}).", "expand")
            if path == "data.price.product":
                for item in items:
                    item["price"]["product"] = copy.deepcopy(
                        self._products[item["price"]["product"]]
                    )
        start = 0
        if starting_after is not None:
            ids = [item["id"] for item in items]
            start = ids.index(starting_after) + 1 if starting_after in ids else len(ids)
        page = items[start : start + limit]
        return {
            "object": "list",
            "data": page,
            "has_more": start + limit < len(items),
            "url": f"/v1/checkout/sessions/{self.id}/line_items",
        }

    def _fire(self, event_type: str) -> None:
        """Send `event_type` with this session to the registered webhooks, as localstripe does."""
        ls_resources.schedule_webhook(ls_resources.Event(event_type, self))

    def _expire_if_due(self) -> None:
        if self.status == "open" and now() >= self.expires_at:
            self._expire()

    def _expire(self) -> None:
        self.status = "expired"
        self.url = None
        self._fire("checkout.session.expired")

    def _complete(
        self,
        payment_intent: str,
        payment_status: str,
        email: str,
        shipping: dict[str, Any] | None,
    ) -> None:
        self.status = "complete"
        self.payment_status = payment_status
        self.payment_intent = payment_intent
        self.url = None
        self.customer_details = {
            "address": copy.deepcopy(shipping["address"]) if shipping else None,
            "email": email,
            "name": shipping["name"] if shipping else None,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        }
        if shipping is not None:
            # Stripe moved shipping_details into collected_information (API 2025-03-31);
            # both are given so code written for either version works.
            self.shipping_details = copy.deepcopy(shipping)
            self.collected_information = {"shipping_details": copy.deepcopy(shipping)}
        self._fire("checkout.session.completed")


def _with_session_id(url: str | None, session_id: str) -> str | None:
    return None if url is None else url.replace(SESSION_ID_TEMPLATE, session_id)


def _store_key(session_id: str) -> str:
    return f"{CheckoutSession.object}:{session_id}"


def find_session(session_id: str) -> CheckoutSession | None:
    """The session, expired first if its time has come; None if there is no such session."""
    session = ls_resources.store.get(_store_key(session_id))
    if not isinstance(session, CheckoutSession):
        return None
    session._expire_if_due()
    return session


def _get_session(session_id: str) -> CheckoutSession:
    session = find_session(session_id)
    if session is None:
        raise UserError(
            404,
            f"No such checkout.session: '{session_id}'",
            {"code": "resource_missing", "param": "session"},
        )
    return session


def all_sessions() -> list[CheckoutSession]:
    """Every session, newest first."""
    sessions = [s for s in ls_resources.store.values() if isinstance(s, CheckoutSession)]
    sessions.reverse()
    return sessions


# --- the API ---------------------------------------------------------------------------------


def _json(data: Any, status: int = 200) -> web.Response:
    response: web.Response = ls_server.json_response(data, status=status)
    return response


def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def _post_data(request: web.Request) -> dict[str, Any]:
    data = await ls_server.get_post_data(request)
    if not data:
        return {}
    if not isinstance(data, dict):
        raise _invalid("Invalid request body")
    return data


async def create_session(request: web.Request) -> web.Response:
    data = await _post_data(request)
    expand = _check_expand(data.pop("expand", None))
    session = CheckoutSession(parse_create(data), _base_url(request))
    return _json(session._export(expand=expand))


async def retrieve_session(request: web.Request) -> web.Response:
    session = _get_session(request.match_info["id"])
    query = ls_server.unflatten_data(request.query)
    return _json(session._export(expand=_check_expand(query.pop("expand", None))))


async def list_sessions(request: web.Request) -> web.Response:
    query: dict[str, Any] = ls_server.unflatten_data(request.query)
    expand = _check_expand(query.pop("expand", None))
    limit = _integer(query.pop("limit", 10), "limit", minimum=1)
    starting_after = query.pop("starting_after", None)
    filters = {
        key: query.pop(key) for key in ("payment_intent", "customer", "status") if key in query
    }
    if query:
        raise _unknown(next(iter(query)))
    sessions = all_sessions()
    for session in sessions:
        session._expire_if_due()
    sessions = [s for s in sessions if all(getattr(s, k) == v for k, v in filters.items())]
    start = 0
    if starting_after is not None:
        ids = [s.id for s in sessions]
        start = ids.index(starting_after) + 1 if starting_after in ids else len(ids)
    deeper = [p.removeprefix("data.") for p in expand]
    return _json(
        {
            "object": "list",
            "data": [s._export(expand=deeper) for s in sessions[start : start + limit]],
            "has_more": start + limit < len(sessions),
            "url": "/v1/checkout/sessions",
        }
    )


async def list_line_items(request: web.Request) -> web.Response:
    session = _get_session(request.match_info["id"])
    query: dict[str, Any] = ls_server.unflatten_data(request.query)
    expand = _check_expand(query.pop("expand", None))
    limit = _integer(query.pop("limit", 10), "limit", minimum=1)
    starting_after = query.pop("starting_after", None)
    if query:
        raise _unknown(next(iter(query)))
    return _json(session._line_items_list(limit, starting_after, expand))


async def expire_session(request: web.Request) -> web.Response:
    session = _get_session(request.match_info["id"])
    data = await _post_data(request)
    expand = _check_expand(data.pop("expand", None))
    if data:
        raise _unknown(next(iter(data)))
    if session.status != "open":
        raise _invalid(
            'Only Checkout Sessions with a status in ["open"] can be expired.',
            code="checkout_session_not_open",
        )
    session._expire()
    return _json(session._export(expand=expand))


# --- the hosted pay page ---------------------------------------------------------------------


async def pay_page(request: web.Request) -> web.Response:
    session = find_session(request.match_info["id"])
    if session is None:
        return _not_found_page()
    if session._awaiting_settlement:
        return _settle_page(session)
    if session.status != "open":
        return _closed_page(session)
    return _pay_page(session, _default_values(session))


async def pay(request: web.Request) -> web.Response:
    session = find_session(request.match_info["id"])
    if session is None:
        return _not_found_page()
    if session.status != "open":
        return _closed_page(session)
    form = await request.post()
    values = {name: str(form.get(name, "")).strip() for name in FORM_FIELDS}
    problem = _form_problem(session, values)
    if problem:
        return _pay_page(session, values, problem, status=400)

    shipping = None
    if session.shipping_address_collection:
        address = {key: values[key] or None for key in ADDRESS_FIELDS if key != "name"}
        address["line2"] = None
        shipping = {"name": values["name"], "address": address}
    intent_params: dict[str, Any] = {
        "amount": session.amount_total,
        "currency": session.currency,
        "customer": session.customer,
        "metadata": dict(session._payment_intent_metadata),
    }
    choice = values["payment_method"]
    if choice == BANK_TRANSFER:
        # Waits, without a payment method, for POST /_config/checkout/settle/{id}.
        intent = ls_resources.PaymentIntent._api_create(**intent_params)
        session._awaiting_settlement = True
        session._complete(intent.id, "unpaid", values["email"], shipping)
    else:
        try:
            intent = ls_resources.PaymentIntent._api_create(
                payment_method=choice, confirm=True, **intent_params
            )
        except UserError as error:
            message = error.body.get("error", {}).get("message") or "The payment failed."
            return _pay_page(session, values, f"{message} Choose another card.", status=402)
        if intent.status != "succeeded":
            return _pay_page(
                session, values, f"The payment is {intent.status}. Choose another card.", 402
            )
        session._complete(intent.id, "paid", values["email"], shipping)

    if choice == BANK_TRANSFER:
        # The transfer's own page, with the buttons that settle it (a person trying the shop
        # would otherwise need to know the settle endpoint).
        return web.Response(status=302, headers={"Location": PAY_PATH + session.id})
    if session.success_url:
        return web.Response(status=302, headers={"Location": session.success_url})
    return _page(
        "Payment complete",
        "<h1>Payment complete</h1><p>The session has no success_url to go back to.</p>",
    )


async def settle(request: web.Request) -> web.Response:
    """Settle a bank transfer paid on the pay page: outcome=succeeded or outcome=failed."""
    session = _get_session(request.match_info["id"])
    data = await _post_data(request)
    outcome = data.get("outcome")
    if outcome not in ("succeeded", "failed"):
        raise _invalid("outcome must be succeeded or failed.", "outcome")
    if not session._awaiting_settlement:
        raise UserError(409, "This Checkout Session has no bank transfer waiting to settle.")
    intent = ls_resources.PaymentIntent._api_retrieve(session.payment_intent)
    intent.payment_method = (
        "pm_card_visa" if outcome == "succeeded" else "pm_card_chargeCustomerFail"
    )
    # Fires payment_intent.succeeded or payment_intent.payment_failed, without raising.
    intent._confirm(on_failure_now=intent._report_async_failure)
    session._awaiting_settlement = False
    if outcome == "succeeded":
        session.payment_status = "paid"
        session._fire("checkout.session.async_payment_succeeded")
    else:
        session._fire("checkout.session.async_payment_failed")
    if data.get("then") == "shop" and session.success_url:  # a button of the settle page
        return web.Response(status=303, headers={"Location": session.success_url})
    return _json(session._export())


def _default_values(session: CheckoutSession) -> dict[str, str]:
    email = session.customer_email
    if email is None and session.customer:
        email = ls_resources.Customer._api_retrieve(session.customer).email
    values = dict(DEMO_ADDRESS, email=email or DEMO_EMAIL, payment_method=PAYMENT_CHOICES[0][0])
    allowed = (session.shipping_address_collection or {}).get("allowed_countries") or ["US"]
    if values["country"] not in allowed:
        values["country"] = allowed[0]
    return values


def _form_problem(session: CheckoutSession, values: Mapping[str, str]) -> str | None:
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


def money(amount: int, currency: str) -> str:
    """Amounts in the currency's smallest unit, for people: money(1234, "usd") == "$12.34"."""
    currency = currency.lower()
    if currency in ZERO_DECIMAL_CURRENCIES:
        text = f"{amount:,}"
    else:
        text = f"{amount // 100:,}.{amount % 100:02d}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


_STYLE = """
body { font-family: system-ui, sans-serif; line-height: 1.5; max-width: 36rem;
       margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }
.test-mode { background: #fff3cd; border: 1px solid #8a6d00; padding: .25rem .5rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
caption { text-align: left; font-weight: bold; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #ccc; }
td.amount, th.amount { text-align: right; }
fieldset { margin: 1rem 0; }
.field { margin: .5rem 0; }
label { display: block; font-weight: bold; }
input, select { font: inherit; padding: .25rem; width: 100%; box-sizing: border-box; }
button { font: inherit; padding: .5rem 2rem; margin: 1rem 0; }
.error { border: 2px solid #b00020; color: #b00020; padding: .5rem; }
:focus-visible { outline: 3px solid #1a4fd6; outline-offset: 2px; }
"""


def _page(title: str, body: str, status: int = 200) -> web.Response:
    document = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        '<p class="test-mode">Test mode: the offline fake Stripe. No real money moves.</p>\n'
        f"{body}\n</main>\n</body>\n</html>\n"
    )
    return web.Response(text=document, content_type="text/html", status=status)


def _not_found_page() -> web.Response:
    return _page(
        "Checkout session not found",
        "<h1>Checkout session not found</h1><p>There is no checkout session at this address.</p>",
        status=404,
    )


def _closed_page(session: CheckoutSession) -> web.Response:
    if session.status == "expired":
        title = "This checkout session has expired"
        text = "It can no longer be paid. Go back to the shop to start again."
        link = session.cancel_url
    else:
        title = "This checkout session is already paid"
        text = "It has been completed and cannot be paid again."
        link = session.success_url
    back = f'<p><a href="{html.escape(link)}">Back to the shop</a></p>' if link else ""
    return _page(title, f"<h1>{title}</h1>\n<p>{text}</p>\n{back}", status=409)


SETTLE_BUTTONS = (
    ("succeeded", "Settle the bank transfer now"),
    ("failed", "Let the bank transfer fail"),
)


def _settle_page(session: CheckoutSession) -> web.Response:
    """A bank transfer paid on the pay page and not settled yet: settle it, or let it fail,
    as the bank would days later; or go back to the shop and leave it processing."""
    total = money(session.amount_total, session.currency)
    action = html.escape(SETTLE_PATH + session.id)
    forms = "\n".join(
        f'<form method="post" action="{action}">'
        f'<input type="hidden" name="outcome" value="{outcome}">'
        '<input type="hidden" name="then" value="shop">'
        f'<button type="submit">{label}</button></form>'
        for outcome, label in SETTLE_BUTTONS
    )
    back = (
        f'<p><a href="{html.escape(session.success_url)}">Back to the shop '
        "(the order stays processing until the transfer settles)</a></p>"
        if session.success_url
        else ""
    )
    body = (
        "<h1>Bank transfer on its way</h1>\n"
        f"<p>The transfer of {total} has been started. A real bank takes days to settle it; "
        "here you choose what happens, now.</p>\n"
        f"{forms}\n{back}"
    )
    return _page("Bank transfer on its way", body)


def _field(name: str, label: str, value: str, kind: str, autocomplete: str) -> str:
    return (
        f'<div class="field"><label for="{name}">{label}</label>'
        f'<input id="{name}" name="{name}" type="{kind}" autocomplete="{autocomplete}" '
        f'required value="{html.escape(value)}"></div>'
    )


def _select(
    name: str,
    label: str,
    choices: Iterable[tuple[str, str]],
    chosen: str,
    autocomplete: str = "off",
) -> str:
    options = "".join(
        f'<option value="{html.escape(value)}"{" selected" if value == chosen else ""}>'
        f"{html.escape(text)}</option>"
        for value, text in choices
    )
    return (
        f'<div class="field"><label for="{name}">{label}</label>'
        f'<select id="{name}" name="{name}" autocomplete="{autocomplete}">{options}</select></div>'
    )


def _pay_page(
    session: CheckoutSession,
    values: Mapping[str, str],
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    rows = "\n".join(
        f"<tr><td>{html.escape(item['description'])}</td>"
        f'<td class="amount">{item["quantity"]}</td>'
        f'<td class="amount">{money(item["amount_total"], item["currency"])}</td></tr>'
        for item in session._line_items
    )
    total = money(session.amount_total, session.currency)
    summary = (
        "<table>\n<caption>Order summary</caption>\n"
        '<thead><tr><th scope="col">Item</th><th scope="col" class="amount">Quantity</th>'
        '<th scope="col" class="amount">Amount</th></tr></thead>\n'
        f"<tbody>\n{rows}\n</tbody>\n"
        f'<tfoot><tr><th scope="row" colspan="2">Total</th>'
        f'<td class="amount" id="total">{total}</td></tr></tfoot>\n</table>'
    )
    alert = (
        f'<div class="error" role="alert" id="error"><p>{html.escape(error)}</p></div>'
        if error
        else ""
    )
    fields = [_field("email", "Email", values["email"], "email", "email")]
    if session.shipping_address_collection:
        allowed = session.shipping_address_collection["allowed_countries"]
        fields += [
            "<fieldset><legend>Shipping address</legend>",
            _field("name", "Full name", values["name"], "text", "shipping name"),
            _field("line1", "Address", values["line1"], "text", "shipping address-line1"),
            _field("city", "City", values["city"], "text", "shipping address-level2"),
            _field("state", "State", values["state"], "text", "shipping address-level1"),
            _field(
                "postal_code", "ZIP code", values["postal_code"], "text", "shipping postal-code"
            ),
            _select(
                "country",
                "Country",
                [(c, c) for c in allowed],
                values["country"],
                "shipping country",
            ),
            "</fieldset>",
        ]
    fields.append(
        _select("payment_method", "Payment method", PAYMENT_CHOICES, values["payment_method"])
    )
    cancel = (
        f'<p><a href="{html.escape(session.cancel_url)}">Cancel and go back</a></p>'
        if session.cancel_url
        else ""
    )
    body = (
        f"<h1>Pay</h1>\n{alert}\n{summary}\n"
        f'<form method="post" action="{PAY_PATH}{html.escape(session.id)}">\n'
        + "\n".join(fields)
        + '\n<button type="submit">Pay</button>\n</form>\n'
        + cancel
    )
    return _page("Pay", body, status=status)


# --- installation ----------------------------------------------------------------------------


async def _sweep_forever() -> None:
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            for session in all_sessions():
                session._expire_if_due()
        except Exception:  # keep sweeping whatever one session does
            log.exception("expiring checkout sessions failed")


async def _expiry_sweeper(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_sweep_forever())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def install(app: web.Application) -> None:
    """Add the Checkout routes and the expiry sweeper to localstripe's `app` (before it runs)."""
    router = app.router
    router.add_post("/v1/checkout/sessions", create_session)
    router.add_get("/v1/checkout/sessions", list_sessions)
    router.add_get("/v1/checkout/sessions/{id}", retrieve_session)
    router.add_get("/v1/checkout/sessions/{id}/line_items", list_line_items)
    router.add_post("/v1/checkout/sessions/{id}/expire", expire_session)
    router.add_get(PAY_PATH + "{id}", pay_page)
    router.add_post(PAY_PATH + "{id}", pay)
    router.add_post(SETTLE_PATH + "{id}", settle)
    app.cleanup_ctx.append(_expiry_sweeper)
