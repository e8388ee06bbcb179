"""The page plan of sitegen.render (what Markdown leaves out on a page) never changes its HTML."""

from __future__ import annotations

import random
from pathlib import Path

import markdown
import nh3
import pytest
from markdown.extensions import Extension

from bench.corpus import write_corpus
from sitegen import render
from sitegen.content import Source, load_plain_site, load_site
from sitegen.render import BodyRenderer

ROOT = Path(__file__).resolve().parents[2]

# Every construct of our extensions, in one page: each inline pattern and treeprocessor has work
# (\x20\x20: the two spaces of a line break).
EVERYTHING = """\
# Title {#custom-id .cls}

[TOC]

Some `code` and ``a `tick` inside``, escaped \\*stars\\* and \\[brackets\\], a [link](/a/ "T"),
an ![image](/i.png "img"), a [reference][ref] and [ref], ![image ref][ref] and ![ref],
<https://example.org/x>, <me@example.org>, a line break\x20\x20
here, <span class="x">inline HTML</span>, &amp; &copy; &#169;, *em* **strong** _em_ __strong__.
A tab\tbefore a line end\t
and after.

[ref]: /target/ "Title"

A paragraph with attributes
{: #para-id }

Term
:   Definition with *emphasis*

| A | B |
|:--|--:|
| `x|y` | \\| pipe |

```python
return "<b>[x](y)</b>"
```

    indented code with [a link](x) and *stars*

> a quote with [a link](/q/) and a \\\\ backslash

1. one
2. two

<div class="raw">
raw *HTML* block [x](y)
</div>

## A heading with `code` and [a link](/h/)
## A heading with `code` and [a link](/h/)

---

Braces {like these}, a lone _ and a lone * at the end.
"""

# Pieces of Markdown that fuzzed pages are made of: each alone holds what some pattern needs.
PIECES = [
    "`x`", "\\*", "[a](/b/)", "![i](/c.png)", "[r]", "[r]: /d/", "<http://e.f/>", "<g@h.i>",
    "  \n", "<b>", "&amp;", "*e*", "_u_", "{: #k }", "[TOC]", "\t", "{#q}", "# H", "## H {#x}",
    "\n\n", "\n", " ", "word", "|", "- ", "1. ", "> ", "    ", "```\n", ":   ", "!", "[", "]",
    "(", ")", "<", ">", "\\", "*", "_", "&", "{", "}", '## L {data-toc-label="s"}',
    "# H\n\n# H", '# H\n\n<h2 id="h">x</h2>',
]  # fmt: skip


class _Links(Extension):
    """Our link collector, registered as the build registered it before the page plan."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(render._LinkCollector(md, self.links), "cpt-links", 0)


class Plain:
    """Python-Markdown with our extensions and nothing left out: every pattern, every page."""

    def __init__(self) -> None:
        self.links = _Links()
        self.md = markdown.Markdown(
            extensions=[*render.EXTENSIONS, self.links],
            extension_configs={"tables": {"use_align_attribute": True}},
            output_format="html",
        )

    def render(self, text: str) -> tuple[str, tuple[str, ...]]:
        self.links.links.clear()
        self.md.reset()
        html = nh3.clean(
            self.md.convert(text),
            tags=set(render.ALLOWED_TAGS),
            attributes={k: set(v) for k, v in render.ALLOWED_ATTRIBUTES.items()},
            url_schemes={"http", "https", "mailto"},
            link_rel=None,
        )
        return html, tuple(self.links.links)


def assert_same(texts: list[str], context: dict[str, object] | None = None) -> None:
    """Each text gives the same HTML and links with the page plan as without it."""
    ours, plain = BodyRenderer(context), Plain()
    for text in texts:
        source = Source(Path("page.md"), text, 1)
        rendered = ours.render(source)
        assert (rendered.html, rendered.links) == plain.render(ours._expand(source)), text


def test_a_page_using_every_construct_renders_as_without_the_plan() -> None:
    assert_same([EVERYTHING, EVERYTHING.replace("[ref]: /target/", "")] * 2)


def test_the_real_content_renders_as_without_the_plan() -> None:
    site = load_site(ROOT / "content")
    sources = [
        *(p.source for p in site.pages.values()),
        *(m.source for m in site.modules.values()),
        *(k.source for k in site.kwas.values()),
        *(p.source for p in site.posts),
    ]
    assert_same([s.body for s in sources], {"program": site.program})


def test_the_corpus_renders_as_without_the_plan(tmp_path: Path) -> None:
    write_corpus(60, tmp_path)
    assert_same([page.source.body for page in load_plain_site(tmp_path).pages])


@pytest.mark.parametrize("seed", range(3))
def test_fuzzed_pages_render_as_without_the_plan(seed: int) -> None:
    rng = random.Random(seed)
    blocks, lines = EVERYTHING.split("\n\n"), EVERYTHING.split("\n")
    texts = []
    for _ in range(100):
        texts.append("\n\n".join(rng.sample(blocks, rng.randint(1, len(blocks)))))
        texts.append("\n".join(rng.choice(lines) for _ in range(rng.randint(1, 12))))
        texts.append("".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40))))
    assert_same(texts)
