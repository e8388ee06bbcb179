"""python -m shop.payments.offline [--port 8420]: the offline Stripe on 127.0.0.1."""

from .server import main

main()
