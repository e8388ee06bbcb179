"""The offline Stripe for development and tests: localstripe plus our Checkout add-on.

Run it:  python -m shop.payments.offline [--port 8420]   (port 0: any free port)
In tests: with FakeStripe.start() as fake: ...  then point the `stripe` library at fake.url:
    stripe.StripeClient("sk_test_x", base_addresses={"api": fake.url})

It listens on 127.0.0.1 only and writes nothing to disk. What it adds to localstripe 1.15
(a stateful fake Stripe, PyPI), module by module:

- server: the start-up (localstripe made ours, once), FakeStripe, and the command;
- Checkout Sessions (session_params, line_items, sessions, api): created, listed, retrieved,
  expired, kept in localstripe's own store (so `DELETE /_config/data` forgets them too);
- the hosted pay page (pay, pay_form, pages): payments are real localstripe PaymentIntents
  confirmed through its resource classes; routes installed with the expiry sweeper (routes);
- `Idempotency-Key` on every POST /v1/... route (idempotency): the same key with the same
  request replays the first (successful) answer, with another request it is refused as
  Stripe refuses it;
- refunds as at Stripe (refunds): partial ones add up, a refund without an amount takes what
  is left of the charge, one for more than is left or of a refunded charge is refused
  (localstripe takes the whole charge again, or any amount); and the `charge.refunded` (with
  the charge's cumulative `amount_refunded`) and `refund.created` events for each;
- `events[]=*` when registering a webhook (POST /_config/webhooks/{id}) means every event, as
  in Stripe (events); localstripe would match "*" literally and send nothing.

Events: `checkout.session.completed` when the pay page takes a payment (card: paid; bank
transfer: unpaid until settled), `checkout.session.async_payment_succeeded` / `..._failed`
when a bank transfer settles, `checkout.session.expired` on expire or once `expires_at` has
passed (checked on every access and once a second). localstripe itself adds
`payment_intent.succeeded` / `payment_intent.payment_failed` for the PaymentIntent.

Webhooks are localstripe's: registered with POST /_config/webhooks/{id} (url, secret,
events[]), sent about one second after the event, once, signed for
`stripe.Webhook.construct_event`.

localstripe's state (its store and its webhooks) is global to the process, so one FakeStripe
runs at a time in a process.
"""

from __future__ import annotations

from .server import FakeStripe

__all__ = ["FakeStripe"]
