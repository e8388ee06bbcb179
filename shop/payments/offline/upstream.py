"""localstripe (a stateful fake Stripe, PyPI), the server this package extends."""

from __future__ import annotations

import warnings

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

__all__ = ["UserError", "ls_resources", "ls_server"]
