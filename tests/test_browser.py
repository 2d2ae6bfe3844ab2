"""The book as a reader meets it: every page opened in headless Chromium at 1400 x 900.

A page fails on: a height over 40 screens, a JavaScript exception, a script or stylesheet
fetched from the internet, progress-bar text or more than three stderr blocks, a table or
code block wider than its column, a figure caption not starting "Paper Figure N" (a table
caption not starting "Paper Table N").

The HTML-level parts (progress bars, stderr blocks, remote assets, captions, over-long code
lines) run without a browser too. The browser parts need Chromium: ``apt-get install -y
chromium`` (``.ci/run`` does it when it runs as root), or point ``$LED_CHROMIUM`` at a
Chrome/Chromium binary; without one they skip and say so.

Three groups of tests:
- the checkers themselves, on hand-made pages (fast, always run);
- the quick book (marker ``book``): the chapters executed by ``tests/test_book.py`` (one
  execution shared with it) and built once;
- the committed book, ``test_committed_book_as_a_reader_sees_it``: the executed chapters
  under ``book/`` as they are in git, built (seconds) and opened; it executes nothing.
  ``LED_CHECK_COMMITTED_BOOK=0`` skips it. (Its figures are the committed execution's: the
  legibility rules of ``ledlib.plots.legible`` reach them with the next re-execution; the
  figure tests below check the rules themselves.)

Run as a script to print the per-page measurements of a built book:
``python tests/test_browser.py _build/html``.
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

WINDOW = (1400, 900)
MAX_SCREENS = 40
MAX_STDERR_BLOCKS = 3
CODE_COLUMN_CHARS = 92  # monospace characters that fit the text column at 1400 px
WRAP_STYLESHEET = "led-book.css"  # book/_ext/static: wraps output and code lines to the column

# tqdm's bar ("LED forecast:  57%|#####     | 4560/8000 [00:03<00:02, 1.2e3it/s]") or its
# counter form without a total ("1234it [00:01, 987.6it/s]")
PROGRESS = re.compile(r"\d+%\|[^|\n]*\|\s*\d+(?:\.\d+)?[kMG]?/\d+|\d+(?:it|epoch)s? \[\d+:\d+|\[\d+:\d+<\d+:\d+")
CAPTION = re.compile(r"^Paper (Figure|Table)s? \d+")
# chapters beyond the paper (adaptive LED, the tutorial on a user's own simulator): their
# figures are not the paper's, and their captions must say so instead of naming one
NOT_PAPER_CHAPTERS = {"adaptive", "own_simulator"}
NOT_PAPER_FIGURE = "(not a paper figure)"


# ----------------------------------------------------------------------------- HTML level
class _Page(HTMLParser):
    """Collects what the HTML-level checks need, in one pass."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.remote: list[str] = []
        self.stderr_blocks = 0
        self.captions: list[tuple[str, str]] = []  # (figure|table, text)
        self.pre_texts: list[str] = []
        self.text_parts: list[str] = []
        self._stack: list[tuple[str, set]] = []
        self._caption: list | None = None
        self._pre: list | None = None
        self._pre_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = set((a.get("class") or "").split())
        if tag == "script" and a.get("src") and re.match(r"(https?:)?//", a["src"]):
            self.remote.append(a["src"])
        if tag == "link" and "stylesheet" in (a.get("rel") or "") and re.match(r"(https?:)?//", a.get("href", "")):
            self.remote.append(a["href"])
        if tag == "div" and "stderr" in cls and "output" in cls:
            self.stderr_blocks += 1
        if tag in ("figcaption", "caption") and self._caption is None:
            self._caption = ["figure" if tag == "figcaption" else "table", [], len(self._stack)]
        if tag == "pre":
            self._pre_depth += 1
            if self._pre is None:
                self._pre = []
        if tag not in ("br", "img", "meta", "link", "input", "hr", "source", "wbr"):
            self._stack.append((tag, cls))

    def handle_endtag(self, tag):
        while self._stack:
            t, cls = self._stack.pop()
            if t == tag:
                break
        if tag == "pre":
            self._pre_depth -= 1
            if self._pre_depth == 0 and self._pre is not None:
                self.pre_texts.append("".join(self._pre))
                self._pre = None
        if tag in ("figcaption", "caption") and self._caption is not None:
            kind, parts, _ = self._caption
            self.captions.append((kind, " ".join("".join(parts).split())))
            self._caption = None

    def handle_data(self, data):
        in_headerlink = any(t == "a" and "headerlink" in cls for t, cls in self._stack)
        if self._caption is not None and not in_headerlink:
            self._caption[1].append(data)
        if self._pre is not None:
            self._pre.append(data)
        self.text_parts.append(data)


def html_report(page: Path | str) -> dict:
    """The HTML-level measurements of one rendered page."""
    text = Path(page).read_text(encoding="utf-8")
    p = _Page()
    p.feed(text)
    progress = sum(1 for part in p.text_parts for line in re.split(r"[\r\n]", part) if PROGRESS.search(line))
    # the book's stylesheet wraps long lines (then the browser check measures what is left)
    wraps = WRAP_STYLESHEET in text
    long_lines = [] if wraps else [ln for pre in p.pre_texts for ln in pre.splitlines()
                                   if len(ln.rstrip()) > CODE_COLUMN_CHARS]
    own = Path(page).stem in NOT_PAPER_CHAPTERS
    bad_captions = [f"{kind}: {cap[:80]}" for kind, cap in p.captions
                    if ("Paper Fig" in cap or NOT_PAPER_FIGURE not in cap if own and kind == "figure" else
                        not CAPTION.match(cap) or (kind == "figure" and not cap.startswith("Paper Fig")))]
    return {"progress_lines": progress, "stderr_blocks": p.stderr_blocks, "remote_assets": sorted(set(p.remote)),
            "bad_captions": bad_captions, "long_code_lines": len(long_lines),
            "long_code_examples": [ln[:120] for ln in long_lines[:3]], "kbytes": round(len(text.encode()) / 1024)}


def html_problems(name: str, r: dict) -> list[str]:
    out = []
    if r["progress_lines"]:
        out.append(f"{name}: {r['progress_lines']} progress-bar lines")
    if r["stderr_blocks"] > MAX_STDERR_BLOCKS:
        out.append(f"{name}: {r['stderr_blocks']} stderr blocks (at most {MAX_STDERR_BLOCKS})")
    if r["remote_assets"]:
        out.append(f"{name}: scripts/stylesheets from the internet: {r['remote_assets']}")
    if r["bad_captions"]:
        out.append(f"{name}: captions not starting 'Paper Figure N'/'Paper Table N': {r['bad_captions']}")
    if r["long_code_lines"]:
        out.append(f"{name}: {r['long_code_lines']} code/output lines wider than the column "
                   f"({CODE_COLUMN_CHARS} characters), e.g. {r['long_code_examples']}")
    return out


# ----------------------------------------------------------------------------- browser
# Runs first in <head>: it sees every exception and failed fetch of the page's own scripts,
# then (after load and MathJax) measures the page and writes the result into the DOM,
# which Chromium's --dump-dom prints.
_PROBE = """<script>
window.__led = {errors: [], failed: []};
window.addEventListener('error', function (e) {
  var t = e.target;
  if (t && t !== window && t.tagName) { __led.failed.push(t.tagName + ' ' + (t.src || t.href || '')); }
  else { __led.errors.push(String(e.message || e.type)); }
}, true);
window.addEventListener('unhandledrejection', function (e) { __led.errors.push('unhandled rejection: ' + e.reason); });
window.addEventListener('load', function () { setTimeout(function () {
  var col = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  var width = col.clientWidth, left = col.getBoundingClientRect().left, wide = [];
  document.querySelectorAll('article table, article pre, article img, article .output').forEach(function (el) {
    var r = el.getBoundingClientRect();
    var clipped = (el.tagName === 'PRE' || el.tagName === 'TABLE') && el.scrollWidth > el.clientWidth + 2;
    if (r.width > width + 2 || r.right > left + width + 2 || clipped) {
      wide.push(el.tagName + ' ' + Math.round(Math.max(r.width, el.scrollWidth)) + 'px > ' + width + 'px: ' +
                (el.textContent || el.src || '').trim().slice(0, 60));
    }
  });
  var remote = performance.getEntriesByType('resource').map(function (e) { return e.name; })
      .filter(function (n) { return /^https?:/.test(n); });
  var raw_math = (document.body.innerText.match(/\\\\\\(|\\\\\\[|\\$\\$/g) || []).length;
  var out = document.createElement('pre'); out.id = '__led_report';
  out.textContent = JSON.stringify({height: document.documentElement.scrollHeight, errors: __led.errors,
      failed: __led.failed, remote: remote, wide: wide, column: width, raw_math: raw_math});
  document.body.appendChild(out);
}, 2000); });
</script>"""


def chromium() -> str | None:
    for cand in (os.environ.get("LED_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if cand and shutil.which(cand):
            return shutil.which(cand)
    return None


def _skip_without_chromium() -> str:
    exe = chromium()
    if exe is None:
        pytest.skip("no Chromium: install it (Debian: apt-get install -y chromium; .ci/run does this as root) "
                    "or set LED_CHROMIUM to a Chrome/Chromium binary to run the browser checks")
    return exe


def browser_report(pages: list[Path], exe: str | None = None, timeout: float = 90.0) -> dict[str, dict]:
    """Open each page (a copy with the probe injected) in headless Chromium; per page the
    height in screens, JavaScript errors, failed and remote fetches, elements wider than
    the column."""
    exe = exe or chromium()
    if exe is None:
        raise RuntimeError("no Chromium found (apt-get install -y chromium, or set LED_CHROMIUM)")
    out = {}
    with tempfile.TemporaryDirectory() as profile:
        for page in pages:
            page = Path(page)
            probe = page.with_name(f".probe-{page.name}")  # same folder: relative assets resolve
            probe.write_text(page.read_text(encoding="utf-8").replace("<head>", "<head>" + _PROBE, 1),
                             encoding="utf-8")
            try:
                for _attempt in range(2):  # one retry: a headless start now and then returns an empty DOM
                    proc = subprocess.run(
                        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
                         "--hide-scrollbars", "--virtual-time-budget=15000", "--dump-dom", probe.as_uri()],
                        capture_output=True, text=True, timeout=timeout)
                    if '<pre id="__led_report">' in proc.stdout:
                        break
            finally:
                probe.unlink(missing_ok=True)
            m = re.search(r'<pre id="__led_report">(.*?)</pre>', proc.stdout, re.S)
            if not m:
                out[page.name] = {"error": f"no report from Chromium (rc {proc.returncode}): {proc.stderr[-500:]}"}
                continue
            r = json.loads(html_lib.unescape(m.group(1)))
            r["screens"] = round(r.pop("height") / WINDOW[1], 1)
            out[page.name] = r
    return out


def browser_problems(name: str, r: dict) -> list[str]:
    if "error" in r:
        return [f"{name}: {r['error']}"]
    out = []
    if r["screens"] > MAX_SCREENS:
        out.append(f"{name}: {r['screens']} screens tall (at most {MAX_SCREENS} at {WINDOW[0]}x{WINDOW[1]})")
    if r["errors"]:
        out.append(f"{name}: JavaScript exceptions {r['errors']}")
    remote = sorted(set(r["remote"]) | {f for f in r["failed"] if re.search(r"https?://", f)})
    if remote:
        out.append(f"{name}: fetched from the internet: {remote}")
    if r["wide"]:
        out.append(f"{name}: {len(r['wide'])} elements wider than the column, e.g. {r['wide'][:3]}")
    return out


def book_pages(html_dir: Path) -> list[Path]:
    pages = sorted((Path(html_dir) / "book").glob("*.html"))
    if not pages:
        raise FileNotFoundError(f"no rendered pages under {html_dir}/book")
    return pages


def check_book(html_dir: Path, browser: bool) -> tuple[list[str], dict]:
    """Every problem of every page, and the measurements."""
    problems, report = [], {}
    pages = book_pages(html_dir)
    for page in pages:
        r = html_report(page)
        report[page.name] = r
        problems += html_problems(page.name, r)
    if browser:
        for name, r in browser_report(pages).items():
            report[name].update(r)
            problems += browser_problems(name, r)
    return problems, report


def build(site: Path) -> Path:
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run([str(jb), "build", str(site), "--keep-going"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return site / "_build" / "html"


# ----------------------------------------------------------------------------- the checkers
def _page(tmp_path: Path, body: str, head: str = "") -> Path:
    p = tmp_path / "book" / "p.html"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(f"<html><head>{head}</head><body><article class='bd-article'>{body}</article></body></html>")
    return p


def test_html_checks_catch_what_a_reader_would_meet(tmp_path):
    bar = "LED forecast:  57%|#####     | 4560/8000 [00:03&lt;00:02, 1.2e3it/s]"
    body = (f"<div class='output stderr'><pre>{bar}</pre></div>" * 5
            + "<figure><img src='a.png'/><figcaption><p><span class='caption-number'>Fig. 19 </span>"
              "Paper Figure 17: the latent.</p></figcaption></figure>"
            + "<figure><figcaption><p>Paper Figure 3: fine.</p></figcaption></figure>"
            + "<pre>" + "x" * 120 + "</pre>")
    r = html_report(_page(tmp_path, body, "<script src='https://cdn.example.org/m.js'></script>"
                                          "<link rel='stylesheet' href='_static/ok.css'/>"))
    assert r["progress_lines"] == 5 and r["stderr_blocks"] == 5
    assert r["remote_assets"] == ["https://cdn.example.org/m.js"]
    assert r["bad_captions"] == ["figure: Fig. 19 Paper Figure 17: the latent."]
    assert r["long_code_lines"] == 1
    assert len(html_problems("p", r)) == 5
    clean = html_report(_page(tmp_path, "<div class='output stderr'><pre>UserWarning: x</pre></div>"
                                        "<figure><figcaption><p>Paper Figure 3: fine.</p></figcaption></figure>"
                                        "<table><caption>Paper Table 2: grid</caption></table><pre>short</pre>"))
    assert html_problems("p", clean) == []


def test_the_tutorial_captions_say_they_are_not_the_papers(tmp_path):
    fig = "<figure><figcaption><p>{}</p></figcaption></figure>"
    own = tmp_path / "book" / "own_simulator.html"
    own.parent.mkdir(parents=True)
    own.write_text(fig.format("Fig. 1 The tutorial's simulator (not a paper figure): x(t).")
                   + fig.format("Fig. 2 Paper Figure 3: borrowed.") + fig.format("Fig. 3 A density."))
    assert html_report(own)["bad_captions"] == ["figure: Fig. 2 Paper Figure 3: borrowed.",
                                                "figure: Fig. 3 A density."]
    # elsewhere the rule is unchanged: a figure names the paper's
    other = _page(tmp_path, fig.format("The tutorial's simulator (not a paper figure): x(t)."))
    assert len(html_report(other)["bad_captions"]) == 1


def test_browser_checks_catch_exceptions_height_and_width(tmp_path):
    exe = _skip_without_chromium()
    dup = "<script>const A = 1;</script><script>const A = 2;</script>"
    tall = "<div style='height:50000px'></div>"
    wide = "<pre style='overflow:auto'>" + "y" * 400 + "</pre>"
    bad = browser_report([_page(tmp_path, dup + tall + wide)], exe)["p.html"]
    assert any("A" in e and "declared" in e for e in bad["errors"]), bad
    assert bad["screens"] > MAX_SCREENS and bad["wide"], bad
    assert len(browser_problems("p", bad)) == 3
    good = browser_report([_page(tmp_path, "<p>short page</p><pre>z</pre>")], exe)["p.html"]
    assert browser_problems("p", good) == [], good


# ----------------------------------------------------------------------------- the books
@pytest.mark.book
def test_quick_book_as_a_reader_sees_it(quick_html):
    problems, _ = check_book(quick_html, browser=chromium() is not None)
    assert not problems, "\n".join(problems)
    if chromium() is None:
        _skip_without_chromium()  # HTML-level parts passed; say why the browser parts did not run


@pytest.fixture(scope="module")
def quick_html(tmp_path_factory):
    import test_book

    return test_book.built_quick_book(tmp_path_factory)


@pytest.mark.skipif(os.environ.get("LED_CHECK_COMMITTED_BOOK") == "0",
                    reason="LED_CHECK_COMMITTED_BOOK=0: the committed book is not checked")
def test_committed_book_as_a_reader_sees_it(tmp_path):
    site = tmp_path / "site"
    (site / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, site / name)
    shutil.copytree(ROOT / "book", site / "book", dirs_exist_ok=True)
    problems, _ = check_book(build(site), browser=chromium() is not None)
    assert not problems, "\n".join(problems)


if __name__ == "__main__":
    html_dir = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "_build" / "html").resolve()
    use_browser = chromium() is not None and "--no-browser" not in sys.argv
    problems, report = check_book(html_dir, browser=use_browser)
    keys = ("screens", "progress_lines", "stderr_blocks", "errors", "wide", "long_code_lines", "bad_captions",
            "remote_assets", "kbytes")
    print("page".ljust(16) + "".join(k[:12].rjust(14) for k in keys))
    for name, r in report.items():
        cells = [len(r[k]) if isinstance(r.get(k), list) else r.get(k, "-") for k in keys]
        print(name.ljust(16) + "".join(str(c).rjust(14) for c in cells))
    print(f"{len(problems)} problems")


# ----------------------------------------------------------------------------- figures
def _tick_labels_overlap(fig) -> bool:
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    for ax in fig.axes:
        boxes = [t.get_window_extent(r) for t in ax.get_xticklabels() if t.get_text() and t.get_visible()]
        if any(a.overlaps(b) for a, b in zip(boxes, boxes[1:])):
            return True
    return False


def test_figures_are_legible_at_the_page_width():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from ledlib import plots

    fig, axes = plt.subplots(1, 4, figsize=(14, 3), dpi=100)
    for ax in axes:
        ax.plot([100000, 900000], [0, 1], label="curve")
        ax.set_title("panel", fontsize=6)
        ax.legend(fontsize=5)
        ax.tick_params(labelsize=6)
    assert plots.rendered_text_px(fig) < 6
    plots.legible(fig)
    assert fig.dpi >= 150
    assert plots.rendered_text_px(fig) >= plots.MIN_TEXT_PX - 1e-9
    assert not _tick_labels_overlap(fig)
    plt.close(fig)
    with pytest.raises(TypeError, match="fig"):
        plots.legible("not a figure")


def test_every_plot_function_returns_a_legible_figure():
    import numpy as np

    from ledlib import plots
    from ledlib.plots import adaptive, fhn, ks, own_simulator, particles, scorecard, systems, theory, tradeoffs

    names = [n for m in (fhn, ks, particles, scorecard, systems, theory, tradeoffs, adaptive, own_simulator)
             for n in m.__all__
             if callable(getattr(m, n)) and not isinstance(getattr(m, n), type)]
    assert names and all(hasattr(getattr(plots, n), "__wrapped__") for n in names)
    # one of them end to end: a long latent series is shown as a window, legend colours are the curves'
    t = np.arange(3000.0)
    z = np.sin(0.5 * t)[:, None]
    run = {"t": t, "z_pred": z, "z_true": z, "wd": 0.1 + 0 * t, "m1_err": 0.1 + 0 * t, "m2_err": 0.1 + 0 * t}
    fig = plots.particle_forecast({"latent": run}, n_latent=1)
    assert fig.dpi >= 150 and plots.rendered_text_px(fig) >= plots.MIN_TEXT_PX - 1e-9
    ax = fig.axes[0]
    assert ax.get_xlim()[1] - ax.get_xlim()[0] < 0.2 * (t[-1] - t[0])
    curve = ax.get_lines()[0].get_color()
    legend = [h.get_color() for h in ax.get_legend().get_lines()]
    from matplotlib.colors import to_rgba

    assert all(to_rgba(c) == to_rgba(curve) for c in legend)
