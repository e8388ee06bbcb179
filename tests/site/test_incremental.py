"""The fast build gives Frozen-Flask's bytes, and a rebuild after any edit a clean build's."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.corpus import write_corpus
from sitegen import TEMPLATES
from sitegen.build import BuildError, BuildResult, build
from sitegen.content import ContentError
from sitegen.links import _Collector, collect

ROOT = Path(__file__).resolve().parents[2]


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def times(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*")}


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# -- the program site ------------------------------------------------------------------------


def test_the_build_gives_the_bytes_of_the_frozen_flask_build(
    built_site: BuildResult, tmp_path: Path, document_cache: Path
) -> None:
    from sitegen.freeze import freeze

    freeze(ROOT / "content", tmp_path / "frozen", cache_dir=document_cache)
    assert tree(tmp_path / "frozen") == tree(built_site.out_dir)


def test_a_rebuild_with_nothing_changed_renders_and_writes_nothing(
    content_copy: Path, tmp_path: Path, document_cache: Path
) -> None:
    out = tmp_path / "out"
    build(content_copy, out, cache_dir=document_cache)
    before = times(out)
    again = build(content_copy, out, cache_dir=document_cache)
    assert (again.rendered, again.written) == (0, 0)
    assert times(out) == before  # the search index too: pagefind did not run again
    clean = build(content_copy, tmp_path / "clean", cache_dir=document_cache)
    assert tree(out) == tree(clean.out_dir)


def _edit_body(content: Path) -> None:
    append(content / "faq.md", "\nOne more answer, with [a link](/policies/).\n")


def _edit_post(content: Path) -> None:  # its body is in the feed too
    append(content / "blog" / "retake-waits-explained.md", "\nA closing sentence.\n")


def _edit_menu_title(content: Path) -> None:  # shown in every page's menu
    replace_in(content / "faq.md", "title: Frequently asked questions", "title: Questions")


def _remove_post(content: Path) -> None:  # its page goes; the blog list, feed and sitemap change
    (content / "blog" / "diagnostic-report-guide.md").unlink()


def _edit_program(content: Path) -> None:  # the numbers in bodies and templates
    replace_in(content / "program.toml", "window_years = 2", "window_years = 3")


def test_an_edited_kwa_renders_again_only_the_documents_that_hold_it(
    content_copy: Path, tmp_path: Path, document_cache: Path
) -> None:
    out = tmp_path / "out"
    build(content_copy, out, search=False, cache_dir=document_cache)
    before = times(out)
    kwa = content_copy / "kwa" / "green" / "recycling-reuse.md"
    append(kwa, "\nOne more sentence about scrap.\n")
    again = build(content_copy, out, search=False, cache_dir=document_cache)
    changed = {f for f, t in times(out).items() if before.get(f) != t and "." in f}
    assert changed == {
        "modules/green/recycling-reuse/index.html",
        "documents/kwa-green.pdf",
        "documents/kwa-all.pdf",
    }
    assert again.rendered == 3
    assert b"scrap" in (out / "modules/green/recycling-reuse/index.html").read_bytes()


@pytest.mark.parametrize(
    ("edit", "rendered"),
    [
        (_edit_body, 1),
        (_edit_post, 2),  # the post and the feed
        (_edit_menu_title, None),
        (_remove_post, None),
        (_edit_program, None),
    ],
    ids=["page-body", "post-body", "menu-title", "removed-post", "program-data"],
)
def test_a_rebuild_after_an_edit_gives_the_bytes_of_a_clean_build(
    content_copy: Path,
    tmp_path: Path,
    document_cache: Path,
    edit: Callable[[Path], None],
    rendered: int | None,
) -> None:
    out = tmp_path / "out"
    build(content_copy, out, search=False, cache_dir=document_cache)
    before = times(out)
    edit(content_copy)
    again = build(content_copy, out, search=False, cache_dir=document_cache)
    clean = build(content_copy, tmp_path / "clean", search=False, cache_dir=document_cache)
    assert tree(out) == tree(clean.out_dir)
    if rendered is not None:
        assert again.rendered == rendered
        changed = {f for f, t in times(out).items() if before.get(f) != t and "." in f}
        assert len(changed) == again.written <= rendered


def test_a_file_the_build_did_not_make_is_removed(
    content_copy: Path, tmp_path: Path, document_cache: Path
) -> None:
    out = tmp_path / "out"
    build(content_copy, out, search=False, cache_dir=document_cache)
    (out / "old-page").mkdir()
    (out / "old-page" / "index.html").write_text("<p>left over</p>")
    (out / "faq" / "index.html").write_text("<p>edited by hand</p>")
    build(content_copy, out, search=False, cache_dir=document_cache)
    clean = build(content_copy, tmp_path / "clean", search=False, cache_dir=document_cache)
    assert tree(out) == tree(clean.out_dir)


def test_a_broken_link_added_in_a_rebuild_fails_it(
    content_copy: Path, tmp_path: Path, document_cache: Path
) -> None:
    out = tmp_path / "out"
    build(content_copy, out, search=False, cache_dir=document_cache)
    append(content_copy / "faq.md", "\nSee [the old page](/no-such-page/).\n")
    with pytest.raises(BuildError, match=r"faq\.md \(page /faq/\): link '/no-such-page/'"):
        build(content_copy, out, search=False, cache_dir=document_cache)
    # The page is fixed: the rebuild succeeds, checking every page's links from the cache.
    replace_in(content_copy / "faq.md", "/no-such-page/", "/policies/")
    build(content_copy, out, search=False, cache_dir=document_cache)


def test_a_url_for_an_unknown_endpoint_fails_the_build_and_names_the_template(
    content_copy: Path, tmp_path: Path, document_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitegen import app as site_app

    templates = tmp_path / "templates"
    shutil.copytree(site_app.TEMPLATES, templates)
    replace_in(templates / "post.html", "</article>", "{{ url_for('archive') }}</article>")
    monkeypatch.setattr(site_app, "TEMPLATES", templates)
    with pytest.raises(BuildError, match=r"template post\.html \(page /blog/.*'archive'"):
        build(content_copy, tmp_path / "out", search=False, cache_dir=document_cache)


def test_a_route_with_no_page_in_the_build_fails_it(
    content_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitegen import app as site_app

    routes = {**site_app.ROUTES, "archive": ("/archive/", site_app.ROUTES["blog"][1])}
    monkeypatch.setattr(site_app, "ROUTES", routes)
    with pytest.raises(BuildError, match=r"nothing is built for the route.*archive"):
        build(content_copy, tmp_path / "out", search=False)


def test_the_fast_link_reader_agrees_with_the_html_parser(built_site: BuildResult) -> None:
    pages = list(built_site.out_dir.rglob("*.html"))
    tricky = (
        '<!-- <a href="/commented/"> --><A HREF="/x/?a=1&amp;b=2" ID=top>x</A>'
        "<script>var s = '<a href=\"/in-script/\">';</script><img src='/i.svg' alt=\"a > b\">"
        '<meta property="og:url" content="https://cpt.example.org/"><p id="">'
        '<p data-id="q"><p title="x id=3"><p\nid="nl"><br/><p class=a id=b><a href>'
        '<a/href="/after-a-slash/"><IMG SRC="/upper.png">'
    )
    for text in [p.read_text(encoding="utf-8") for p in pages] + [tricky]:
        parser = _Collector()
        parser.feed(text)
        links, ids = collect(text)
        assert list(links) == parser.page.links
        assert set(ids) == parser.page.ids


@pytest.mark.parametrize(
    "link",
    ["/a/b/", "/a/b/#c", "/a?x=1#f", "/", "/a//b", "/.well-known/x", "/a/../b/", "/x#", "/x?",
     "/a b/", "/a%20b/", "/x#y#z", "//other.example/x", "../up/", "#top", "mailto:a@b.c"],
)  # fmt: skip
def test_a_link_is_resolved_as_urljoin_resolves_it(link: str) -> None:
    from urllib.parse import urljoin, urlsplit

    from sitegen.links import _split

    target = urlsplit(urljoin("/p/q/", link))
    assert _split("/p/q/", link) == (target.scheme, target.netloc, target.path, target.fragment)


# -- a plain folder of pages: the benchmark corpus ---------------------------------------------


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    write_corpus(60, tmp_path / "corpus")
    return tmp_path / "corpus"


def test_the_corpus_is_the_same_for_the_same_size(corpus: Path, tmp_path: Path) -> None:
    write_corpus(60, tmp_path / "again")
    assert tree(tmp_path / "again") == tree(corpus)
    assert len(list((corpus / "pages").rglob("*.md"))) == 60
    first = (corpus / "pages" / "kwa" / "m0000" / "k01.md").read_text(encoding="utf-8")
    assert first.startswith("---\ntitle: Activity 0.1, ")


def test_a_plain_folder_builds_one_page_per_file_and_a_list(corpus: Path, tmp_path: Path) -> None:
    result = build(corpus, tmp_path / "out", search=False)
    html = sorted(tree(result.out_dir))
    assert len(html) == 61 and "index.html" in html
    assert "kwa/m0001/k03/index.html" in html and "modules/m0005/index.html" in html
    page = (result.out_dir / "kwa" / "m0001" / "k03" / "index.html").read_text()
    assert "<table>" in page and '<h2 id="what-it-draws-on">' in page
    assert page.count('href="/kwa/m0001/k02/#what-it-draws-on"') == 1


def test_two_workers_give_the_bytes_of_one(corpus: Path, tmp_path: Path) -> None:
    one = build(corpus, tmp_path / "one", search=False, jobs=1)
    two = build(corpus, tmp_path / "two", search=False, jobs=2)
    assert tree(one.out_dir) == tree(two.out_dir)


def _plain_body(corpus: Path) -> None:
    append(corpus / "pages" / "kwa" / "m0002" / "k04.md", "\nOne more sentence.\n")


def _plain_title(corpus: Path) -> None:
    replace_in(corpus / "pages" / "kwa" / "m0002" / "k04.md", "title: ", "title: Renamed, ")


def _plain_new_page(corpus: Path) -> None:
    (corpus / "pages" / "extra.md").write_text(
        "---\ntitle: Extra\n---\nSee [a](/kwa/m0000/k01/).\n"
    )


@pytest.mark.parametrize(
    ("edit", "rendered"),
    [(_plain_body, 1), (_plain_title, 2), (_plain_new_page, 2)],  # the page (and the list)
    ids=["body", "title", "new-page"],
)
def test_a_plain_rebuild_renders_only_what_changed(
    corpus: Path, tmp_path: Path, edit: Callable[[Path], None], rendered: int
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    build(corpus, out, search=False, cache_dir=cache)
    edit(corpus)
    again = build(corpus, out, search=False, cache_dir=cache)
    assert again.rendered == rendered
    assert tree(out) == tree(build(corpus, tmp_path / "clean", search=False).out_dir)


def test_a_template_change_renders_every_page_from_the_converted_markdown(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    out, cache = tmp_path / "out", tmp_path / "cache"
    build(corpus, out, search=False, cache_dir=cache, templates=templates)
    replace_in(templates / "plain" / "page.html", "<main>", '<main class="changed">')

    def no_markdown(*args: object) -> None:
        raise AssertionError("Markdown converted again")

    monkeypatch.setattr("sitegen.render.BodyRenderer.render", no_markdown)
    again = build(corpus, out, search=False, cache_dir=cache, templates=templates, jobs=1)
    # Every output is rendered again (any template may be in any page); the list's bytes are
    # the same, so it is not written.
    assert (again.rendered, again.written) == (61, 60)
    monkeypatch.undo()
    clean = build(corpus, tmp_path / "clean", search=False, templates=templates)
    assert tree(out) == tree(clean.out_dir)


def test_a_link_to_a_removed_page_fails_the_rebuild(corpus: Path, tmp_path: Path) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    build(corpus, out, search=False, cache_dir=cache)
    (corpus / "pages" / "kwa" / "m0001" / "k02.md").unlink()  # k03 links to it, unchanged
    with pytest.raises(
        BuildError, match=r"k03\.md \(page /kwa/m0001/k03/\): link '/kwa/m0001/k02/"
    ):
        build(corpus, out, search=False, cache_dir=cache)


def test_a_rebuild_with_a_broken_link_left_as_it_was_fails_again(
    corpus: Path, tmp_path: Path
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    (corpus / "pages" / "kwa" / "m0001" / "k02.md").unlink()  # k03 links to it
    for _ in range(2):  # the second build changes nothing, and checks the links all the same
        with pytest.raises(BuildError, match=r"link '/kwa/m0001/k02/"):
            build(corpus, out, search=False, cache_dir=cache)


def test_a_rebuild_with_nothing_changed_checks_no_link_again(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    build(corpus, out, search=False, cache_dir=cache)

    def no_check(*args: object) -> list[object]:
        raise AssertionError("the links of the same files were all found last time")

    monkeypatch.setattr("sitegen.build.check", no_check)
    assert build(corpus, out, search=False, cache_dir=cache).rendered == 0


def test_a_plain_page_without_a_title_names_its_file_and_line(corpus: Path) -> None:
    page = corpus / "pages" / "kwa" / "m0000" / "k01.md"
    replace_in(page, "title:", "titel:")
    with pytest.raises(ContentError) as caught:
        build(corpus, corpus.parent / "out", search=False)
    assert f"{page}:1: missing field 'title' (expected non-empty text)" in str(caught.value)
    assert f"{page}:2: unknown field 'titel' (expected one of: description, title)" in str(
        caught.value
    )


def test_the_command_lines_write_a_corpus_and_build_it(tmp_path: Path) -> None:
    from bench.corpus import main as write
    from sitegen.__main__ import main

    write(["--pages", "25", "--out", str(tmp_path / "c")])
    command = ["build", "--content", str(tmp_path / "c"), "--out", str(tmp_path / "o")]
    assert main([*command, "--cache", str(tmp_path / "cache"), "--no-search"]) == 0
    assert len(list((tmp_path / "o").rglob("*.html"))) == 26


def test_an_undefined_name_in_a_template_names_the_template_and_page(
    corpus: Path, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    replace_in(templates / "plain" / "page.html", "<main>", "<main>{{ page.author }}")
    with pytest.raises(BuildError, match=r"template plain/page\.html \(page /kwa/.*'author'"):
        build(corpus, tmp_path / "out", search=False, templates=templates)


def test_a_removed_page_and_a_stray_file_leave_the_output(corpus: Path, tmp_path: Path) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    extra = corpus / "pages" / "extra" / "page.md"
    extra.parent.mkdir()
    extra.write_text("---\ntitle: Extra\n---\nText.\n")
    build(corpus, out, search=False, cache_dir=cache)
    assert (out / "extra" / "page" / "index.html").is_file()
    extra.unlink()
    build(corpus, out, search=False, cache_dir=cache)  # the folders are as it left them
    assert not (out / "extra").exists()
    (out / "kwa" / "m0001" / "stray.html").write_text("<p>not ours</p>")
    build(corpus, out, search=False, cache_dir=cache)  # a folder changed: it looks everywhere
    assert tree(out) == tree(build(corpus, tmp_path / "clean", search=False).out_dir)
