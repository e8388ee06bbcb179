"""The organisation offer's page says what the shop does, with program.toml's numbers."""

from __future__ import annotations

import html
import re
from pathlib import Path

from shop.domain.program import load_program
from sitegen.build import BuildResult
from sitegen.render import money

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = load_program(ROOT / "content" / "program.toml")


def words(built_site: BuildResult) -> str:
    page = (built_site.out_dir / "organisations" / "index.html").read_text(encoding="utf-8")
    main = page[page.index("<main") : page.index("</main>")]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def test_the_page_gives_the_fee_the_waits_and_the_window_from_the_program_file(
    built_site: BuildResult,
) -> None:
    text = words(built_site)
    fee = money(PROGRAM.item("assessment-fee-safety").price_cents)
    assert f"Each assessment costs {fee} per module" in text
    for number, wait in enumerate(PROGRAM.policy.retake_waits_days, start=1):
        assert f"{wait} calendar days after the {number}" in text
    assert f"and {PROGRAM.policy.retake_waits_days[-1]} after every later one" in text
    assert (
        f"all {len(PROGRAM.required_modules)} required modules passed within "
        f"{PROGRAM.policy.window_years} years"
    ) in text
    assert "no organisation discount applies" in text  # retake_discounts_allowed = false


def test_the_page_names_the_bulk_limit_the_shop_enforces(built_site: BuildResult) -> None:
    from shop.services.bulk_verify import MAX_ROWS

    assert f"up to {MAX_ROWS:,} at a time" in words(built_site)


def test_the_employers_page_links_to_it(built_site: BuildResult) -> None:
    page = (built_site.out_dir / "employers" / "index.html").read_text(encoding="utf-8")
    assert 'href="/organisations/"' in page


def test_the_page_offers_vouchers_with_the_expiry_from_the_program_file(
    built_site: BuildResult,
) -> None:
    text = words(built_site)
    assert f"A voucher expires {PROGRAM.policy.voucher_months} months after purchase" in text
    assert "not on sale yet" not in text
