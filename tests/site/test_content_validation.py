"""A bad content file stops the build with its file, its line and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.content import ContentError, load_site


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(content: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_site(content)
    return [str(p) for p in caught.value.problems]


def test_the_real_content_loads_without_a_problem() -> None:
    site = load_site(Path(__file__).parents[2] / "content")
    assert len(site.kwas) == sum(len(m.kwas) for m in site.program.modules)
    assert len(site.posts) >= 3


FAQ_HEADER = "---\ntitle: Questions\ndescription: Short answers.\nnav: 7\n---\n"


@pytest.mark.parametrize(
    ("front_matter", "expected"),
    [
        pytest.param(
            "---\ndescription: Short answers.\n---\n",
            "faq.md:1: missing field 'title' (expected non-empty text)",
            id="missing-title",
        ),
        pytest.param(
            "---\ntitle: Questions\ndescription: Short answers.\nnav: seven\n---\n",
            "faq.md:4: field 'nav': expected a whole number, got 'seven'",
            id="nav-not-a-number",
        ),
        pytest.param(
            "---\ntitle: Questions\ndescripton: Short answers.\n---\n",
            "faq.md:3: unknown field 'descripton' "
            "(expected one of: description, nav, pictures, title, updated)",
            id="misspelt-field",
        ),
        pytest.param(
            "---\ntitle: Questions\ndescription: Short answers.\npictures: [retake-wait]\n---\n",
            "faq.md:4: field 'pictures': expected a list of pictures, each once, of: "
            "certification-window, retake-waits, got ['retake-wait']",
            id="unknown-picture",
        ),
        pytest.param(
            "---\ntitle: Questions\ndescription: Short answers.\npictures: retake-waits\n---\n",
            "faq.md:4: field 'pictures': expected a list of pictures",
            id="picture-not-a-list",
        ),
        pytest.param(
            "---\ntitle: Questions\ndescription: [not, text]\n---\n",
            "faq.md:3: field 'description': expected one line of plain text",
            id="description-not-text",
        ),
        pytest.param(
            "---\ntitle: ''\ndescription: Short answers.\n---\n",
            "faq.md:2: field 'title': expected non-empty text, got ''",
            id="empty-title",
        ),
        pytest.param(
            "---\ntitle: Questions\ntitle: Again\ndescription: Short answers.\n---\n",
            "faq.md:3: field 'title' is given twice",
            id="duplicate-field",
        ),
        pytest.param(
            '---\ntitle: Questions\ndescription: "unclosed\n---\n',
            "faq.md:",
            id="invalid-yaml",
        ),
        pytest.param("title: Questions\n", "faq.md:1: expected front matter", id="no-front-matter"),
        pytest.param(
            "---\ntitle: Questions\n", "faq.md:1: front matter is not closed", id="unclosed"
        ),
    ],
)
def test_a_bad_page_front_matter_names_its_file_and_line(
    content_copy: Path, front_matter: str, expected: str
) -> None:
    faq = content_copy / "faq.md"
    body = faq.read_text(encoding="utf-8").split("---", 2)[2]
    faq.write_text(front_matter + body, encoding="utf-8")
    problems = problems_of(content_copy)
    assert any(expected in p for p in problems), problems
    assert all(str(content_copy / "faq.md") in p for p in problems), problems


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("soon", "field 'date': expected a date written YYYY-MM-DD, got 'soon'"),
        ("2026-02-30", "field 'date': not a valid value (day is out of range for month)"),
        ("2026-09-15 10:00:00", "field 'date': expected a date written YYYY-MM-DD"),
    ],
)
def test_a_blog_post_with_a_bad_date_is_refused_with_its_line(
    content_copy: Path, date: str, expected: str
) -> None:
    post = next((content_copy / "blog").glob("*.md"))
    lines = post.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.startswith("date:"))
    lines[number] = f"date: {date}\n"
    post.write_text("".join(lines), encoding="utf-8")
    problems = problems_of(content_copy)
    assert any(f"{post}:{number + 1}: " in p and expected in p for p in problems), problems


def test_a_kwa_page_not_listed_in_the_program_file_is_refused(content_copy: Path) -> None:
    extra = content_copy / "kwa" / "safety" / "juggling.md"
    extra.write_text("---\ndescription: Not a real activity.\n---\nText.\n", encoding="utf-8")
    assert f"{extra}:1: KWA 'juggling' is not listed in program.toml" in problems_of(content_copy)


def test_a_kwa_listed_in_the_program_file_needs_its_page(content_copy: Path) -> None:
    page = content_copy / "kwa" / "quality" / "blueprint-reading.md"
    page.unlink()
    assert f"{page}:1: missing page for KWA 'blueprint-reading'" in problems_of(content_copy)


def test_a_module_page_for_an_unknown_module_is_refused(content_copy: Path) -> None:
    extra = content_copy / "modules" / "welding.md"
    extra.write_text("---\ndescription: Not a module.\n---\n", encoding="utf-8")
    assert f"{extra}:1: module 'welding' is not listed in program.toml" in problems_of(content_copy)


def test_a_kwa_page_may_not_set_its_own_title(content_copy: Path) -> None:
    page = content_copy / "kwa" / "safety" / "safety-orientation.md"
    replace_in(page, "---\n", "---\ntitle: Orientation\n")
    expected = f"{page}:2: unknown field 'title' (expected one of: description, updated)"
    assert expected in problems_of(content_copy)


def test_every_problem_of_a_tree_is_reported_at_once(content_copy: Path) -> None:
    replace_in(content_copy / "about.md", "title:", "titel:")
    replace_in(content_copy / "modules" / "green.md", "description:", "summary:")
    problems = problems_of(content_copy)
    assert any("about.md" in p for p in problems)
    assert any("green.md" in p for p in problems)


def test_a_bad_program_file_names_the_file_and_the_field(content_copy: Path) -> None:
    replace_in(content_copy / "program.toml", "window_years = 2", 'window_years = "two"')
    [problem] = problems_of(content_copy)
    assert "program.toml" in problem
    assert "policy.window_years: expected int, got 'two'" in problem


def test_an_unknown_name_in_a_body_expression_names_the_file_and_line(content_copy: Path) -> None:
    from sitegen.app import create_app

    page = content_copy / "about.md"
    text = page.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    lines.append("\nThe wait is {{ program.policy.no_such_number }} days.\n")
    page.write_text("".join(lines), encoding="utf-8")
    app = create_app({"CONTENT_DIR": content_copy})
    with app.test_request_context("/about/"), pytest.raises(ContentError) as caught:
        app.view_functions["page"](name="about")
    assert str(caught.value).startswith(f"{page}:{len(lines) + 1}: ")
    assert "no_such_number" in str(caught.value)


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_a_file_with_other_line_endings_reads_as_with_line_feeds(
    content_copy: Path, newline: str
) -> None:
    faq = content_copy / "faq.md"
    before = load_site(content_copy).pages["faq"].source
    faq.write_bytes(faq.read_bytes().replace(b"\n", newline.encode()))
    assert load_site(content_copy).pages["faq"].source == before


def test_a_file_that_is_not_utf8_is_refused(content_copy: Path) -> None:
    faq = content_copy / "faq.md"
    faq.write_bytes(faq.read_bytes() + b"\xff")
    assert problems_of(content_copy) == [f"{faq}:1: not UTF-8 text (invalid start byte)"]
