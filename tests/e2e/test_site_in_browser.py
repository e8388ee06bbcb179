"""The built site as a visitor sees it: navigation, search, layout, accessibility, print, and
its security headers (served from its `_headers` file, see conftest.py) with no page, search or
document refused anything by its Content-Security-Policy."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Frame, Page, expect

from sitegen.headers import DOCUMENT_POLICY, headers_for

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = tomllib.loads((ROOT / "content" / "program.toml").read_text(encoding="utf-8"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "build" / "screenshots"

KWA_URL = "/modules/maintenance/recognize-maintenance-issues/"
# Words found in that KWA page and on no other page of the site.
KWA_ONLY_PHRASE = "pinhole leak"

# One page of each type the site has: (name, path).
PAGE_TYPES = [
    ("home", "/"),
    ("content-page", "/policies/"),
    ("modules", "/modules/"),
    ("module", "/modules/safety/"),
    ("kwa", KWA_URL),
    ("blog", "/blog/"),
    ("post", "/blog/retake-waits-explained/"),
    ("search", "/search/"),
    ("not-found", "/no-such-page/"),
]
PAGE_IDS = [name for name, _ in PAGE_TYPES]
WIDTHS = {390: 844, 1280: 800}  # viewport width: height (phone, desktop)
BLOCKING_IMPACTS = {"serious", "critical"}

DOCUMENT_URL = "/documents/kwa-safety.pdf"
PDF_VIEWER = "chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/"  # Chrome's built-in viewer
VIOLATION = "CSP violation:"  # how the page's listener reports a securitypolicyviolation event
REPORT_VIOLATIONS = f"""
document.addEventListener("securitypolicyviolation", (event) => {{
  console.error(`{VIOLATION} ${{event.effectiveDirective}} refused ${{event.blockedURI}}`);
}});
"""

SEARCH_INPUT = ".pagefind-ui__search-input"
SEARCH_RESULT_LINK = ".pagefind-ui__result-link"


def kwa_title(module_id: str, slug: str) -> str:
    module = next(m for m in PROGRAM["modules"] if m["id"] == module_id)
    title: str = next(k["title"] for k in module["kwas"] if k["slug"] == slug)
    return title


def open_page(page: Page, path: str) -> None:
    """Go to a page and wait until it is complete (the search box is drawn by a script)."""
    page.goto(path)
    if path == "/search/":
        expect(page.locator(SEARCH_INPUT)).to_be_visible()


def search_for(page: Page, words: str) -> list[str]:
    """Type into the search box and return the paths of the result links once they appear."""
    page.locator(SEARCH_INPUT).fill(words)
    expect(page.locator(SEARCH_RESULT_LINK).first).to_be_visible()
    hrefs: list[str] = page.locator(SEARCH_RESULT_LINK).evaluate_all(
        "links => links.map(link => link.href)"
    )
    return [urlsplit(href).path for href in hrefs]


@pytest.fixture
def csp_reports(page: Page) -> list[str]:
    """What the browser says against the Content-Security-Policy while the test runs: violation
    events, and the errors it logs in the page or a worker (a refused WebAssembly compile)."""
    reports: list[str] = []

    def note(text: str) -> None:
        if VIOLATION in text or "content security policy" in text.lower():
            reports.append(text)

    page.add_init_script(REPORT_VIOLATIONS)  # runs in each new document, outside its CSP
    page.on("console", lambda message: note(message.text))
    page.on("pageerror", lambda error: note(str(error)))
    page.on("worker", lambda worker: worker.on("console", lambda message: note(message.text)))
    return reports


def pdf_viewer(page: Page) -> Frame:
    """Chrome's PDF viewer: an extension page in a frame of its own, once it has been added."""
    for _ in range(50):
        viewer = next((f for f in page.frames if f.url.startswith(PDF_VIEWER)), None)
        if viewer is not None:
            return viewer
        page.wait_for_timeout(100)
    raise AssertionError(f"no PDF viewer in {page.url}: frames {[f.url for f in page.frames]}")


def serious_axe_violations(page: Page) -> list[dict[str, Any]]:
    page.evaluate(AXE.read_text())  # not a <script> tag: the site's CSP forbids inline scripts
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(map(str, node["target"])) for node in v["nodes"][:3]]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(targets)}")
    return "\n".join(lines)


def test_a_visitor_clicks_from_the_home_page_through_a_module_to_a_key_work_activity(
    page: Page, site_server: str
) -> None:
    title = kwa_title("safety", "safe-productive-workplace")
    page.goto("/")
    modules = page.get_by_role("region", name="The five modules")
    modules.get_by_role("link", name="Safety", exact=True).click()
    expect(page).to_have_url(f"{site_server}/modules/safety/")

    page.get_by_role("region", name="Key Work Activities").get_by_role(
        "link", name=title, exact=True
    ).click()
    expect(page).to_have_url(f"{site_server}/modules/safety/safe-productive-workplace/")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_searching_a_phrase_finds_the_one_key_work_activity_that_contains_it(page: Page) -> None:
    open_page(page, "/search/")
    assert KWA_URL in search_for(page, KWA_ONLY_PHRASE)


def test_a_missing_page_answers_404_with_the_sites_own_not_found_page(page: Page) -> None:
    response = page.goto("/no-such-page/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize(("name", "path"), PAGE_TYPES, ids=PAGE_IDS)
def test_each_page_type_fits_the_screen_without_sideways_scrolling(
    page: Page, name: str, path: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": WIDTHS[width]})
    open_page(page, path)
    target = SCREENSHOTS / str(width) / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=target, full_page=True)

    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width + 1, f"{path} scrolls sideways at {width}px: {scroll_width}px wide"


@pytest.mark.parametrize(("name", "path"), PAGE_TYPES, ids=PAGE_IDS)
def test_each_page_type_has_no_serious_accessibility_violations(
    page: Page, name: str, path: str
) -> None:
    open_page(page, path)
    violations = serious_axe_violations(page)
    assert not violations, f"axe on {path}:\n{describe(violations)}"


def test_search_results_have_no_serious_accessibility_violations(page: Page) -> None:
    open_page(page, "/search/")
    search_for(page, KWA_ONLY_PHRASE)
    violations = serious_axe_violations(page)
    assert not violations, f"axe on /search/ with results:\n{describe(violations)}"


def test_printing_a_key_work_activity_hides_the_site_header(page: Page) -> None:
    page.goto(KWA_URL)
    header = page.locator(".site-header")
    display = "element => getComputedStyle(element).display"
    assert header.evaluate(display) != "none"

    page.emulate_media(media="print")
    assert header.evaluate(display) == "none"


@pytest.mark.parametrize(("name", "path"), PAGE_TYPES, ids=PAGE_IDS)
def test_each_page_type_carries_the_security_headers_and_breaks_no_rule_of_its_csp(
    page: Page, csp_reports: list[str], name: str, path: str
) -> None:
    response = page.goto(path)
    assert response is not None
    if path == "/search/":
        expect(page.locator(SEARCH_INPUT)).to_be_visible()  # pagefind's scripts have run
    served = response.headers
    expected = headers_for(path)
    assert {header: served.get(header.lower()) for header in expected} == expected
    assert not csp_reports, f"{path}: {csp_reports}"


def test_a_search_finds_results_under_the_csp_with_its_webassembly(
    page: Page, csp_reports: list[str]
) -> None:
    open_page(page, "/search/")
    assert KWA_URL in search_for(page, KWA_ONLY_PHRASE)
    assert not csp_reports, csp_reports


def test_a_kwa_document_opens_in_the_pdf_viewer_under_the_documents_policy(
    page: Page, csp_reports: list[str]
) -> None:
    served = page.request.get(DOCUMENT_URL)
    assert served.ok and served.headers["content-type"] == "application/pdf"
    assert served.headers["content-security-policy"] == DOCUMENT_POLICY
    assert served.headers["x-content-type-options"] == "nosniff"

    response = page.goto(DOCUMENT_URL)
    assert response is not None and response.ok
    expect(pdf_viewer(page).locator("pdf-viewer")).to_be_attached()
    assert not csp_reports, csp_reports
