"""Build a content folder into static files, index it for search and check every link.

Each output is rendered straight from its template (the views of app.py for the program site),
in worker processes that each keep one Markdown instance. A cache keyed by content makes a
rebuild render only what changed:

- a page's Markdown is converted once per distinct body and kept in a file named by its key
  (the body, the generator's code, and the program data when the body holds {{ }});
- an output is rendered again only when its key changes: the generator's code, the templates,
  the program data, the Markdown it shows and, for pages that show other pages (lists, menus,
  the feed, the sitemap; `Output.shared`), every file's front matter;
- a file is written only when its bytes change, and files the build did not make are removed.

So a rebuild gives the bytes of a clean build, which the tests check, and the link check runs
over every page from each page's cached links and ids (unless no file changed since a build
whose links were all found).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import marshal
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import jinja2
from markupsafe import Markup

from . import STATIC, content, did
from .content import ContentError, ContentProblem, Source, read_bytes
from .kinds import Output, RouteError, SiteKind, load
from .links import BrokenLink, check, collect
from .render import BodyRenderer, View, configure_jinja, has_expressions
from .timings import Timings

if TYPE_CHECKING:
    from .pdf import PdfCache  # WeasyPrint is slow to import: only when a build needs it

CACHE_FORMAT = b"sitegen-cache-1"
PARALLEL_FROM = 48  # fewer outputs to render than this: forking workers costs more than it saves
MIN_CHUNK = 4  # outputs that a worker renders for one message, at the least


class BuildError(Exception):
    """The build produced something wrong (a broken link, a failed tool, a route without pages)."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    out_dir: Path
    pages: int
    documents: int
    files: int
    rendered: int = 0  # outputs rendered by this build; the others were current
    written: int = 0  # files whose bytes changed


class Record(NamedTuple):
    """An output file as the last build left it."""

    key: str  # the hash of everything it was made from
    digest: str  # of its bytes
    size: int
    mtime_ns: int
    links: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()


@dataclass
class _State:
    """The cache of one output folder: its files' records and the parsed front matter.

    Pickled under the cache folder, which is trusted as the build's own (like the PDF cache).
    Converted Markdown is kept apart, one file per body (see _Run.body), so that a small
    change rewrites a small cache.
    """

    files: dict[str, Record] = field(default_factory=dict)
    front: dict[str, Any] = field(default_factory=dict)
    folders: dict[str, int] = field(default_factory=dict)  # the output's folders: mtime_ns
    checked: str = ""  # how these files' links were all found (_link_check), if they were

    @classmethod
    def load(cls, path: Path | None, generator: bytes) -> _State:
        """The cache at `path`, if the same generator (same code, same libraries) wrote it."""
        if path is None or not path.is_file():
            return cls()
        try:
            with path.open("rb") as file:
                stamp, files, front, folders, checked = pickle.load(file)
        except Exception:  # unreadable, or from an older format: start afresh
            return cls()
        return cls(files, front, folders, checked) if stamp == generator else cls()

    def save(self, path: Path, generator: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as part:
            state = (generator, self.files, self.front, self.folders, self.checked)
            pickle.dump(state, part, protocol=5)
        os.replace(part.name, path)  # never half a cache, even after a crash


def build(
    content_dir: Path,
    out_dir: Path,
    *,
    search: bool = True,
    cache_dir: Path | None = None,
    templates: Path | None = None,
    jobs: int | None = None,
    did_document: Path | None = None,
    timings: Timings | None = None,
) -> BuildResult:
    """Build `content_dir` into `out_dir`; raise ContentError or BuildError on any problem.

    With `cache_dir`, a rebuild renders only what changed (and documents come from the PDF cache
    there); `jobs` worker processes render (default: one per CPU). With `did_document` (a file
    the shop writes), the issuer's DID document is published at /.well-known/did.json. Each
    stage's time is added to `timings`, if given.
    """
    timed = timings or Timings()
    with timed.stage("load content"):
        generator = _generator_digest()
        state_file = _state_file(cache_dir, out_dir)
        state = _State.load(state_file, generator)
        content.FRONT_MATTER_MEMO.update(state.front)
        kind = load(content_dir, templates)  # validates everything before anything is written
    extra_files = {}
    if did_document is not None:
        try:
            extra_files[did.FILE] = did.did_document_file(did_document, kind.site_url)
        except did.DidDocumentError as error:
            raise BuildError(str(error)) from None
    try:
        outputs = kind.outputs()
    except RouteError as error:
        raise BuildError(str(error)) from None
    # Nothing was added to or removed from the output since the last build (that would have
    # changed a folder's time): then the stale files are the ones it made that this one does not.
    # A new (or empty) output holds none.
    with timed.stage("plan"):
        known = set(state.files) if _same_folders(out_dir, state.folders) else None
        if known is None and _is_new(out_dir):
            known = set()
        run = _Run(kind, out_dir, state, cache_dir, generator)
        plans = run.plan(outputs)
        todo = [i for i, plan in enumerate(plans) if not run.current(plan)]
    # Documents first, the one showing most pages first: they take longest, and must not be
    # what the last worker waits for.
    todo.sort(key=lambda i: (not plans[i].view.document, -len(plans[i].sources)))
    problems: list[ContentProblem] = []
    failures: list[str] = []
    with timed.stage("render") as note:
        spent = {True: 0.0, False: 0.0}  # CPU seconds by whether the output is a document
        for done in _render(run, plans, todo, jobs or _cpus()):
            problems += done.problems
            if done.failure:
                failures.append(done.failure)
            if done.record is not None:
                run.records[plans[done.position].output.file] = done.record
                run.written += done.written
            run.body_links.update(done.body_links)
            spent[plans[done.position].view.document] += done.cpu
        documents = sum(1 for i in todo if plans[i].view.document)
        note.append(f"{len(todo) - documents} pages in {spent[False]:.3f} s of CPU")
        note.append(f"{documents} documents in {spent[True]:.3f} s of CPU")
    if problems or failures:
        # Stop here, as at the first failing page before; what was written is recorded.
        _save(state, state_file, run, kind, folders=False)
        if problems:
            raise ContentError(sorted(problems, key=lambda p: (str(p.path), p.line)))
        raise BuildError("\n".join(failures))
    with timed.stage("static files"):
        run.copy_static()
        run.write_files(extra_files)
        # Files the build did not make go before pagefind runs, so it never indexes a stale page.
        keep = "pagefind/" if search else ""
        removed = _remove_stale(out_dir, set(run.records), known, keep=keep)
    if search:
        with timed.stage("search index"):
            run.index_for_search()
            removed += _remove_stale(out_dir, set(run.records), known, under="pagefind/")
    with timed.stage("link check") as note:
        # The same files as the last build, whose links were all found: they still are.
        check = _link_check(search, kind)
        same = state.files == run.records
        skip = same and state.checked == check
        broken = [] if skip else run.check_links(search)
        checked = "" if broken else check
        note.append("unchanged since a build whose links were all found" if skip else "")
    with timed.stage("save cache"):
        if todo or run.written or removed or not same or known is None or state.checked != checked:
            _save(state, state_file, run, kind, folders=True, checked=checked)
    if broken:
        raise BuildError(run.describe(broken, plans))
    return BuildResult(
        out_dir=out_dir,
        pages=kind.pages,
        documents=kind.documents,
        files=len(run.records),
        rendered=len(todo),
        written=run.written,
    )


def _save(
    state: _State,
    path: Path | None,
    run: _Run,
    kind: SiteKind,
    *,
    folders: bool,
    checked: str = "",
) -> None:
    """Keep what the next build starts from: only what this tree uses, so the cache stays small.

    Without `folders` (a failed build), the next build looks through the whole output; without
    `checked`, it checks every link.
    """
    if path is None:
        return
    state.checked = checked
    state.folders = _folder_times(run.out_dir, run.records) if folders else {}
    fronts = {source.front for source in kind.sources}
    state.front = {k: v for k, v in content.FRONT_MATTER_MEMO.items() if k in fronts}
    state.files = run.records
    state.save(path, run.generator)
    run.prune_bodies()


def _link_check(search: bool, kind: SiteKind) -> str:
    """What a link check depends on besides the files: the site's host, the search index."""
    return f"{kind.site_url}\0{search}"


def _state_file(cache_dir: Path | None, out_dir: Path) -> Path | None:
    """One cache file per output folder: it records that folder's files."""
    if cache_dir is None:
        return None
    name = hashlib.sha256(str(out_dir.resolve()).encode()).hexdigest()[:16]
    return cache_dir / "pages" / f"{name}.pickle"


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class _Plan:
    """An output with its view (found without converting any Markdown) and its cache key."""

    output: Output
    view: View
    sources: tuple[Source, ...]  # whose Markdown it shows
    key: str


class _Run:
    """One build of one folder: what it renders with, and what it has written so far."""

    def __init__(
        self, kind: SiteKind, out_dir: Path, state: _State, cache: Path | None, generator: bytes
    ) -> None:
        self.kind = kind
        self.out_dir = out_dir
        self.old = state.files
        self.records: dict[str, Record] = {}
        self.bodies: dict[str, tuple[str, tuple[str, ...]]] = {}  # converted in this process
        self.body_links: dict[str, tuple[str, ...]] = {}  # of the bodies converted by this build
        self.body_cache = cache / "bodies" if cache else None
        self._cached: set[str] = set()  # listed once: a clean build tries no file in vain
        if self.body_cache is not None:
            self.body_cache.mkdir(parents=True, exist_ok=True)
            self._cached = set(os.listdir(self.body_cache))
        self.written = 0
        self.pdf_cache = cache / "documents" if cache else None
        self._documents: PdfCache | None = None  # made by the first document (see _document)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(kind.templates)),
            autoescape=_autoescape,
            auto_reload=False,
        )
        configure_jinja(self.env)
        self.env.globals.update(kind.globals())
        self._renderer: BodyRenderer | None = None
        self.generator = generator
        program = hashlib.sha256(kind.config).digest()
        self._program = program
        # Key of what every output is made from: code, templates, program data, content kind.
        digest = hashlib.sha256(generator + program + type(kind).__name__.encode())
        for path in sorted(kind.templates.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(kind.templates).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
        self._common = digest.digest()
        # Everyone's front matter (and which files exist), for the pages that list others.
        shared = hashlib.sha256()
        for source in sorted(kind.sources, key=lambda s: s.path):
            shared.update(f"{source.path}\0{source.front}\0".encode())
        self._shared = shared.digest()
        self._templated = kind.body_context() is not None
        self.body_keys = {source.path: self._body_key(source) for source in kind.sources}

    def _body_key(self, source: Source) -> str:
        digest = hashlib.sha256(self.generator + source.body.encode())
        if self._templated and has_expressions(source.body):
            digest.update(self._program)  # its {{ }} show the program's numbers
        return digest.hexdigest()

    def plan(self, outputs: Sequence[Output]) -> list[_Plan]:
        """Each output's view and key; its view is asked with a body that only notes the file."""
        plans = []
        for output in outputs:
            shown: list[Source] = []

            def note(source: Source, shown: list[Source] = shown) -> Markup:
                shown.append(source)
                return Markup()

            try:
                view = self.kind.view(output, note)
            except RouteError as error:
                raise BuildError(str(error)) from None
            digest = hashlib.sha256(self._common)
            digest.update(f"{output.file}\0{output.url}\0".encode())
            if output.shared:
                digest.update(self._shared)
            for source in shown:
                digest.update(f"{source.front}\0{self.body_keys[source.path]}\0".encode())
            plans.append(_Plan(output, view, tuple(shown), digest.hexdigest()))
        return plans

    def current(self, plan: _Plan) -> bool:
        """Whether the file of `plan` is still what the last build made from the same inputs."""
        old = self.old.get(plan.output.file)
        if (
            old is None
            or old.key != plan.key
            or not _unchanged(self.out_dir, plan.output.file, old)
        ):
            return False
        self.records[plan.output.file] = old
        return True

    def body(self, source: Source, fresh: dict[str, tuple[str, ...]]) -> Markup:
        """A page's Markdown as safe HTML, from the cache or converted (its links in `fresh`)."""
        key = self.body_keys[source.path]
        known = self.bodies.get(key) or self._cached_body(key)
        if known is None:
            if self._renderer is None:  # one Markdown instance per process
                self._renderer = BodyRenderer(self.kind.body_context())
            rendered = self._renderer.render(source)
            known = (rendered.html, rendered.links)
            fresh[key] = rendered.links
            if self.body_cache is not None:
                # Named by its content: a file cut short by a crash fails to load and is
                # converted again, so no temporary name is needed.
                size = None if key in self._cached else 0  # 0: a new file, nothing to cut
                _overwrite(os.path.join(self.body_cache, key), marshal.dumps(known), size)
        self.bodies[key] = known
        return Markup(known[0])

    def _cached_body(self, key: str) -> tuple[str, tuple[str, ...]] | None:
        if self.body_cache is None or key not in self._cached:
            return None
        try:
            html, links = marshal.loads(read_bytes(os.path.join(self.body_cache, key)))
        except (OSError, EOFError, ValueError, TypeError):
            return None  # not converted yet (or unreadable): convert it
        return str(html), tuple(links)

    def prune_bodies(self) -> None:
        """Remove the converted bodies no page of this tree has any more."""
        if self.body_cache is None or not self.body_cache.is_dir():
            return
        live = set(self.body_keys.values())
        for name in os.listdir(self.body_cache):
            if name not in live:
                os.unlink(self.body_cache / name)

    def render(self, index: int, plan: _Plan) -> _Done:
        """Render one output and write its file if its bytes changed; with its CPU time."""
        started = time.process_time()
        done = self._render(index, plan)
        return done._replace(cpu=time.process_time() - started)

    def _render(self, index: int, plan: _Plan) -> _Done:
        output = plan.output
        fresh: dict[str, tuple[str, ...]] = {}
        try:
            view = self.kind.view(output, lambda source: self.body(source, fresh))
            template = self.env.get_template(view.template)
            text = template.render({**self.kind.context(output), **view.context})
            data = self._data(view, text)
        except ContentError as error:
            return _Done(index, None, 0, fresh, list(error.problems), None)
        except Exception as error:
            if not _reported(error):
                raise  # a bug, with its traceback
            failure = f"template {plan.view.template} (page {output.url}): {error}"
            return _Done(index, None, 0, fresh, [], failure)
        links, ids = collect(text) if output.file.endswith(".html") else ((), ())
        record, written = _write(self.out_dir, output.file, data, plan.key, self.old, links, ids)
        return _Done(index, record, written, fresh, [], None)

    def _data(self, view: View, text: str) -> bytes:
        """An output's bytes: its text, or the PDF or the social card the text describes."""
        if view.document:
            return self._document(text)
        if view.image:
            from .cards import card_png

            return card_png(text)
        return text.encode()

    def _document(self, html: str) -> bytes:
        from .pdf import KWA_STYLESHEETS, html_to_pdf

        static = self.kind.static or STATIC
        return self.documents().get_or_render(
            html,
            lambda: html_to_pdf(html, static, self.kind.site_url, stylesheets=KWA_STYLESHEETS),
        )

    def documents(self) -> PdfCache:
        """The PDF cache, made (and WeasyPrint imported, our style sheet parsed) on first use.

        The build calls it before forking its workers when there are documents to render, so
        that they share one import, one hash of the static files and one parse of the sheet.
        """
        if self._documents is None:
            from .pdf import KWA_STYLESHEETS, PdfCache, preload  # slow to import: when needed

            static = self.kind.static or STATIC
            self._documents = PdfCache(self.pdf_cache, static)
            preload(static, self.kind.site_url, KWA_STYLESHEETS)
        return self._documents

    def copy_static(self) -> None:
        """Copy the static files; as Frozen-Flask does, they are served under /static/."""
        folder = self.kind.static
        if folder is None:
            return
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                file = "static/" + path.relative_to(folder).as_posix()
                data = path.read_bytes()
                key = hashlib.sha256(data).hexdigest()
                record, written = _write(self.out_dir, file, data, key, self.old)
                self.records[file] = record
                self.written += written

    def write_files(self, files: Mapping[str, bytes]) -> None:
        """Files made outside the site's views, written like the static ones."""
        for file, data in sorted(files.items()):
            key = hashlib.sha256(data).hexdigest()
            record, written = _write(self.out_dir, file, data, key, self.old)
            self.records[file] = record
            self.written += written

    def index_for_search(self) -> None:
        """Run pagefind when a page changed (or its index did), syncing what it writes."""
        from importlib.metadata import version

        digest = hashlib.sha256(version("pagefind").encode())
        for file, record in sorted(self.records.items()):
            if file.endswith(".html"):
                digest.update(f"{file}\0{record.digest}\0".encode())
        key = digest.hexdigest()
        old = {f: r for f, r in self.old.items() if f.startswith("pagefind/")}
        if old and all(r.key == key and _unchanged(self.out_dir, f, r) for f, r in old.items()):
            self.records.update(old)
            return
        with tempfile.TemporaryDirectory() as scratch:
            index = Path(scratch) / "pagefind"
            index_for_search(self.out_dir, index)
            for path in sorted(index.rglob("*")):
                if path.is_file():
                    file = "pagefind/" + path.relative_to(index).as_posix()
                    record, written = _write(self.out_dir, file, path.read_bytes(), key, self.old)
                    self.records[file] = record
                    self.written += written

    def check_links(self, search: bool) -> list[BrokenLink]:
        pages = {
            _url_of(file): (record.links, record.ids)
            for file, record in self.records.items()
            if file.endswith(".html")
        }
        # Without the search index, the search page's links to it lead nowhere, as expected.
        return check(
            pages, self.records.keys(), self.kind.site_url, () if search else ("/pagefind/",)
        )

    def _body_links(self, source: Source) -> tuple[str, ...]:
        key = self.body_keys[source.path]
        known = self.body_links.get(key)
        if known is None:
            cached = self._cached_body(key)
            known = cached[1] if cached else ()
        return known

    def describe(self, broken: list[BrokenLink], plans: Sequence[_Plan]) -> str:
        """Name the Markdown file holding each broken link, or else the template."""
        templates = {plan.output.url: plan.view.template for plan in plans}
        lines = [f"{len(broken)} broken link(s):"]
        for item in broken:
            source = self.kind.source_of(item.page)
            links = self._body_links(source) if source else ()
            if source is not None and item.link in links:
                where = f"{source.path} (page {item.page})"
            else:
                where = f"template {templates.get(item.page, '?')} (page {item.page})"
            lines.append(f"  {where}: link {item.link!r} {item.reason}")
        return "\n".join(lines)


def _reported(error: Exception) -> bool:
    """Whether an error is the content's or a template's, to report; else it is a bug."""
    from werkzeug.routing import BuildError as UrlError

    # Only a build that rendered a document imported WeasyPrint: only it can hold its error.
    pdf = sys.modules.get(f"{__package__}.pdf")
    document_error = pdf is not None and isinstance(error, pdf.DocumentError)
    cards = sys.modules.get(f"{__package__}.cards")  # likewise: imported by a card only
    card_error = cards is not None and isinstance(error, cards.CardError)
    return document_error or card_error or isinstance(error, UrlError | jinja2.TemplateError)


class _Done(NamedTuple):
    """What rendering one output gave: its record, or the problems that stopped it."""

    position: int  # in the list of plans
    record: Record | None
    written: int
    body_links: dict[str, tuple[str, ...]]  # of the Markdown converted on the way
    problems: list[ContentProblem]
    failure: str | None
    cpu: float = 0.0  # seconds of the process that rendered it


# -- rendering in worker processes -----------------------------------------------------------------

_RUN: tuple[_Run, list[_Plan]] | None = None  # what a forked worker inherits


def _render(run: _Run, plans: list[_Plan], todo: list[int], jobs: int) -> Iterator[_Done]:
    """Render the `todo` outputs, in `jobs` forked processes when there are enough of them."""
    global _RUN
    if jobs < 2 or len(todo) < PARALLEL_FROM:
        yield from (run.render(i, plans[i]) for i in todo)
        return
    import multiprocessing  # only when forking: it is slow to import

    if "fork" not in multiprocessing.get_all_start_methods():
        yield from (run.render(i, plans[i]) for i in todo)
        return
    chunks = _chunks(todo, plans, jobs)
    if any(plans[i].view.document for i in todo):
        run.documents()
    _RUN = (run, plans)
    gc.freeze()  # the workers share the loaded site: no collection should copy its pages
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for done in pool.imap_unordered(_render_chunk, chunks):
                yield from done
    finally:
        gc.unfreeze()
        _RUN = None


def _chunks(todo: list[int], plans: list[_Plan], jobs: int) -> list[list[int]]:
    """The work of each message to a worker: documents alone, then pages in shrinking chunks.

    Chunks shrink as the work runs out ("guided self-scheduling"): few messages, as each costs
    the parent time while the workers need it (the pool's threads wake for each result), and
    small ones at the end, so that no worker is left alone with a long one.
    """
    chunks = [[i] for i in todo if plans[i].view.document]
    pages = [i for i in todo if not plans[i].view.document]
    start = 0
    while start < len(pages):
        size = max(MIN_CHUNK, (len(pages) - start) // (2 * jobs))
        chunks.append(pages[start : start + size])
        start += size
    return chunks


def _render_chunk(indices: list[int]) -> list[_Done]:
    assert _RUN is not None
    run, plans = _RUN
    return [run.render(i, plans[i]) for i in indices]


# -- files ---------------------------------------------------------------------------------------


def _autoescape(name: str | None) -> bool:
    """Flask's rule: templates of HTML and XML escape what they print."""
    return name is None or name.endswith((".html", ".htm", ".xml", ".xhtml", ".svg"))


def _generator_digest() -> bytes:
    """The generator's version: its own code and the libraries that shape what it writes."""
    import markdown
    import markupsafe
    import nh3

    digest = hashlib.sha256(CACHE_FORMAT)
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(f"{markdown.__version__}\0{jinja2.__version__}\0".encode())
    # MarkupSafe has deprecated its __version__ and nh3's is not typed: their code stands for
    # them (nh3's sanitizer is its native module).
    for module in (markupsafe, sys.modules[f"{nh3.__name__}.nh3"]):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.digest()


def _unchanged(out_dir: Path, file: str, record: Record) -> bool:
    try:
        stat = os.stat(os.path.join(out_dir, file))
    except OSError:
        return False
    return stat.st_size == record.size and stat.st_mtime_ns == record.mtime_ns


def _write(
    out_dir: Path,
    file: str,
    data: bytes,
    key: str,
    old: dict[str, Record],
    links: tuple[str, ...] = (),
    ids: tuple[str, ...] = (),
) -> tuple[Record, int]:
    """Write `data` unless the file holds it already (its time stays); its record, 1 if written."""
    path = os.path.join(out_dir, file)
    digest = hashlib.sha256(data).hexdigest()
    previous = old.get(file)
    try:
        stat = os.stat(path)
    except OSError:
        stat = None
    if stat is not None and stat.st_size == len(data):
        same = (
            previous is not None
            and previous.digest == digest
            and (previous.size, previous.mtime_ns) == (stat.st_size, stat.st_mtime_ns)
        )
        if same or read_bytes(path) == data:
            return Record(key, digest, stat.st_size, stat.st_mtime_ns, links, ids), 0
    if stat is None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    _overwrite(path, data, stat.st_size if stat else None)
    stat = os.stat(path)
    return Record(key, digest, stat.st_size, stat.st_mtime_ns, links, ids), 1


def _overwrite(path: str, data: bytes, size: int | None) -> None:
    """Write `data` over the bytes of a file of `size` bytes (None: unknown), or a new one.

    Not truncated first: on ext4 a file truncated to nothing and written again is flushed to
    disk when closed (auto_da_alloc), which made a rebuild that rewrites every page several
    times slower. Cut to length after, if it was longer. A build stopped midway leaves files
    whose time differs from their records, so the next build writes them again.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
    try:
        done = 0
        while done < len(data):
            done += os.write(descriptor, data[done:] if done else data)
        if size is None or size > len(data):
            os.ftruncate(descriptor, len(data))
    finally:
        os.close(descriptor)


def _remove_stale(
    out_dir: Path,
    expected: set[str],
    known: set[str] | None,
    *,
    under: str = "",
    keep: str = "",
) -> int:
    """Remove the files under `under` (but not under `keep`) the build did not make, and the
    folders left empty; how many files. `known`: all the files there can be, if known."""
    if known is None:
        return _remove_unknown(out_dir, expected, under, keep)
    removed = 0
    for file in sorted(known - expected):
        if file.startswith(under) and not (keep and file.startswith(keep)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(out_dir / file)
                removed += 1
            folder = file.rpartition("/")[0]
            while folder and _is_empty(out_dir / folder):
                os.rmdir(out_dir / folder)
                folder = folder.rpartition("/")[0]
    return removed


def _is_new(folder: Path) -> bool:
    """Whether a folder does not exist or holds nothing."""
    try:
        return not os.listdir(folder)
    except FileNotFoundError:
        return True


def _is_empty(folder: Path) -> bool:
    try:
        return not os.listdir(folder)
    except FileNotFoundError:
        return False  # gone already


def _remove_unknown(out_dir: Path, expected: set[str], under: str, keep: str) -> int:
    """_remove_stale by looking through every folder."""
    removed = 0
    emptied: set[str] = set()  # walked bottom-up, so a folder's subfolders are settled first
    root = str(out_dir)
    for folder, folders, files in os.walk(out_dir / under, topdown=False):
        # The folder under the root, as "a/b/" ("" for the root): os.walk joins with os.sep.
        prefix = folder[len(root) + 1 :].replace(os.sep, "/")
        prefix += "/" if prefix else ""
        if keep and prefix.startswith(keep):
            continue
        left = len(files)
        for name in files:
            if prefix + name not in expected:
                os.unlink(os.path.join(folder, name))
                removed += 1
                left -= 1
        left += sum(1 for name in folders if prefix + name not in emptied)
        if prefix and not left:
            os.rmdir(folder)
            emptied.add(prefix.rstrip("/"))
    return removed


def _folder_times(out_dir: Path, files: Iterable[str]) -> dict[str, int]:
    """Each folder of the output ("" for itself, "a/b" below it) with its modification time."""
    folders = {""}
    for file in files:
        folder = file.rpartition("/")[0]
        while folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    root = str(out_dir)
    return {f: os.stat(os.path.join(root, f)).st_mtime_ns for f in folders}


def _same_folders(out_dir: Path, folders: dict[str, int]) -> bool:
    """Whether each folder is as the last build left it: no file added or removed in any."""
    root = str(out_dir)
    try:
        return bool(folders) and all(
            os.stat(os.path.join(root, f)).st_mtime_ns == t for f, t in folders.items()
        )
    except OSError:
        return False


def _url_of(file: str) -> str:
    if file == "index.html":
        return "/"
    if file.endswith("/index.html"):
        return "/" + file.removesuffix("index.html")
    return "/" + file


def index_for_search(site_dir: Path, index_dir: Path) -> None:
    """Index the HTML under `site_dir` with pagefind, into `index_dir`."""
    command = [sys.executable, "-m", "pagefind", "--site", str(site_dir), "--silent"]
    command += ["--output-path", str(index_dir)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BuildError(f"pagefind failed:\n{done.stdout}{done.stderr}")
