"""The Stripe API routes of Checkout Sessions, authenticated like every localstripe route.

POST /v1/checkout/sessions                  create (mode=payment, price_data line items)
GET  /v1/checkout/sessions                  list (payment_intent, customer, status)
GET  /v1/checkout/sessions/{id}             retrieve (expand: payment_intent, line_items)
GET  /v1/checkout/sessions/{id}/line_items  the session's line items
POST /v1/checkout/sessions/{id}/expire      expire an open session
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .params import as_integer, checked_expand, invalid, unknown
from .session_params import parse_create
from .sessions import CheckoutSession, all_sessions, get_session
from .upstream import ls_server


def json_response(data: Any, status: int = 200) -> web.Response:
    response: web.Response = ls_server.json_response(data, status=status)
    return response


def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def post_data(request: web.Request) -> dict[str, Any]:
    data = await ls_server.get_post_data(request)
    if not data:
        return {}
    if not isinstance(data, dict):
        raise invalid("Invalid request body")
    return data


async def create_session(request: web.Request) -> web.Response:
    data = await post_data(request)
    expand = checked_expand(data.pop("expand", None))
    session = CheckoutSession(parse_create(data), _base_url(request))
    return json_response(session._export(expand=expand))


async def retrieve_session(request: web.Request) -> web.Response:
    session = get_session(request.match_info["id"])
    query = ls_server.unflatten_data(request.query)
    return json_response(session._export(expand=checked_expand(query.pop("expand", None))))


async def list_sessions(request: web.Request) -> web.Response:
    query: dict[str, Any] = ls_server.unflatten_data(request.query)
    expand = checked_expand(query.pop("expand", None))
    limit = as_integer(query.pop("limit", 10), "limit", minimum=1)
    starting_after = query.pop("starting_after", None)
    filters = {
        key: query.pop(key) for key in ("payment_intent", "customer", "status") if key in query
    }
    if query:
        raise unknown(next(iter(query)))
    sessions = all_sessions()
    for session in sessions:
        session._expire_if_due()
    sessions = [s for s in sessions if all(getattr(s, k) == v for k, v in filters.items())]
    start = 0
    if starting_after is not None:
        ids = [s.id for s in sessions]
        start = ids.index(starting_after) + 1 if starting_after in ids else len(ids)
    deeper = [p.removeprefix("data.") for p in expand]
    return json_response(
        {
            "object": "list",
            "data": [s._export(expand=deeper) for s in sessions[start : start + limit]],
            "has_more": start + limit < len(sessions),
            "url": "/v1/checkout/sessions",
        }
    )


async def list_line_items(request: web.Request) -> web.Response:
    session = get_session(request.match_info["id"])
    query: dict[str, Any] = ls_server.unflatten_data(request.query)
    expand = checked_expand(query.pop("expand", None))
    limit = as_integer(query.pop("limit", 10), "limit", minimum=1)
    starting_after = query.pop("starting_after", None)
    if query:
        raise unknown(next(iter(query)))
    return json_response(session._line_items_list(limit, starting_after, expand))


async def expire_session(request: web.Request) -> web.Response:
    session = get_session(request.match_info["id"])
    data = await post_data(request)
    expand = checked_expand(data.pop("expand", None))
    if data:
        raise unknown(next(iter(data)))
    if session.status != "open":
        raise invalid(
            'Only Checkout Sessions with a status in ["open"] can be expired.',
            code="checkout_session_not_open",
        )
    session._expire()
    return json_response(session._export(expand=expand))
