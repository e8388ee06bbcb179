"""Settings, from defaults, then the environment, then what create_app() is given."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE = PROJECT_ROOT / "instance"

# Read from the environment when set; names match the config keys.
ENVIRONMENT_KEYS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "SITE_URL",
    "SHOP_URL",
    "RESULTS_API_SECRET",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_STARTTLS",
    "MAIL_FROM",
    "REDIS_URL",
    "SHOP_ENV",
    "TIME_ZONE",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "VERIFY_RATE_LIMIT",
    "SIGNIN_RATE_LIMIT",
)


def defaults() -> dict[str, Any]:
    return {
        "SHOP_ENV": "development",
        "SECRET_KEY": "development-only-secret-key",
        "DATABASE_URL": f"sqlite:///{INSTANCE / 'shop.sqlite3'}",
        "PROGRAM_FILE": PROJECT_ROOT / "content" / "program.toml",
        "CONTENT_DIR": PROJECT_ROOT / "content",
        # Where the static site lives (KWA links on the dashboard); "" means the same host.
        "SITE_URL": "",
        # The shop's own public address, for links in mail; "" means the request's host.
        "SHOP_URL": "",
        "RESULTS_API_SECRET": "development-only-results-secret",
        "RESULTS_API_MAX_AGE_SECONDS": 300,
        "SIGN_IN_LINK_MINUTES": 15,
        # Calendar days (retake waits, the two-year window) are counted in this zone.
        "TIME_ZONE": "America/New_York",
        "SMTP_HOST": "",
        "SMTP_PORT": 25,
        "SMTP_USERNAME": "",
        "SMTP_PASSWORD": "",
        "SMTP_STARTTLS": False,
        "MAIL_FROM": "CPT program <no-reply@cpt.example.org>",
        "OUTBOX_DIR": INSTANCE / "outbox",
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        # Stripe: live keys in production; in development and tests the offline fake
        # (python -m shop.payments.fake_stripe) at STRIPE_API_BASE with any sk_test_ key.
        "STRIPE_SECRET_KEY": "sk_test_offline",
        "STRIPE_WEBHOOK_SECRET": "whsec_offline",
        "STRIPE_API_BASE": "",
    }


def from_environment() -> dict[str, Any]:
    found: dict[str, Any] = {key: os.environ[key] for key in ENVIRONMENT_KEYS if key in os.environ}
    if "SMTP_PORT" in found:
        found["SMTP_PORT"] = int(found["SMTP_PORT"])
    if "SMTP_STARTTLS" in found:
        found["SMTP_STARTTLS"] = found["SMTP_STARTTLS"].lower() in {"1", "true", "yes"}
    return found
