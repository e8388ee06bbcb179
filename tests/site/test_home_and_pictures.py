"""The home page's ways in and module path, and the pictures drawn from program.toml's numbers."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from sitegen.pictures import (
    MARGIN,
    SHORTEST,
    WIDTH,
    retake_segments,
    window_bar,
    window_markers,
)

PROGRAM_ORDER = ["safety", "quality", "processes", "maintenance", "green"]


def edit_program(content: Path, old: str, new: str) -> None:
    program = content / "program.toml"
    text = program.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in program.toml"
    program.write_text(text.replace(old, new, 1), encoding="utf-8")


def move_module_first(content: Path, module_id: str) -> None:
    """Rewrite program.toml with one module's [[modules]] block before all the others."""
    program = content / "program.toml"
    head, *blocks = program.read_text(encoding="utf-8").split("[[modules]]\n")
    last, catalogue = blocks[-1].split("[[catalogue]]", 1)
    blocks[-1] = last
    chosen = next(b for b in blocks if b.startswith(f'id = "{module_id}"'))
    ordered = [chosen] + [b for b in blocks if b is not chosen]
    ordered = [b if b.endswith("\n\n") else b.rstrip("\n") + "\n\n" for b in ordered]
    text = head + "".join("[[modules]]\n" + b for b in ordered) + "[[catalogue]]" + catalogue
    program.write_text(text, encoding="utf-8")


def module_path_ids(html: str) -> list[str]:
    """The module ids of the home page's module list, in the page's order."""
    section = html.split('class="module-path"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<h3><a href="/modules/([a-z]+)/">', section)


def svg_texts(html: str) -> list[str]:
    """The text of every <text> and <title> inside the page's pictures."""

    class Texts(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth = 0
            self.open: str | None = None
            self.found: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.depth += tag == "svg"
            if self.depth and tag in {"text", "title"}:
                self.open = tag
                self.found.append("")

        def handle_endtag(self, tag: str) -> None:
            self.depth -= tag == "svg"
            if tag == self.open:
                self.open = None

        def handle_data(self, data: str) -> None:
            if self.open:
                self.found[-1] += data

    parser = Texts()
    parser.feed(html)
    return [" ".join(text.split()) for text in parser.found]


def test_the_home_page_lists_the_modules_once_in_program_toml_order(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert module_path_ids(html) == PROGRAM_ORDER
    # One list: the home page's body no longer repeats the modules as a second list.
    assert html.count('href="/modules/green/"') == 1


def test_a_content_tree_with_another_module_order_changes_the_home_pages_order(
    client: FlaskClient, content_copy: Path
) -> None:
    move_module_first(content_copy, "green")
    html = client.get("/").get_data(as_text=True)
    assert module_path_ids(html) == ["green", "safety", "quality", "processes", "maintenance"]


def test_the_modules_index_follows_program_toml_order_too(
    client: FlaskClient, content_copy: Path
) -> None:
    move_module_first(content_copy, "maintenance")
    html = client.get("/modules/").get_data(as_text=True)
    ids = re.findall(r'<h2><a href="/modules/([a-z]+)/">', html)
    assert ids == ["maintenance", "safety", "quality", "processes", "green"]


def test_the_required_modules_are_numbered_steps_and_green_is_marked_optional(
    client: FlaskClient,
) -> None:
    html = client.get("/").get_data(as_text=True)
    section = html.split('class="module-path"', 1)[1].split("</section>", 1)[0]
    cards = re.findall(r'<li class="card[^"]*">(.*?)</li>', section, re.S)
    steps = [re.search(r"Step (\d) of (\d), required|Optional", card) for card in cards]
    assert [s.group(0) if s else None for s in steps] == [
        "Step 1 of 4, required",
        "Step 2 of 4, required",
        "Step 3 of 4, required",
        "Step 4 of 4, required",
        "Optional",
    ]


@pytest.mark.parametrize(
    ("heading", "action", "href"),
    [
        ("Earn CPT", "How to start", "/assessments/"),
        ("Your credentials", "Sign in", "/shop/signin"),
        ("Employers", "For employers", "/employers/"),
    ],
)
def test_the_home_page_starts_with_three_ways_in_each_with_one_action(
    client: FlaskClient, heading: str, action: str, href: str
) -> None:
    html = client.get("/").get_data(as_text=True)
    ways = html.split('<nav class="ways-in" aria-label="Ways in">', 1)[1].split("</nav>", 1)[0]
    assert html.index('class="ways-in"') < html.index('class="module-path"')
    items = re.findall(r'<li class="way">(.*?)</li>', ways, re.S)
    assert len(items) == 3
    item = next(i for i in items if f">{heading}</h2>" in i)
    assert re.findall(r'<a [^>]*href="([^"]+)"[^>]*>([^<]+)</a>', item) == [(href, action)]


@pytest.mark.parametrize(
    ("waits", "labels", "absent"),
    [
        ("[15, 15, 60]", ["15 days", "15 days", "60 days", "60 days"], "10 days"),
        ("[10, 20, 45]", ["10 days", "20 days", "45 days", "45 days"], "15 days"),
        ("[7, 30]", ["7 days", "30 days", "30 days"], "60 days"),
    ],
    ids=["program", "three-other-waits", "two-waits"],
)
def test_the_retake_waits_picture_draws_its_labels_from_program_toml(
    client: FlaskClient, content_copy: Path, waits: str, labels: list[str], absent: str
) -> None:
    edit_program(content_copy, "retake_waits_days = [15, 15, 60]", f"retake_waits_days = {waits}")
    html = client.get("/policies/").get_data(as_text=True)
    picture = html.split('aria-labelledby="waits-title"', 1)[1].split("</figure>", 1)[0]
    texts = svg_texts("<svg " + picture)
    assert [t for t in texts if re.fullmatch(r"\d+ days", t)] == labels
    assert not any(absent in t for t in texts)
    last = labels[-1].split()[0]
    assert f"then {last} days after every later fail" in texts
    # The text equivalent says the same, every later failure included.
    caption = re.search(r"<figcaption>(.*?)</figcaption>", picture, re.S)
    assert caption and f"and {last} days after every later failure." in " ".join(
        caption.group(1).split()
    )


@pytest.mark.parametrize("years", [2, 3])
def test_the_window_picture_draws_its_years_and_passes_from_program_toml(
    client: FlaskClient, content_copy: Path, years: int
) -> None:
    edit_program(content_copy, "window_years = 2", f"window_years = {years}")
    html = client.get("/").get_data(as_text=True)
    picture = html.split('aria-labelledby="window-title"', 1)[1].split("</figure>", 1)[0]
    texts = svg_texts("<svg " + picture)
    assert f"{years} calendar years" in texts
    assert f"Closes {years} years on" in texts
    assert [t for t in texts if t.isdigit()] == ["1", "2", "3", "4"]
    assert texts[0].startswith(f"Full CPT: 4 required modules passed inside one window of {years}")


def test_the_window_picture_numbers_as_many_passes_as_there_are_required_modules(
    client: FlaskClient, content_copy: Path
) -> None:
    maintenance = 'id = "maintenance"\nname = "Maintenance Awareness"\nrequired = '
    edit_program(content_copy, maintenance + "true", maintenance + "false")
    html = client.get("/policies/").get_data(as_text=True)
    picture = html.split('aria-labelledby="window-title"', 1)[1].split("</figure>", 1)[0]
    texts = svg_texts("<svg " + picture)
    assert [t for t in texts if t.isdigit()] == ["1", "2", "3"]
    assert "Maintenance Awareness, Green Production: optional, outside the window" in texts


@pytest.mark.parametrize(
    "waits", [(15, 15, 60), (10, 20, 45), (1, 365), (30,), (5, 5, 5, 5, 5, 5)], ids=str
)
def test_the_retake_segments_fill_the_picture_and_grow_with_their_days(
    waits: tuple[int, ...],
) -> None:
    segments = retake_segments(waits)
    assert [s.days for s in segments] == [*waits, waits[-1]]
    assert [s.repeats for s in segments] == [False] * len(waits) + [True]
    assert segments[0].x == MARGIN
    assert segments[-1].end == pytest.approx(WIDTH - MARGIN, abs=0.2)
    for before, after in itertools.pairwise(segments):
        assert after.x == pytest.approx(before.end, abs=0.2)  # no gap, no overlap
    floor = min(SHORTEST, (WIDTH - 2 * MARGIN) / len(segments))
    assert all(s.width >= floor - 0.1 for s in segments)
    by_days = sorted(segments, key=lambda s: s.days)
    assert [s.width for s in by_days] == sorted(s.width for s in segments)


@pytest.mark.parametrize("count", [1, 4, 7])
def test_the_window_markers_start_at_the_window_and_stay_inside_it(count: int) -> None:
    markers = window_markers(count)
    assert [m.number for m in markers] == list(range(1, count + 1))
    assert markers[0].x == MARGIN
    assert all(MARGIN <= m.x < WIDTH - MARGIN for m in markers)


@pytest.mark.parametrize(
    ("day", "x", "inside"),
    [
        (dt.date(2025, 2, 1), MARGIN, True),  # before the window: at its start
        (dt.date(2025, 3, 1), MARGIN, True),
        (dt.date(2026, 3, 1), MARGIN + (WIDTH - 2 * MARGIN) * 365 / 730, True),
        (dt.date(2027, 3, 1), WIDTH - MARGIN, True),  # the closing day is still inside
        (dt.date(2027, 3, 2), WIDTH - MARGIN, False),  # after it: at the end, and said late
    ],
)
def test_a_day_on_the_window_bar_sits_in_proportion_and_within_its_ends(
    day: dt.date, x: float, inside: bool
) -> None:
    bar = window_bar(dt.date(2025, 3, 1), dt.date(2027, 3, 1), day, [("1", day)], [])
    assert bar.today.x == pytest.approx(x, abs=0.1)
    assert bar.passes[0].x == bar.today.x
    assert bar.today.inside is inside
