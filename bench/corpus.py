"""A deterministic synthetic content folder for benchmarks:
`python -m bench.corpus --pages N --out DIR`.

Module- and KWA-style pages with plain YAML front matter (a title and a description),
headings, lists, a table and internal links, under `pages/`, so our generator builds it as a
plain site (see `sitegen.content.load_plain_site`) and Hugo, Pelican or MkDocs read the same files.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from pathlib import Path

KWAS_PER_MODULE = 9  # so every tenth page is a module page, as in the real site's proportions

_VOCABULARY = """
machine operator quality process safety inspection gauge tolerance batch shift maintenance
lubrication hazard checklist procedure standard defect measurement supervisor record
sample fixture setup changeover cycle output schedule material equipment training audit
lockout signage ventilation coolant spindle conveyor sensor calibration drawing
specification assembly torque fastener weld finish packaging
"""
_WORDS = _VOCABULARY.split()


def page_path(number: int) -> str:
    """The path, under `pages/`, of page `number` (0-based): a module page, then its KWAs."""
    module, within = divmod(number, KWAS_PER_MODULE + 1)
    if within == 0:
        return f"modules/m{module:04d}.md"
    return f"kwa/m{module:04d}/k{within:02d}.md"


def url_of(number: int) -> str:
    return "/" + page_path(number).removesuffix(".md") + "/"


def write_corpus(pages: int, out: Path) -> list[Path]:
    """Write `pages` Markdown files under `out/pages/`; the same `pages` gives the same bytes."""
    written = []
    for number in range(pages):
        path = out / "pages" / page_path(number)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = _page(number, pages)
        # Only rewritten when different, so regenerating a corpus keeps its files' times.
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _page(number: int, total: int) -> str:
    rng = random.Random(number)  # each page depends on its number only: corpora share a prefix
    module, within = divmod(number, KWAS_PER_MODULE + 1)
    if within == 0:
        title = f"Module {module}, {_words(rng, 3)}"
    else:
        title = f"Activity {module}.{within}, {_words(rng, 4)}"
    # Plain words only: no colon, quote or Markdown, so every generator reads the same values.
    description = _words(rng, 14).capitalize() + "."
    front = f"---\ntitle: {title}\ndescription: {description}\n---\n"
    return front + (_module_body(rng, number, total) if within == 0 else _kwa_body(rng, number))


def _module_body(rng: random.Random, number: int, total: int) -> str:
    kwas = [n for n in range(number + 1, number + 1 + KWAS_PER_MODULE) if n < total]
    lines = [_paragraph(rng, 3), "", "## What the module covers", ""]
    lines += [f"- [Activity {n - number}]({url_of(n)}): {_sentence(rng, 6)}" for n in kwas]
    lines += ["", "## The assessment", "", "| Item | Value |", "|---|---|"]
    lines += [f"| {_words(rng, 2).capitalize()} | {rng.randint(10, 90)} |" for _ in range(4)]
    lines += ["", _paragraph(rng, 2)]
    others = [n for n in (number - KWAS_PER_MODULE - 1, number + KWAS_PER_MODULE + 1) if n >= 0]
    others = [n for n in others if n < total]
    if others:
        lines += ["", "## Related modules", ""]
        lines += [f"- [Module {n // (KWAS_PER_MODULE + 1)}]({url_of(n)})" for n in others]
    return "\n".join(lines) + "\n"


def _kwa_body(rng: random.Random, number: int) -> str:
    module_page = number - number % (KWAS_PER_MODULE + 1)
    lines = ["## What the activity is", "", _paragraph(rng, 4), "", "## What a worker does", ""]
    lines += [f"1. {_sentence(rng, rng.randint(8, 16))}" for _ in range(rng.randint(4, 7))]
    lines += ["", _paragraph(rng, 2), "", "## What it draws on", ""]
    lines += [f"- {_sentence(rng, rng.randint(6, 12))}" for _ in range(rng.randint(3, 5))]
    lines += ["", "| Check | Frequency | Record |", "|---|---|---|"]
    for _ in range(3):
        lines.append(f"| {_words(rng, 2).capitalize()} | every {rng.randint(1, 8)} hours | yes |")
    lines += ["", f"Part of [this module]({url_of(module_page)})."]
    if number - 1 > module_page:
        lines.append(
            f"Before it comes [the previous activity]({url_of(number - 1)}#what-it-draws-on)."
        )
    return "\n".join(lines) + "\n"


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(count))


def _sentence(rng: random.Random, count: int) -> str:
    words = _words(rng, count).split()
    words[0] = words[0].capitalize()
    if count > 5:  # some inline Markdown, as real pages have
        words[2] = f"**{words[2]}**"
        words[-2] = f"*{words[-2]}*"
    return " ".join(words) + "."


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng, rng.randint(8, 18)) for _ in range(sentences))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__)
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    written = write_corpus(args.pages, args.out)
    print(f"wrote {len(written)} pages under {args.out / 'pages'}")


if __name__ == "__main__":
    main()
