"""Every chapter executes in the quick profile and the book builds with warnings as errors.

Runs in a temporary directory, so the committed (paper-profile) outputs under book/ are
never overwritten.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import execute_chapters  # noqa: E402

pytestmark = pytest.mark.book


_SITE: dict = {}  # one quick execution (and one build) per test session, shared with test_browser.py


def executed_quick_book(tmp_path_factory) -> Path:
    """The quick book executed once per session into a temporary site."""
    if "site" not in _SITE:
        site = tmp_path_factory.mktemp("site")
        for name in ("_config.yml", "_toc.yml"):
            shutil.copy(ROOT / name, site / name)
        (site / "book").mkdir()
        for extra in list((ROOT / "book").glob("*.md")) + [ROOT / "book" / "references.bib"]:
            shutil.copy(extra, site / "book" / extra.name)
        shutil.copytree(ROOT / "book" / "_ext", site / "book" / "_ext")
        rc = execute_chapters.main(["--profile", "quick", "--force", "--device", "cpu",
                                    "--output-dir", str(site / "book")])
        assert rc == 0
        _SITE["site"] = site
    return _SITE["site"]


def built_quick_book(tmp_path_factory) -> Path:
    """The quick book's HTML (built once, warnings as errors); returns ``_build/html``."""
    site = executed_quick_book(tmp_path_factory)
    if "proc" not in _SITE:
        jb = Path(sys.executable).with_name("jupyter-book")
        _SITE["proc"] = subprocess.run([str(jb), "build", str(site), "-W", "-n", "--keep-going"],
                                       capture_output=True, text=True)
    proc = _SITE["proc"]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return site / "_build" / "html"


@pytest.fixture(scope="module")
def quick_book(tmp_path_factory):
    return executed_quick_book(tmp_path_factory)


def toc_files(site: Path) -> list[str]:
    return re.findall(r"file:\s*(\S+)", (site / "_toc.yml").read_text()) + ["book/intro"]


def test_every_chapter_in_the_toc_has_a_source_and_was_executed(quick_book):
    sources = {execute_chapters.chapter_name(p) for p in execute_chapters.chapter_sources()}
    for entry in toc_files(quick_book):
        name = Path(entry).name
        if (ROOT / "book" / f"{name}.md").exists():
            continue
        assert name in sources, f"{entry} in _toc.yml has no notebooks/NN_{name}.py"
        nb = json.loads((quick_book / "book" / f"{name}.ipynb").read_text())
        assert nb["metadata"]["led"]["profile"] == "quick"
        errors = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors


def test_figure_captions_name_the_papers_figures(quick_book):
    from test_browser import NOT_PAPER_CHAPTERS, NOT_PAPER_FIGURE

    captions, own = [], []
    for nb_path in (quick_book / "book").glob("*.ipynb"):
        for cell in json.loads(nb_path.read_text())["cells"]:
            fig = cell.get("metadata", {}).get("mystnb", {}).get("figure")
            if fig:
                (own if nb_path.stem in NOT_PAPER_CHAPTERS else captions).append(fig["caption"])
    assert captions, "no captioned figures found"
    for cap in captions:
        assert re.match(r"^Paper Figures? \d+", cap), f"caption must begin 'Paper Figure N': {cap}"
    # the tutorial's figures are not the paper's: they must say so and name no paper figure
    for cap in own:
        assert NOT_PAPER_FIGURE in cap and "Paper Fig" not in cap, f"tutorial caption: {cap}"


def _captions_and_markdown(site: Path) -> str:
    """Every figure caption and every Markdown text (cells and outputs) of the executed book."""
    parts = []
    for nb_path in (site / "book").glob("*.ipynb"):
        for cell in json.loads(nb_path.read_text())["cells"]:
            fig = cell.get("metadata", {}).get("mystnb", {}).get("figure")
            if fig:
                parts.append(fig["caption"])
            for out in cell.get("outputs", []):
                md = out.get("data", {}).get("text/markdown")
                if md:
                    parts.append("".join(md))
    return "\n".join(parts)


def test_every_figure_and_table_of_the_paper_is_reproduced(quick_book):
    from ledlib import reproduction

    text = _captions_and_markdown(quick_book)
    # "Figure 24 (and Figure 3E–F)", "Figures 6A and 31", "Figures 16–20": numbers up to ':' or '('
    figures = {int(n) for ref in re.findall(r"Figures?\s+([^:;.()]*)", text) for n in re.findall(r"\d+", ref)}
    ranges = re.findall(r"Figures? (\d+)[–-](\d+)", text)
    figures |= {n for a, b in ranges for n in range(int(a), int(b) + 1)}
    missing = set(reproduction.FIGURES) - figures
    assert not missing, f"no caption names Paper Figure(s) {sorted(missing)}"
    tables = {int(n) for n in re.findall(r"Paper Table (\d+)", text)}
    assert set(reproduction.TABLES) <= tables, sorted(set(reproduction.TABLES) - tables)


def test_every_claim_is_in_the_scorecard(quick_book):
    from ledlib import reproduction

    card = json.loads((quick_book / "book" / "results" / "scorecard.json").read_text())
    missing = [c.id for c in reproduction.CLAIMS if c.id not in card]
    assert not missing, missing


def test_scorecard_is_written_by_execution(quick_book):
    card = json.loads((quick_book / "book" / "results" / "scorecard.json").read_text())
    entry = card["KS.lyapunov_exponent"]
    assert entry["profile"] == "quick" and entry["paper"] == 0.048
    # a rough (short) estimate still lands near the paper's value
    assert 0.02 < entry["ours"] < 0.08


def test_book_builds_with_warnings_as_errors(tmp_path_factory):
    html = built_quick_book(tmp_path_factory)
    assert (html / "index.html").exists()
    page = (html / "book" / "systems.html").read_text()
    assert "Paper Figure 36" in page and "<img" in page


def test_executed_chapters_carry_no_progress_bars_and_hide_their_parameters(quick_book):
    progress = re.compile(r"\d+%\|[^|]*\|\s*\d|\d+it \[\d+:\d+")
    for nb_path in (quick_book / "book").glob("*.ipynb"):
        for cell in json.loads(nb_path.read_text())["cells"]:
            tags = cell.get("metadata", {}).get("tags", [])
            if "parameters" in tags or "injected-parameters" in tags:
                assert "remove-cell" in tags, nb_path.name
            for out in cell.get("outputs", []):
                text = "".join(out.get("text", ""))
                assert not progress.search(text), f"{nb_path.name}: {text[:200]}"


def test_scorecard_entries_name_the_commit_of_their_chapter(quick_book):
    card = json.loads((quick_book / "book" / "results" / "scorecard.json").read_text())
    commits = {json.loads(p.read_text())["metadata"]["led"]["commit"] for p in (quick_book / "book").glob("*.ipynb")}
    assert {e["commit"] for e in card.values()} <= commits


def test_the_introduction_shows_the_headline_results_written_by_execution(quick_book):
    from ledlib import reproduction

    head = (quick_book / "book" / "results" / "headline.md").read_text()
    card = json.loads((quick_book / "book" / "results" / "scorecard.json").read_text())
    assert head.strip() == reproduction.render_headline(card, "scorecard.html").strip()
    assert (quick_book / "book" / "results" / "headline.png").stat().st_size > 10_000


def test_every_figure_is_drawn_at_150_dpi_or_more(quick_book):
    import base64
    import io

    from PIL import Image

    seen = 0
    for nb_path in (quick_book / "book").glob("*.ipynb"):
        for cell in json.loads(nb_path.read_text())["cells"]:
            for out in cell.get("outputs", []):
                png = out.get("data", {}).get("image/png")
                if png:
                    im = Image.open(io.BytesIO(base64.b64decode("".join(png))))
                    assert im.info.get("dpi", (0, 0))[0] >= 149, f"{nb_path.name}: {im.info.get('dpi')}"
                    seen += 1
    assert seen > 20
