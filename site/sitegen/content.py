"""Load the content folder into typed, validated objects.

Every problem is reported with the file and the line it is on, and all problems
are reported at once, so the content team fixes a tree in one pass.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shop.domain.program import Kwa, Module, Program

PROGRAM_FILE = "program.toml"
PLAIN_PAGES = "pages"  # a folder without program.toml: every Markdown file under it is a page
# Pages at the top of content/ with their own URL (index.md is the home page).
RESERVED_PAGE_NAMES = frozenset({"modules", "blog", "documents", "search", "static", "pagefind"})


@dataclass(frozen=True, slots=True)
class ContentProblem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentError(Exception):
    """The content folder holds one or more problems; the build stops."""

    def __init__(self, problems: Iterable[ContentProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class Source:
    """A Markdown file split into its front matter and its body."""

    path: Path
    body: str
    body_line: int  # the line of the file on which the body starts
    front: str = ""  # the front matter as written: what lists and menus show of the page


@dataclass(frozen=True, slots=True)
class Page:
    name: str  # "index" for the home page, else the file stem
    title: str
    description: str
    source: Source
    nav: int | None = None
    updated: dt.date | None = None  # when it last changed, for the sitemap
    pictures: tuple[str, ...] = ()  # of PICTURES, drawn after the lead


@dataclass(frozen=True, slots=True)
class ModulePage:
    module: Module
    description: str
    source: Source
    updated: dt.date | None = None

    @property
    def title(self) -> str:
        return self.module.name


@dataclass(frozen=True, slots=True)
class KwaPage:
    module: Module
    kwa: Kwa
    description: str
    source: Source
    updated: dt.date | None = None

    @property
    def title(self) -> str:
        return self.kwa.title


@dataclass(frozen=True, slots=True)
class Post:
    slug: str
    title: str
    description: str
    date: dt.date
    author: str
    source: Source


@dataclass(frozen=True)
class Site:
    program: Program
    pages: Mapping[str, Page]
    modules: Mapping[str, ModulePage]  # in program.toml's order
    kwas: Mapping[tuple[str, str], KwaPage]
    posts: tuple[Post, ...]  # newest first
    root: Path = field(default=Path("content"))

    @property
    def nav_pages(self) -> list[Page]:
        return sorted((p for p in self.pages.values() if p.nav is not None), key=_nav_key)

    def kwas_of(self, module_id: str) -> list[KwaPage]:
        module = self.program.module(module_id)
        return [self.kwas[(module_id, kwa.slug)] for kwa in module.kwas]


def _nav_key(page: Page) -> tuple[int, str]:
    return (page.nav or 0, page.name)


# -- front matter ------------------------------------------------------------------------------

Checker = Callable[[Any], str | None]  # returns what was expected, or None when the value is fine


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    return "non-empty text"


def _short_text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip() and len(value) <= 200 and "\n" not in value.strip():
        return None
    return "one line of plain text of at most 200 characters"


def _whole_number(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return None
    return "a whole number"


# The pictures a page may ask for (site/templates/_pictures.html draws them).
PICTURES = ("certification-window", "retake-waits")


def _pictures(value: Any) -> str | None:
    known = isinstance(value, list) and value and all(v in PICTURES for v in value)
    if known and len(set(value)) == len(value):
        return None
    return f"a list of pictures, each once, of: {', '.join(PICTURES)}"


def _date(value: Any) -> str | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return None
    return "a date written YYYY-MM-DD"


@dataclass(frozen=True, slots=True)
class Schema:
    required: Mapping[str, Checker]
    optional: Mapping[str, Checker] = field(default_factory=dict)


PAGE_SCHEMA = Schema(
    {"title": _text, "description": _short_text},
    {"nav": _whole_number, "updated": _date, "pictures": _pictures},
)
MODULE_SCHEMA = Schema({"description": _short_text}, {"updated": _date})
KWA_SCHEMA = Schema({"description": _short_text}, {"updated": _date})
POST_SCHEMA = Schema(
    {"title": _text, "description": _short_text, "date": _date, "author": _text},
)


def read_source(
    path: Path, schema: Schema, problems: list[ContentProblem]
) -> tuple[Source, dict[str, Any]] | None:
    """Split a file into front matter and body, and check the front matter against a schema."""
    try:
        text = read_text(path)
    except UnicodeDecodeError as error:
        problems.append(ContentProblem(path, 1, f"not UTF-8 text ({error.reason})"))
        return None
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        problems.append(ContentProblem(path, 1, "expected front matter starting with '---'"))
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
    if end is None:
        problems.append(ContentProblem(path, 1, "front matter is not closed by a '---' line"))
        return None
    front = "".join(lines[1:end])
    source = Source(path, "".join(lines[end + 1 :]), end + 2, front)
    fields = _parse_front_matter(path, front, problems)
    if fields is None:
        return None
    before = len(problems)
    values: dict[str, Any] = {}
    for name, (line, value) in fields.items():
        checker = schema.required.get(name) or schema.optional.get(name)
        if checker is None:
            allowed = ", ".join(sorted([*schema.required, *schema.optional]))
            problems.append(
                ContentProblem(path, line, f"unknown field {name!r} (expected one of: {allowed})")
            )
            continue
        expected = checker(value)
        if expected is not None:
            problems.append(
                ContentProblem(path, line, f"field {name!r}: expected {expected}, got {value!r}")
            )
            continue
        values[name] = value.strip() if isinstance(value, str) else value
    for name, checker in schema.required.items():
        if name not in fields:
            problems.append(
                ContentProblem(path, 1, f"missing field {name!r} (expected {checker(None)})")
            )
    return (source, values) if len(problems) == before else None


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """A file's bytes in four system calls, where open() makes seven: builds read thousands."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(descriptor, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(descriptor)
    return b"".join(chunks)


def read_text(path: Path) -> str:
    """A file's text as Path.read_text(encoding="utf-8") gives it: universal newlines too."""
    text = read_bytes(path).decode("utf-8")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


# Front matter that parsed without a problem, by its text. A build seeds it from its cache so an
# unchanged tree is not parsed again; the same text always gives the same fields, so a hit cannot
# be stale, and text that had a problem is never kept, so its problems are always reported.
FRONT_MATTER_MEMO: dict[str, dict[str, tuple[int, Any]]] = {}


def _parse_front_matter(
    path: Path, front: str, problems: list[ContentProblem]
) -> dict[str, tuple[int, Any]] | None:
    """Parse YAML front matter into {field: (line, value)}; lines count from the file's top."""
    known = FRONT_MATTER_MEMO.get(front)
    if known is not None:
        return known
    before = len(problems)
    fields = _compose_front_matter(path, front, problems)
    if fields is not None and len(problems) == before:
        FRONT_MATTER_MEMO[front] = fields
    return fields


def _compose_front_matter(
    path: Path, front: str, problems: list[ContentProblem]
) -> dict[str, tuple[int, Any]] | None:
    import yaml  # only here: a rebuild finds the front matter it has read before in the memo

    try:
        node = yaml.compose(front, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error)
        problems.append(ContentProblem(path, line, f"front matter is not valid YAML: {problem}"))
        return None
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        problems.append(ContentProblem(path, 2, "front matter must be 'field: value' lines"))
        return None
    # A constructor alone: a whole SafeLoader (reader, scanner, parser) costs ten times more.
    constructor = yaml.constructor.SafeConstructor()
    fields: dict[str, tuple[int, Any]] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 2  # +1 for 1-based lines, +1 for the opening '---'
        key = key_node.value
        if key in fields:
            problems.append(ContentProblem(path, line, f"field {key!r} is given twice"))
            continue
        try:
            value = constructor.construct_object(value_node, deep=True)
        except (yaml.YAMLError, ValueError) as error:  # e.g. a date of 30 February
            problems.append(
                ContentProblem(path, line, f"field {key!r}: not a valid value ({error})")
            )
            continue
        fields[key] = (line, value)
    return fields


# -- the whole tree ----------------------------------------------------------------------------


def load_site(root: Path) -> Site:
    """Load and validate every file under `root`; raise ContentError listing every problem."""
    # Imported here: the shop package pulls in Flask, which a plain site's build never needs.
    from shop.domain.program import ProgramDataError, load_program

    problems: list[ContentProblem] = []
    try:
        program = load_program(root / PROGRAM_FILE)
    except (OSError, ProgramDataError) as error:
        raise ContentError([ContentProblem(root / PROGRAM_FILE, 1, str(error))]) from None
    pages = _load_pages(root, problems)
    modules = _load_modules(root, program, problems)
    kwas = _load_kwas(root, program, problems)
    posts = _load_posts(root, problems)
    if problems:
        raise ContentError(problems)
    return Site(program, pages, modules, kwas, posts, root)


def _load_pages(root: Path, problems: list[ContentProblem]) -> dict[str, Page]:
    pages: dict[str, Page] = {}
    for path in sorted(root.glob("*.md")):
        if path.stem in RESERVED_PAGE_NAMES:
            problems.append(ContentProblem(path, 1, f"{path.stem!r} is a reserved page name"))
            continue
        loaded = read_source(path, PAGE_SCHEMA, problems)
        if loaded:
            source, v = loaded
            pages[path.stem] = Page(
                path.stem,
                v["title"],
                v["description"],
                source,
                v.get("nav"),
                v.get("updated"),
                tuple(v.get("pictures", ())),
            )
    if "index" not in pages and not any(p.path.name == "index.md" for p in problems):
        problems.append(ContentProblem(root / "index.md", 1, "the home page is missing"))
    return pages


def _load_modules(
    root: Path, program: Program, problems: list[ContentProblem]
) -> dict[str, ModulePage]:
    found: dict[str, ModulePage] = {}
    known = {m.id: m for m in program.modules}
    for path in sorted((root / "modules").glob("*.md")):
        module = known.get(path.stem)
        if module is None:
            problems.append(ContentProblem(path, 1, _not_in_program("module", path.stem)))
            continue
        loaded = read_source(path, MODULE_SCHEMA, problems)
        if loaded:
            source, v = loaded
            found[module.id] = ModulePage(module, v["description"], source, v.get("updated"))
    for module in program.modules:
        path = root / "modules" / f"{module.id}.md"
        if not path.exists():
            problems.append(ContentProblem(path, 1, f"missing page for module {module.id!r}"))
    # In program.toml's order, the program's own, never the files' (which put Green first).
    return {m.id: found[m.id] for m in program.modules if m.id in found}


def _load_kwas(
    root: Path, program: Program, problems: list[ContentProblem]
) -> dict[tuple[str, str], KwaPage]:
    found: dict[tuple[str, str], KwaPage] = {}
    known = {(m.id, k.slug): (m, k) for m in program.modules for k in m.kwas}
    module_ids = {m.id for m in program.modules}
    for path in sorted((root / "kwa").glob("*/*.md")):
        key = (path.parent.name, path.stem)
        if key not in known:
            what = "KWA" if path.parent.name in module_ids else "module"
            name = path.stem if what == "KWA" else path.parent.name
            problems.append(ContentProblem(path, 1, _not_in_program(what, name)))
            continue
        loaded = read_source(path, KWA_SCHEMA, problems)
        if loaded:
            source, v = loaded
            module, kwa = known[key]
            found[key] = KwaPage(module, kwa, v["description"], source, v.get("updated"))
    for module_id, slug in known:
        path = root / "kwa" / module_id / f"{slug}.md"
        if not path.exists():
            problems.append(ContentProblem(path, 1, f"missing page for KWA {slug!r}"))
    return found


def _load_posts(root: Path, problems: list[ContentProblem]) -> tuple[Post, ...]:
    posts: list[Post] = []
    for path in sorted((root / "blog").glob("*.md")):
        loaded = read_source(path, POST_SCHEMA, problems)
        if loaded:
            source, v = loaded
            posts.append(
                Post(path.stem, v["title"], v["description"], v["date"], v["author"], source)
            )
    return tuple(sorted(posts, key=lambda p: (p.date, p.slug), reverse=True))


def _not_in_program(what: str, name: str) -> str:
    return f"{what} {name!r} is not listed in {PROGRAM_FILE}"


# -- a plain site: any folder of Markdown pages ------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlainPage:
    name: str  # the path under pages/ without ".md": "guides/setup"
    title: str
    description: str
    source: Source

    @property
    def url(self) -> str:
        return f"/{self.name}/"


@dataclass(frozen=True)
class PlainSite:
    """A folder without program.toml: each `pages/**/*.md` is a page at `/<its path>/`."""

    pages: tuple[PlainPage, ...]  # by name
    root: Path


PLAIN_SCHEMA = Schema({"title": _text}, {"description": _short_text})
# Top-level names the build writes itself, so no page may take them.
PLAIN_RESERVED = frozenset({"index.html", "pagefind"})


def _markdown_names(folder: Path) -> list[str]:
    """The Markdown files under `folder`, as sorted paths without ".md" ("a/b")."""
    names = []
    for parent, _, files in os.walk(folder):
        prefix = parent[len(str(folder)) + 1 :].replace(os.sep, "/")
        prefix += "/" if prefix else ""
        names += [prefix + f.removesuffix(".md") for f in files if f.endswith(".md")]
    return sorted(names, key=lambda name: name.split("/"))  # as sorted Paths would be


def is_plain_site(root: Path) -> bool:
    """A folder with `pages/` and no program.toml builds as a plain site."""
    return (root / PLAIN_PAGES).is_dir() and not (root / PROGRAM_FILE).exists()


def load_plain_site(root: Path) -> PlainSite:
    """Load and validate every page under `root/pages`; raise ContentError listing every problem."""
    problems: list[ContentProblem] = []
    pages: list[PlainPage] = []
    folder = root / PLAIN_PAGES
    for name in _markdown_names(folder):
        path = folder / f"{name}.md"
        if name.split("/", 1)[0] in PLAIN_RESERVED:
            problems.append(ContentProblem(path, 1, f"{name!r} is a reserved page name"))
            continue
        loaded = read_source(path, PLAIN_SCHEMA, problems)
        if loaded:
            source, v = loaded
            pages.append(PlainPage(name, v["title"], v.get("description", ""), source))
    if problems:
        raise ContentError(problems)
    return PlainSite(tuple(pages), root)
