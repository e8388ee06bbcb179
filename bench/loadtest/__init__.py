"""Load and benchmark runs of the shop under gunicorn on 127.0.0.1 (issues #6 and #7).

    python -m bench.loadtest reliability   # `make reliability`: locust, SQLite and PostgreSQL,
                                          # writes docs/reliability.md
    python -m bench.loadtest bench         # `make shop-bench`: wrk against shop pages and a
                                          # bare Flask route, writes build/bench/shop.json and
                                          # docs/shop-performance.md

Everything runs on this machine and only on 127.0.0.1: a database made for the run (a SQLite
file in a temporary folder, or a PostgreSQL database created and dropped), seeded candidates,
the offline Stripe, an SMTP sink that keeps each sign-in mail, gunicorn serving
'shop:create_app()' exactly as deployed, and Python's http.server for the static site. Every
run is bounded in time and stops everything it started.

Modules: `stack` (the servers), `seed` (candidates), `mailsink` (sign-in mail), `locustfile`
(the virtual users, loaded by locust only), `reliability`, `shop_bench`, `bare` (the framework's
ceiling), `static` (the static site's server), `machine` (what the numbers were measured on).
"""
