"""python -m bench.loadtest.static --directory DIR PORT: the built site over Python's http.server.

`python -m http.server` as it is would measure itself rather than the load: it listens with a
backlog of 5 connections (under load, connections wait for a SYN retry: a whole second) and
closes the connection after every answer (HTTP/1.0). This is the same server with a backlog
of 1024 and keep-alive (HTTP/1.1), on 127.0.0.1 only, a stand-in for the production web server.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
from collections.abc import Sequence
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: thousands of requests
        pass


class Server(ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest.static")
    parser.add_argument("--directory", required=True)
    parser.add_argument("port", type=int)
    args = parser.parse_args(argv)
    handler = functools.partial(Handler, directory=args.directory)
    with (
        Server(("127.0.0.1", args.port), handler) as server,
        contextlib.suppress(KeyboardInterrupt),
    ):
        server.serve_forever()


if __name__ == "__main__":
    main()
