"""Turn a content body into safe HTML: Jinja for policy numbers, then Markdown, then nh3."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jinja2
import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.attr_list import AttrListTreeprocessor
from markdown.extensions.toc import (
    TocExtension,
    TocTreeprocessor,
    remove_fnrefs,
    render_inner_html,
    strip_tags,
    unique,
)
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import InlineProcessor, Treeprocessor, UnescapeTreeprocessor
from markdown.util import Registry
from markupsafe import Markup

from . import structured_data
from .content import ContentError, ContentProblem, Source
from .pictures import TEMPLATE_GLOBALS as PICTURE_GLOBALS

# What Markdown produces and content may use; anything else (script, style, iframe,
# event handlers) is dropped, so a content file cannot inject code into a page.
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
        "h2", "h3", "h4", "h5", "h6", "hr", "img", "li", "ol", "p", "pre", "span",
        "strong", "sup", "sub", "table", "tbody", "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align"},
    "th": {"align"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "h5": {"id"},
    "h6": {"id"},
    "li": {"id"},
    "sup": {"id"},
    "div": {"class"},
}
_CLEAN_RULES: dict[str, Any] = {
    "tags": set(ALLOWED_TAGS),
    "attributes": {k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
    "url_schemes": {"http", "https", "mailto"},
    "link_rel": None,
}
# Python-Markdown's extensions that content may use (the build adds its own, see _Extension).
EXTENSIONS = ("tables", "fenced_code", "attr_list", "def_list", "sane_lists", "toc")


def configure_jinja(env: jinja2.Environment) -> None:
    """What every renderer of our templates shares: strict names and our filters."""
    env.undefined = jinja2.StrictUndefined
    env.filters["money"] = money
    env.filters["ordinal"] = ordinal
    env.filters["prefix_ids"] = prefix_ids
    env.filters["absolute_links"] = absolute_links
    env.globals.update(PICTURE_GLOBALS)
    # schema.org JSON-LD of the module and full certification pages (site URL, url_for given).
    env.globals["module_credential"] = structured_data.module_credential
    env.globals["full_certification_credential"] = structured_data.full_certification


def absolute_links(html: str, page_url: str) -> str:
    """A body's HTML with every relative href and src resolved against its page's address.

    For the feed: its entries are read away from the site, where "/modules/" or "#note" lead
    nowhere. The body is sanitised again with the same rules, which changes nothing else.
    """
    cleaner = nh3.Cleaner(**_CLEAN_RULES, url_relative=("rewrite_with_base", page_url))
    return cleaner.clean(html)


def money(cents: int) -> str:
    """Integer cents as dollars: 6000 -> $60.00."""
    dollars, rest = divmod(cents, 100)
    return f"${dollars:,}.{rest:02d}"


def ordinal(number: int) -> str:
    """1 -> 1st, 2 -> 2nd, 11 -> 11th, 23 -> 23rd."""
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


_ID = re.compile(r'(\sid="|\shref="#)([^"]+)"')


def prefix_ids(html: str, prefix: str) -> Markup:
    """Give every id (and every #link to one) a prefix, so bodies can share one document."""
    return Markup(_ID.sub(lambda m: f'{m.group(1)}{prefix}-{m.group(2)}"', str(html)))


class _LinkCollector(Treeprocessor):
    """Records every href and src in the converted body, for the build's link check."""

    def __init__(self, md: markdown.Markdown, links: list[str]) -> None:
        super().__init__(md)
        self.links = links

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            attributes = element.attrib
            if attributes:  # most elements have none
                for attribute in ("href", "src"):
                    value = attributes.get(attribute)
                    if value is not None:
                        self.links.append(value)


# -- Python-Markdown, page by page ----------------------------------------------------------------
#
# Markdown tries each of its inline patterns on each run of text, and runs each treeprocessor over
# the whole tree, whatever a page holds; yet most of them need a character that a page may not hold
# at all (a code span "`", a link "[", an HTML tag "<"). So once the preprocessors are done,
# _PagePlan reads the page's text as the parser will see it (code blocks and HTML blocks stashed
# away) and leaves out what cannot match there: the same HTML, sooner. A test holds it to the
# output of a Markdown instance without the plan.

# Each inline pattern's texts, one of which it needs to match: its regular expression matches
# nothing without it (in the text after the preprocessors, whose tabs are spaces by then). A
# reference link shows only what a definition ("[id]: url") gave, so it needs "]:". A pattern not
# named here (say, one a later Markdown adds) is always tried.
_INLINE_NEEDS: dict[str, tuple[str, ...]] = {
    "backtick": ("`",),
    "escape": ("\\",),
    "reference": ("]:",),
    "link": ("[",),
    "image_link": ("![",),
    "image_reference": ("]:",),
    "short_reference": ("]:",),
    "short_image_ref": ("]:",),
    "autolink": ("<",),
    "automail": ("<",),
    "linebreak": ("  \n",),
    "html": ("<",),
    "entity": ("&",),
    "em_strong": ("*", "_"),
}


# The same for block processors, tried on every block: each text is one the processor's test
# needs in the block (a quote needs ">", an indented block four spaces). Nested blocks (list
# items, quotes) are the page's text with indents and markers taken away, which never makes such
# a text where there was none.
_BLOCK_NEEDS: dict[str, tuple[str, ...]] = {
    "indent": ("    ",),
    "defindent": ("    ",),
    "code": ("    ",),
    "hashheader": ("#",),
    "table": ("|",),
    "quote": (">",),
    "reference": ("]:",),
    "deflist": (": ",),
}


class _AttrList(AttrListTreeprocessor):
    """attr_list's treeprocessor, skipped on a page without "{": it has no attribute list."""

    active = True

    def run(self, doc: etree.Element) -> None:
        if self.active:
            super().run(doc)


class _Unescape(UnescapeTreeprocessor):
    """Restores backslash-escaped characters; skipped on a page without a backslash."""

    active = True

    def run(self, root: etree.Element) -> None:
        if self.active:
            super().run(root)


class _Toc(TocTreeprocessor):
    """toc's treeprocessor; on a page without its marker, only the headings' ids.

    Without a marker the table of contents goes nowhere (the build never reads `md.toc`), yet
    toc builds it, serializes it and runs the postprocessors over it for every page. The ids
    are given as toc gives them: the same slugs, made unique against the same ids.
    """

    def run(self, doc: etree.Element) -> None:
        if self.marker or self.use_anchors or self.use_permalinks:
            super().run(doc)
            return
        used = {el.attrib["id"] for el in doc.iter() if "id" in el.attrib}
        counters: dict[str, int] = {}
        for el in doc.iter():
            if isinstance(el.tag, str) and self.header_rgx.match(el.tag):
                self.set_level(el)
                if "id" not in el.attrib:
                    name = strip_tags(render_inner_html(remove_fnrefs(el), self.md))
                    slug = self.slugify(html.unescape(name), self.sep)
                    el.attrib["id"] = unique(slug, used, counters)
                el.attrib.pop("data-toc-label", None)


class _TocExtension(TocExtension):
    TreeProcessorClass = _Toc


class _BlockTags(list[str]):
    """Markdown's block-level tags, asked for every element it prettifies: a set answers faster.

    Markdown reads the list and extensions may add to it while the instance is built; nothing
    changes it once it is wrapped, at the end.
    """

    def __init__(self, tags: list[str]) -> None:
        super().__init__(tags)
        self._set = frozenset(tags)

    def __contains__(self, tag: object) -> bool:
        return tag in self._set


class _PagePlan(Preprocessor):
    """Runs after the other preprocessors: gives the page only what its text can use."""

    def __init__(self, md: markdown.Markdown, attr_list: _AttrList, unescape: _Unescape) -> None:
        super().__init__(md)
        inline, toc = md.treeprocessors["inline"], md.treeprocessors["toc"]
        assert isinstance(inline, InlineProcessor) and isinstance(toc, TocTreeprocessor)
        self._inline, self._toc, self._marker = inline, toc, toc.marker
        self._attr_list, self._unescape = attr_list, unescape
        patterns = md.inlinePatterns
        names = {id(patterns[name]): name for name in _INLINE_NEEDS if name in patterns}
        # Markdown's patterns in the order it applies them, each with what it needs.
        self._patterns = [(p, _INLINE_NEEDS.get(names.get(id(p), ""))) for p in patterns]
        self._registries: dict[tuple[int, ...], Registry[Any]] = {}  # by the patterns chosen
        self._parser = md.parser
        blocks = md.parser.blockprocessors
        names = {id(blocks[name]): name for name in _BLOCK_NEEDS if name in blocks}
        self._blocks = [(p, _BLOCK_NEEDS.get(names.get(id(p), ""))) for p in blocks]
        self._block_registries: dict[tuple[int, ...], Registry[Any]] = {}

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        chosen = tuple(
            i
            for i, (_, needs) in enumerate(self._patterns)
            if needs is None or any(need in text for need in needs)
        )
        self._inline.inlinePatterns = self._registry(chosen)
        blocks = tuple(
            i
            for i, (_, needs) in enumerate(self._blocks)
            if needs is None or any(need in text for need in needs)
        )
        self._parser.blockprocessors = self._block_registry(blocks)
        # Without its marker, the toc extension only gives the headings their ids.
        self._toc.marker = self._marker if self._marker and self._marker in text else ""
        self._attr_list.active = "{" in text
        self._unescape.active = "\\" in text  # what EscapeInlineProcessor stashes
        return lines

    def _registry(self, chosen: tuple[int, ...]) -> Registry[Any]:
        """The chosen patterns, in Markdown's order; made once for each choice."""
        registry = self._registries.get(chosen)
        if registry is None:
            registry = self._registries[chosen] = Registry()
            for i in chosen:
                registry.register(self._patterns[i][0], str(i), -i)  # the first comes first
        return registry

    def _block_registry(self, chosen: tuple[int, ...]) -> Registry[Any]:
        """The chosen block processors, in Markdown's order; made once for each choice."""
        registry = self._block_registries.get(chosen)
        if registry is None:
            registry = self._block_registries[chosen] = Registry()
            for i in chosen:
                registry.register(self._blocks[i][0], str(i), -i)
        return registry


class _Extension(Extension):
    """Our additions: the page plan and the link collector. Must come after the others."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.registerExtension(self)
        # In the places of those they stand for (the same names and priorities).
        attr_list, unescape = _AttrList(md), _Unescape(md)
        md.treeprocessors.register(attr_list, "attr_list", 8)
        md.treeprocessors.register(unescape, "unescape", 0)
        # After unescape (the same priority, registered later): it reads the links as written.
        md.treeprocessors.register(_LinkCollector(md, self.links), "cpt-links", 0)
        md.preprocessors.register(_PagePlan(md, attr_list, unescape), "cpt-plan", 0)
        md.block_level_elements = _BlockTags(md.block_level_elements)

    def reset(self) -> None:
        self.links.clear()


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    links: tuple[str, ...]


Body = Callable[[Source], Markup]  # a page's Markdown as safe HTML


@dataclass(frozen=True, slots=True)
class View:
    """What one URL shows: a template and its context (and, for some, how the result is served)."""

    template: str
    context: dict[str, Any]
    filename: str | None = None  # served with the type a static host guesses from this name
    document: bool = False  # the rendered HTML becomes a PDF
    image: bool = False  # the rendered text becomes a social card (a PNG, sitegen.cards)


class BodyRenderer:
    """One Markdown instance per process, reset between pages (building it is the slow part).

    With a `context`, a body is a Jinja template first; without, it is Markdown only.
    """

    def __init__(self, context: dict[str, Any] | None) -> None:
        self._extension = _Extension()
        self._markdown = markdown.Markdown(
            extensions=[
                *(_TocExtension() if name == "toc" else name for name in EXTENSIONS),
                self._extension,
            ],
            extension_configs={"tables": {"use_align_attribute": True}},
            output_format="html",
        )
        self._cleaner = nh3.Cleaner(**_CLEAN_RULES)
        self._jinja = jinja2.Environment(
            undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
        )
        self._jinja.filters["money"] = money
        self._jinja.filters["ordinal"] = ordinal
        self._context = context

    def render(self, source: Source) -> Rendered:
        text = self._expand(source)
        self._markdown.reset()
        html = self._markdown.convert(text)
        return Rendered(self._cleaner.clean(html), tuple(self._extension.links))

    def _expand(self, source: Source) -> str:
        """Run the body through Jinja so policy numbers come from the data file."""
        if self._context is None or not has_expressions(source.body):
            return source.body
        try:
            return self._jinja.from_string(source.body).render(self._context)
        except jinja2.TemplateSyntaxError as error:
            line = source.body_line + (error.lineno or 1) - 1
            raise ContentError([ContentProblem(source.path, line, error.message or "")]) from None
        except (jinja2.UndefinedError, AttributeError, KeyError, TypeError) as error:
            where = source.body_line + _jinja_error_line(error) - 1
            problem = ContentProblem(source.path, where, f"in a {{{{ }}}}: {error}")
            raise ContentError([problem]) from None
        except Exception as error:  # any other failure in a content expression
            raise ContentError(
                [ContentProblem(source.path, source.body_line, str(error))]
            ) from None


def has_expressions(body: str) -> bool:
    """Whether a body holds Jinja, so that its HTML depends on the program data."""
    return "{{" in body or "{%" in body


def _jinja_error_line(error: BaseException) -> int:
    """The template line of a runtime Jinja error, from its traceback."""
    tb = error.__traceback__
    line = 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
