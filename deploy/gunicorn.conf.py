"""gunicorn's settings for the shop, as deployed and as load-tested.

    gunicorn -c deploy/gunicorn.conf.py 'shop:create_app()'

`make reliability` and `make shop-bench` start the shop (and the bare Flask route they compare
it with) from this file, so what they measure is what runs in production. A command-line
option wins over the file (the load tests give their own `--bind`).
"""

bind = "127.0.0.1:8000"  # behind the web server on the same host, which sends it /shop/

# Two processes per core: Python runs one thread at a time per process, so the processes are
# what use the cores, and a second one per core runs while the first waits on the database.
workers = 4
# Threads for the waits that are not ours to shorten: a checkout waits on Stripe (up to about
# three times STRIPE_TIMEOUT_SECONDS, with the stripe library's retries) and a sign-in on the
# mail server. A waiting request holds one thread, not a whole process.
worker_class = "gthread"
threads = 4

# One request per connection, as behind nginx (which talks HTTP/1.0 to its upstreams by
# default, so every request is a new connection anyway). A gthread worker keeps a kept-alive
# connection to itself and nothing moves it: under wrk's 20 connections the four workers have
# held 0, 2, 3 and 16 of them, and then one process (one core, by the GIL) serves most
# requests while the machine sits half idle. Measured on this machine with make shop-bench,
# with gunicorn's default (2 s) the same page ran at 222 requests/s on all cores in one run
# and 93 on about half of them in the next; closed after each response, it pays a connect per
# request and never stalls like that.
keepalive = 0

accesslog = None  # the web server in front logs each request
errorlog = "-"
