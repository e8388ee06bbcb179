"""The Checkout Session, kept in localstripe's store, and finding it there."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from .clock import now
from .params import invalid
from .session_params import SessionParams
from .upstream import UserError, ls_resources

PAY_PATH = "/_config/checkout/pay/"
SETTLE_PATH = "/_config/checkout/settle/"
SESSION_ID_TEMPLATE = "{CHECKOUT_SESSION_ID}"


class CheckoutSession(ls_resources.StripeObject):  # type: ignore[misc]  # localstripe is untyped
    """A Checkout Session in localstripe's store.

    localstripe exports every attribute without a leading underscore (and every public
    property or method!), so private state and helpers start with `_`.
    """

    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(self, params: SessionParams, base_url: str) -> None:
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
                raise invalid(f"This property cannot be expanded ({path}).", "expand")
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


def get_session(session_id: str) -> CheckoutSession:
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
