"""Settings, from defaults, then the environment, then what create_app() is given.

With SHOP_ENV=production, create_app() refuses to start (ConfigError, listing every problem)
while a secret is missing or still has its development or offline value below, or while
STRIPE_API_BASE points at the offline Stripe: see production_problems().
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# From a checkout (pyproject.toml beside the package), its content/ and instance/ are the
# defaults. Installed from a wheel, nothing of the checkout is there: CONTENT_DIR must name the
# content, and the instance folder is Flask's for an installed package.
FROM_CHECKOUT = (PROJECT_ROOT / "pyproject.toml").is_file()
INSTANCE = PROJECT_ROOT / "instance" if FROM_CHECKOUT else Path(sys.prefix, "var", "shop-instance")

# Read from the environment when set; names match the config keys.
ENVIRONMENT_KEYS = (
    "CONTENT_DIR",
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
    "STRIPE_TIMEOUT_SECONDS",
    "VERIFY_RATE_LIMIT",
    "SIGNIN_RATE_LIMIT",
    "RESULTS_API_RATE_LIMIT",
    "ORG_VERIFY_RATE_LIMIT",
    "TRUSTED_PROXIES",
    "OB_SIGNING_KEY",
    "OB_SIGNING_KEY_FILE",
    "OB_RETIRED_PUBLIC_KEYS",
    "PORT",
    "SESSION_IDLE_MINUTES",
    "SESSION_MAX_HOURS",
    "STAFF_SESSION_IDLE_MINUTES",
    "STAFF_SESSION_MAX_HOURS",
)
SESSION_LIFETIME_KEYS = ENVIRONMENT_KEYS[-4:]

# The development values of the secrets: fine on a laptop, refused in production.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key"
DEVELOPMENT_RESULTS_API_SECRET = "development-only-results-secret"
OFFLINE_STRIPE_SECRET_KEY = "sk_test_offline"
OFFLINE_STRIPE_WEBHOOK_SECRET = "whsec_offline"
SECRET_KEY_MIN_LENGTH = 32
DEVELOPMENT_SIGNING_KEY_FILE = INSTANCE / "ob-signing-key.dev"
# The program's calendar (retake waits, the two-year window, when an authorization was bought).
DEFAULT_TIME_ZONE = "America/New_York"


class ConfigError(RuntimeError):
    """The configuration cannot be used (in production: a secret missing or left at its
    development value). The message lists every problem found, one per line."""

    def __init__(
        self, problems: list[str], heading: str = "the shop cannot start in production"
    ) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{heading}:\n{lines}")


def defaults() -> dict[str, Any]:
    return {
        "SHOP_ENV": "development",
        "SECRET_KEY": DEVELOPMENT_SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{INSTANCE / 'shop.sqlite3'}",
        # The site's content, program.toml in it (PROGRAM_FILE follows unless given): see
        # content_paths().
        "CONTENT_DIR": PROJECT_ROOT / "content" if FROM_CHECKOUT else None,
        # Where the static site lives (KWA links on the dashboard); "" means the same host.
        "SITE_URL": "",
        # The shop's own public address: every absolute link it sends out, and the one host
        # it answers to. "" in production is refused; elsewhere see shop.hosts.init_app.
        "SHOP_URL": "",
        "RESULTS_API_SECRET": DEVELOPMENT_RESULTS_API_SECRET,
        "RESULTS_API_MAX_AGE_SECONDS": 300,
        "SIGN_IN_LINK_MINUTES": 15,
        # Calendar days (retake waits, the two-year window) are counted in this zone.
        "TIME_ZONE": DEFAULT_TIME_ZONE,
        "SMTP_HOST": "",
        "SMTP_PORT": 25,
        "SMTP_USERNAME": "",
        "SMTP_PASSWORD": "",
        "SMTP_STARTTLS": False,
        "MAIL_FROM": "CPT program <no-reply@cpt.example.org>",
        "OUTBOX_DIR": INSTANCE / "outbox",
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        # Stripe: live keys in production; in development and tests the offline fake
        # (python -m shop.payments.offline) at STRIPE_API_BASE with any sk_test_ key.
        "STRIPE_SECRET_KEY": OFFLINE_STRIPE_SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": OFFLINE_STRIPE_WEBHOOK_SECRET,
        "STRIPE_API_BASE": "",
        # Reverse proxies in front of the shop that set X-Forwarded-For, -Proto and -Host
        # (nginx: 1). 0 trusts no such header: clients connect to gunicorn directly.
        "TRUSTED_PROXIES": 0,
        # The Open Badges signing key (shop.openbadges.keys): a file, or the key itself in
        # OB_SIGNING_KEY. `make run` makes this development key; production refuses it.
        "OB_SIGNING_KEY_FILE": DEVELOPMENT_SIGNING_KEY_FILE,
        "OB_SIGNING_KEY": "",
        # Public Multikeys of keys signed with before, kept in the DID document.
        "OB_RETIRED_PUBLIC_KEYS": "",
        # Signed-in sessions (shop.web.session): idle since the last request, and at most
        # since sign-in; staff, who can refund and revoke, get shorter ones.
        "SESSION_IDLE_MINUTES": 60,
        "SESSION_MAX_HOURS": 12,
        "STAFF_SESSION_IDLE_MINUTES": 15,
        "STAFF_SESSION_MAX_HOURS": 8,
    }


def content_paths(config: Mapping[str, Any]) -> dict[str, Path]:
    """CONTENT_DIR as a path and PROGRAM_FILE (program.toml in it, unless given); ConfigError
    when there is no content folder to read (installed from a wheel, CONTENT_DIR unset)."""
    if not config.get("CONTENT_DIR"):
        raise ConfigError(
            [
                "CONTENT_DIR is not set: outside a checkout, set it to the site's content "
                "folder (the one that holds program.toml)"
            ],
            heading="the shop cannot start",
        )
    content = Path(config["CONTENT_DIR"])
    program = config.get("PROGRAM_FILE") or content / "program.toml"
    return {"CONTENT_DIR": content, "PROGRAM_FILE": Path(program)}


def from_environment() -> dict[str, Any]:
    found: dict[str, Any] = {key: os.environ[key] for key in ENVIRONMENT_KEYS if key in os.environ}
    for key in ("SMTP_PORT", "TRUSTED_PROXIES", "PORT", *SESSION_LIFETIME_KEYS):
        if key in found:
            found[key] = _whole_number(key, found[key])
    if "SMTP_STARTTLS" in found:
        found["SMTP_STARTTLS"] = found["SMTP_STARTTLS"].lower() in {"1", "true", "yes"}
    if "STRIPE_TIMEOUT_SECONDS" in found:
        found["STRIPE_TIMEOUT_SECONDS"] = float(found["STRIPE_TIMEOUT_SECONDS"])
    return found


def _whole_number(key: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{key} must be a whole number, not {text!r}") from None


def _shop_url_problems(url: str) -> list[str]:
    """Production's public address: set, well-formed and https (its cookies are Secure)."""
    from .hosts import ShopUrlError, accepted_hosts

    if not url:
        return ["SHOP_URL is not set (the shop's public address, like https://cpt.example.org)"]
    try:
        accepted_hosts(url)
    except ShopUrlError as error:
        return [str(error)]
    if not url.startswith("https://"):
        return [f"SHOP_URL must be an https:// address in production, not {url!r}"]
    return []


def production_problems(config: Mapping[str, Any]) -> list[str]:
    """What makes `config` unfit for production (empty when it is fine).

    Checked by create_app() when SHOP_ENV is "production": a missing secret, or one left at the
    development or offline value that anyone can read in this file, would let anybody sign
    session cookies, forge results or Stripe events.
    """
    problems = []
    secret_key = str(config.get("SECRET_KEY") or "")
    if not secret_key:
        problems.append("SECRET_KEY is not set")
    elif secret_key == DEVELOPMENT_SECRET_KEY:
        problems.append("SECRET_KEY is the development default")
    elif len(secret_key) < SECRET_KEY_MIN_LENGTH:
        problems.append(
            f"SECRET_KEY is shorter than {SECRET_KEY_MIN_LENGTH} characters "
            '(make one with: python -c "import secrets; print(secrets.token_urlsafe(48))")'
        )
    stripe_key = str(config.get("STRIPE_SECRET_KEY") or "")
    if not stripe_key:
        problems.append("STRIPE_SECRET_KEY is not set")
    elif stripe_key == OFFLINE_STRIPE_SECRET_KEY:
        problems.append("STRIPE_SECRET_KEY is the offline Stripe's default")
    webhook_secret = str(config.get("STRIPE_WEBHOOK_SECRET") or "")
    if not webhook_secret:
        problems.append("STRIPE_WEBHOOK_SECRET is not set")
    elif webhook_secret == OFFLINE_STRIPE_WEBHOOK_SECRET:
        problems.append("STRIPE_WEBHOOK_SECRET is the offline Stripe's default")
    results_secret = str(config.get("RESULTS_API_SECRET") or "")
    if not results_secret:
        problems.append("RESULTS_API_SECRET is not set")
    elif results_secret == DEVELOPMENT_RESULTS_API_SECRET:
        problems.append("RESULTS_API_SECRET is the development default")
    problems += _shop_url_problems(str(config.get("SHOP_URL") or ""))
    if config.get("STRIPE_API_BASE"):
        problems.append(
            f"STRIPE_API_BASE is set ({config['STRIPE_API_BASE']}): that is the offline Stripe; "
            "production talks to the real Stripe, so leave it unset"
        )
    return problems + _signing_key_problems(config)


def _signing_key_problems(config: Mapping[str, Any]) -> list[str]:
    from .openbadges.keys import key_problems

    key_file = Path(str(config.get("OB_SIGNING_KEY_FILE") or ""))
    if not config.get("OB_SIGNING_KEY") and key_file == DEVELOPMENT_SIGNING_KEY_FILE:
        return [
            "OB_SIGNING_KEY_FILE (or OB_SIGNING_KEY) is not set: the default is the "
            f"development key ({key_file})"
        ]
    return key_problems(config)
