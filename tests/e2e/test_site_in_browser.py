"""The built site as a visitor sees it: navigation, search, layout, accessibility, print, and
its security headers (served from its `_headers` file, see conftest.py) with no page, search or
document refused anything by its Content-Security-Policy."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Frame, Locator, Page, expect

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
ColorScheme = Literal["light", "dark"]
SCHEMES: list[ColorScheme] = ["light", "dark"]
MENU_BUTTON = ".site-nav summary"
# The pages of the main menu (front matter `nav`); the menu adds modules, news, search, account.
PROGRAM_NAV = [p for p in (ROOT / "content").glob("*.md") if "\nnav: " in p.read_text("utf-8")]

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


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize(("name", "path"), PAGE_TYPES, ids=PAGE_IDS)
def test_each_page_type_fits_the_screen_without_sideways_scrolling(
    page: Page, name: str, path: str, width: int, scheme: ColorScheme
) -> None:
    page.set_viewport_size({"width": width, "height": WIDTHS[width]})
    page.emulate_media(color_scheme=scheme)
    open_page(page, path)
    target = SCREENSHOTS / scheme / str(width) / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=target, full_page=True)

    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width == width, f"{path} is {scroll_width}px wide at {width}px ({scheme})"


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(("name", "path"), PAGE_TYPES, ids=PAGE_IDS)
def test_each_page_type_has_no_serious_accessibility_violations(
    page: Page, name: str, path: str, scheme: ColorScheme
) -> None:
    page.emulate_media(color_scheme=scheme)
    open_page(page, path)
    violations = serious_axe_violations(page)
    assert not violations, f"axe on {path} ({scheme}):\n{describe(violations)}"


def test_the_dark_scheme_changes_the_pages_colours(page: Page) -> None:
    background = "getComputedStyle(document.documentElement).backgroundColor"
    page.goto("/")
    assert page.evaluate(background) == "rgb(255, 255, 255)"
    page.emulate_media(color_scheme="dark")
    assert page.evaluate(background) == "rgb(15, 23, 32)"


def menu_link(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name="Policies")


def test_on_a_phone_the_menu_opens_and_closes_with_the_mouse(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": WIDTHS[390]})
    page.goto("/modules/")
    button = page.locator(MENU_BUTTON)
    expect(button).to_be_visible()
    expect(menu_link(page)).to_be_hidden()

    button.click()
    expect(menu_link(page)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    button.click()
    expect(menu_link(page)).to_be_hidden()

    button.click()
    menu_link(page).click()
    expect(page).to_have_url(re.compile(r"/policies/$"))


@pytest.mark.parametrize("key", ["Enter", " "], ids=["enter", "space"])
def test_on_a_phone_the_menu_opens_and_closes_from_the_keyboard(page: Page, key: str) -> None:
    page.set_viewport_size({"width": 390, "height": WIDTHS[390]})
    page.goto("/modules/")
    for _ in range(3):  # the skip link, the brand, then the menu button
        page.keyboard.press("Tab")
    expect(page.locator(MENU_BUTTON)).to_be_focused()
    expect(menu_link(page)).to_be_hidden()

    page.keyboard.press(key)
    expect(menu_link(page)).to_be_visible()
    page.keyboard.press(key)
    expect(menu_link(page)).to_be_hidden()

    page.keyboard.press(key)
    for _ in range(len(PROGRAM_NAV) + 4):  # into the open menu, link by link
        if menu_link(page).evaluate("link => link === document.activeElement"):
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/policies/$"))


def test_on_a_desktop_every_menu_link_shows_without_a_button(page: Page) -> None:
    page.set_viewport_size({"width": 1280, "height": WIDTHS[1280]})
    page.goto("/modules/")
    expect(page.locator(MENU_BUTTON)).to_be_hidden()
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    expect(links).to_have_count(len(PROGRAM_NAV) + 4)
    for index in range(links.count()):
        expect(links.nth(index)).to_be_visible()
    # One row under the name: every link's top is the same.
    tops = links.evaluate_all("links => links.map(l => Math.round(l.getBoundingClientRect().top))")
    assert len(set(tops)) == 1, tops


@pytest.mark.parametrize(("name", "path"), [("home", "/"), ("content-page", "/policies/")])
def test_at_1280_px_the_text_keeps_a_readable_measure_while_the_cards_use_the_width(
    page: Page, name: str, path: str
) -> None:
    page.set_viewport_size({"width": 1280, "height": WIDTHS[1280]})
    page.goto(path)
    prose = page.locator(".prose").first.bounding_box()
    main = page.locator("main").bounding_box()
    assert prose and main
    assert prose["width"] <= 44 * 16 + 1  # 44rem: about 75 characters a line
    assert main["width"] >= 1200
    if name == "home":
        ways = page.locator(".way").evaluate_all(
            "items => items.map(i => Math.round(i.getBoundingClientRect().top))"
        )
        assert len(ways) == 3 and len(set(ways)) == 1, "the three ways in sit on one row"
    else:
        figures = page.locator(".pictures .picture").evaluate_all(
            "items => items.map(i => Math.round(i.getBoundingClientRect().top))"
        )
        assert len(figures) == 2 and len(set(figures)) == 1, "the two pictures sit side by side"


def test_printing_the_policies_keeps_the_pictures_in_dark_ink_on_white(page: Page) -> None:
    page.emulate_media(color_scheme="dark")
    page.goto("/policies/")
    page.emulate_media(media="print", color_scheme="dark")
    label = page.locator(".picture .pic-label").first
    assert label.evaluate("element => getComputedStyle(element).fill") == "rgb(0, 0, 0)"
    expect(page.locator(".picture").first).to_be_visible()
    background = "getComputedStyle(document.body).backgroundColor"
    assert page.evaluate(background) == "rgb(255, 255, 255)"


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
