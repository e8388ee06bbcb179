"""The build's stages: their timings on request, and documents rendered beside the pages."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bench.corpus import write_corpus
from sitegen import build as build_module
from sitegen.__main__ import main
from sitegen.build import BuildResult, build

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"
STAGES = ["start-up", "load content", "plan", "render", "static files", "link check", "save cache"]


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    ("flags", "shown"),
    [(["--timings"], True), ([], False)],
    ids=["with-timings", "without"],
)
def test_the_timings_flag_prints_each_stage_after_the_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], shown: bool
) -> None:
    write_corpus(12, tmp_path / "corpus")
    command = ["build", "--content", str(tmp_path / "corpus"), "--out", str(tmp_path / "out")]
    assert main([*command, "--no-search", "--no-cache", *flags]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("built 13 pages")  # 12 and their list; the stages after
    names = [line.split("  ")[0] for line in lines[2:]]
    if shown:
        assert lines[1].split() == ["stage", "wall", "cpu"]
        assert names == [*STAGES, "total"]
        assert "13 pages in" in next(line for line in lines if line.startswith("render"))
    else:
        assert lines[1:] == []


def test_the_timings_name_the_search_index_when_it_is_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_corpus(3, tmp_path / "corpus")
    command = ["build", "--content", str(tmp_path / "corpus"), "--out", str(tmp_path / "out")]
    assert main([*command, "--no-cache", "--timings"]) == 0
    names = [line.split("  ")[0] for line in capsys.readouterr().out.splitlines()[2:]]
    assert names == [*STAGES[:5], "search index", *STAGES[5:], "total"]


def test_documents_render_in_parallel_with_the_pages_into_the_same_bytes(
    built_site: BuildResult, tmp_path: Path
) -> None:
    """One process, no cache: every document rendered anew, equal to the 2-process build's."""
    alone = build(CONTENT, tmp_path / "alone", jobs=1)
    assert tree_digest(alone.out_dir) == tree_digest(built_site.out_dir)


def test_the_documents_are_rendered_first_the_largest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So the all-modules document, the longest, is not what the last worker waits for."""
    order: list[str] = []
    render = build_module._Run.render

    def recording(run: build_module._Run, index: int, plan: build_module._Plan) -> object:
        order.append(plan.output.file)
        return render(run, index, plan)

    monkeypatch.setattr(build_module._Run, "render", recording)
    build(CONTENT, tmp_path / "out", search=False, jobs=1)  # one process keeps the order
    documents = [f for f in order if f.endswith(".pdf")]
    assert order[: len(documents)] == documents
    assert documents[0] == "documents/kwa-all.pdf"
    assert len(documents) == 6
