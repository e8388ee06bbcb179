"""Turn a content body into safe HTML: Jinja for policy numbers, then Markdown, then nh3."""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jinja2
import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

from .content import ContentError, ContentProblem, Source

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


def configure_jinja(env: jinja2.Environment) -> None:
    """What every renderer of our templates shares: strict names and our filters."""
    env.undefined = jinja2.StrictUndefined
    env.filters["money"] = money
    env.filters["ordinal"] = ordinal
    env.filters["prefix_ids"] = prefix_ids


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
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is not None:
                    self.links.append(value)


class _LinkExtension(Extension):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.registerExtension(self)
        md.treeprocessors.register(_LinkCollector(md, self.links), "cpt-links", 0)

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


class BodyRenderer:
    """One Markdown instance per process, reset between pages (building it is the slow part).

    With a `context`, a body is a Jinja template first; without, it is Markdown only.
    """

    def __init__(self, context: dict[str, Any] | None) -> None:
        self._links = _LinkExtension()
        self._markdown = markdown.Markdown(
            extensions=["tables", "fenced_code", "attr_list", "def_list", "sane_lists", "toc",
                        self._links],
            extension_configs={"tables": {"use_align_attribute": True}},
            output_format="html",
        )  # fmt: skip
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
        links = tuple(self._links.links)
        clean = nh3.clean(
            html,
            tags=set(ALLOWED_TAGS),
            attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
            url_schemes={"http", "https", "mailto"},
            link_rel=None,
        )
        return Rendered(clean, links)

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
