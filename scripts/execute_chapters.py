"""Execute the book's chapters with papermill and stamp each with how it was made.

Chapter sources are the Jupytext (py:percent) files ``notebooks/NN_name.py``; the
executed notebook goes to ``<output-dir>/name.ipynb`` (what ``_toc.yml`` points to).
Without ``--force`` a chapter whose executed notebook already exists is kept, so
``make book`` renders the committed (paper-profile) outputs and only runs what is
missing.

    python scripts/execute_chapters.py --profile quick [--force] [--output-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # ledlib, when run as a script from anywhere


def chapter_sources(names=None) -> list[Path]:
    # the scorecard renders what the others recorded: it runs last, whatever its number
    srcs = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"), key=lambda p: (chapter_name(p) == "scorecard", p.name))
    if names:
        srcs = [p for p in srcs if chapter_name(p) in names]
        missing = set(names) - {chapter_name(p) for p in srcs}
        if missing:
            raise SystemExit(f"unknown chapters: {sorted(missing)}")
    return srcs


def chapter_name(src: Path) -> str:
    return src.stem.split("_", 1)[1]


def commit() -> str:
    try:
        h = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.strip()
        # the runner's own outputs (executed chapters, the scorecard) do not make the code dirty:
        # chapters running side by side write them while another starts
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)book/*.ipynb", ":(exclude)book/results"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return h + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


# tqdm's bar ("LED forecast:  57%|#####     | 4560/8000 [00:03<00:02, 1.2e3it/s]") and its
# counter form ("1234it [00:01, 987.6it/s]"): what a watching person needs, not a reader
_PROGRESS = re.compile(r"^.*(\d+%\|[^|]*\|\s*\d|\d+(it|epoch)s? \[\d+:\d+|\[\d+:\d+<\d+:\d+).*$")


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def quiet_outputs(nb) -> int:
    """Drop progress-bar text from the stream outputs of ``nb`` (in place); streams left
    empty are removed. Returns how many progress lines were dropped.

    ``TQDM_DISABLE`` keeps most bars out of an execution; this catches the ones a cell asks
    for explicitly (``tqdm(..., disable=False)``), which outrank the environment."""
    dropped = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                lines = re.split(r"(?<=\n)|\r", out.get("text", ""))
                bars = [ln for ln in lines if _PROGRESS.match(_ANSI.sub("", ln).strip("\n"))]
                dropped += len(bars)
                # what is left of a bar: cursor moves ("\x1b[A") and blank redraws
                keep = [ln for ln in lines if ln not in bars and (_ANSI.sub("", ln).strip() or ln == "\n")]
                out["text"] = "".join(keep)
                if not _ANSI.sub("", out["text"]).strip():
                    continue
            kept.append(out)
        cell["outputs"] = kept
    return dropped


STAMP_TITLE = "How this page was made"


def stamp_text(params: dict, wall: float, made_at: str, day: str | None = None, revised: str = "") -> str:
    """The page's one statement of how it was made (the parameters cell itself is hidden)."""
    day = day or f"{datetime.now(timezone.utc):%Y-%m-%d}"
    extra = (f" Text and cell visibility revised at commit `{revised}` without re-executing: "
             f"every output is the execution's.") if revised else ""
    return (f"```{{admonition}} {STAMP_TITLE}\n:class: note\n"
            f"Executed with the **{params['profile']}** profile on **{params['device_used']}** "
            f"(parameters: `profile = \"{params['profile']}\"`, `device = \"{params['device']}\"`, "
            f"`seed = {params['seed']}`) in {wall:.0f} s, at commit `{made_at}`, on {day}.{extra}\n```")


def _profile_prose(nb, profile: str) -> None:
    """Prose about one profile (a Markdown cell tagged ``only-quick`` / ``only-paper``)
    appears only on pages executed in that profile."""
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        only = [t[len("only-"):] for t in tags if t.startswith("only-")]
        if only and profile not in only and "remove-cell" not in tags:
            cell.metadata["tags"] = tags + ["remove-cell"]


def _hide_parameters(nb) -> None:
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        # the stamp states the parameters: papermill's copy and the defaults cell are hidden
        if ("injected-parameters" in tags or "parameters" in tags) and "remove-cell" not in tags:
            cell.metadata["tags"] = tags + ["remove-cell"]


def _signature(cells) -> list:
    """What a reader sees of the cells, the stamp aside: sources, tags, figure metadata, outputs."""
    return [(c.cell_type, c.source, c.metadata.get("tags") or [], c.metadata.get("mystnb"), c.get("outputs"))
            for c in cells if not (c.cell_type == "markdown" and STAMP_TITLE in c.source)]


def tidy(src: Path, out: Path) -> str:
    """Bring an executed chapter's text up to its source without re-executing it: Markdown
    cells, cell tags and figure metadata from ``src``, progress bars out, parameters hidden,
    the stamp restated. Refuses (returns why) when a code cell's source differs from the
    executed one: then only an execution can bring the page up to date."""
    import jupytext
    import nbformat

    nb = nbformat.read(out, as_version=4)
    before = json.loads(json.dumps(_signature(nb.cells)))  # a copy: the cells are edited in place
    fresh = jupytext.read(src)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    code = [c for c in nb.cells if c.cell_type == "code" and c not in injected]
    fresh_code = [c for c in fresh.cells if c.cell_type == "code"]
    if len(code) != len(fresh_code):
        return f"{len(code)} code cells executed, {len(fresh_code)} in the source"
    for old, new in zip(code, fresh_code):
        if old.source.strip() != new.source.strip():
            return f"code differs from the executed one at: {new.source.strip()[:60]!r}"
    # the source's cells in order, each code cell the executed one (outputs kept), its tags
    # and figure metadata from the source; Markdown cells (prose) from the source
    executed = iter(code)
    cells = []
    for new in fresh.cells:
        if new.cell_type != "code":
            md = nbformat.v4.new_markdown_cell(new.source, metadata=dict(new.metadata))
            md["id"] = f"md-{len(cells)}"  # stable: re-tidying an unchanged chapter changes nothing
            cells.append(md)
            continue
        old = next(executed)
        for key in ("tags", "mystnb"):
            if key in new.metadata:
                old.metadata[key] = new.metadata[key]
            else:
                old.metadata.pop(key, None)
        cells.append(old)
        if "parameters" in old.metadata.get("tags", []):
            cells += injected
    old_stamp = next((c.source for c in nb.cells if c.cell_type == "markdown" and STAMP_TITLE in c.source), "")
    nb.cells = cells
    led = nb.metadata.get("led", {})
    _hide_parameters(nb)
    _profile_prose(nb, led.get("profile", ""))
    quiet_outputs(nb)
    if json.loads(json.dumps(_signature(nb.cells))) == before and "parameters: " in old_stamp:
        return ""  # nothing to bring up to date: the page stays as executed, file untouched
    m = re.search(r"on (\d{4}-\d{2}-\d{2})", old_stamp)
    day = m.group(1) if m else None
    params = {"profile": led.get("profile", "?"), "device": led.get("device", "?"),
              "device_used": led.get("device", "?"), "seed": led.get("seed", 0)}
    led["text_commit"] = commit()
    text = stamp_text(params, led.get("wall_time_s", 0.0), led.get("commit", "unknown"), day, led["text_commit"])
    title_at = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), -1)
    stamp = nbformat.v4.new_markdown_cell(text)
    stamp["id"] = "led-stamp"
    nb.cells.insert(title_at + 1, stamp)
    nb.metadata["led"] = led
    tmp_out = out.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp_out)
    os.replace(tmp_out, out)
    return ""


def _staged_entries(stage: Path, seed: dict) -> dict:
    """The scorecard entries a chapter wrote into its staging folder (new or changed)."""
    from ledlib import scorecard

    card = scorecard.load(stage)
    return {k: v for k, v in card.items() if seed.get(k) != v}


def execute(src: Path, out: Path, params: dict) -> float:
    """Execute one chapter; its notebook and its scorecard entries land together, only if
    the execution succeeded (an interrupted or failed run leaves both as they were)."""
    import jupytext
    import nbformat
    import papermill

    from ledlib import scorecard

    made_at = commit()  # the code that runs, not what the tree holds when it ends
    os.environ["LED_COMMIT"] = made_at  # the kernel inherits it: scorecard entries name this commit
    results = Path(params["results_dir"])
    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    with tempfile.TemporaryDirectory() as tmp:
        # the chapter records into a staging copy of the scorecard (it may read the others' entries)
        stage = Path(tmp) / "results"
        stage.mkdir()
        seed = scorecard.load(results)
        if seed:
            (stage / scorecard.FILENAME).write_text(json.dumps(seed, indent=1, sort_keys=True) + "\n")
        before = {p.name: p.stat().st_mtime_ns for p in stage.iterdir()}
        ipynb = Path(tmp) / f"{src.stem}.ipynb"
        nbformat.write(nb, ipynb)
        start = time.perf_counter()
        quiet = os.environ.get("TQDM_DISABLE")
        os.environ["TQDM_DISABLE"] = "1"  # the kernel inherits it: no progress bars in the notebook (tqdm >= 4.66)
        try:
            papermill.execute_notebook(str(ipynb), str(ipynb),
                                       parameters={**{k: v for k, v in params.items() if k != "device_used"},
                                                   "results_dir": str(stage)},
                                       kernel_name="python3", cwd=str(ROOT), progress_bar=False, log_output=False)
        finally:
            if quiet is None:
                os.environ.pop("TQDM_DISABLE", None)
            else:
                os.environ["TQDM_DISABLE"] = quiet
        wall = time.perf_counter() - start
        nb = nbformat.read(ipynb, as_version=4)
        quiet_outputs(nb)
        _hide_parameters(nb)
        _profile_prose(nb, params["profile"])
        for cell in nb.cells:
            if "injected-parameters" in cell.metadata.get("tags", []):  # it names the staging folder, not where results land
                cell.source = "\n".join(ln for ln in cell.source.splitlines() if not ln.startswith("results_dir"))
        title_at = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), -1)
        nb.cells.insert(title_at + 1, nbformat.v4.new_markdown_cell(stamp_text(params, wall, made_at)))
        nb.metadata["led"] = {"profile": params["profile"], "device": params["device_used"],
                              "seed": params["seed"], "wall_time_s": round(wall, 1), "commit": made_at}
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = out.with_suffix(".ipynb.tmp")
        nbformat.write(nb, tmp_out)
        try:
            entries = _staged_entries(stage, seed)
            if entries:
                scorecard.merge(results, entries)
            # other result files the chapter wrote (e.g. the introduction's headline) land too
            for f in stage.iterdir():
                if f.name != scorecard.FILENAME and not f.name.startswith(".") and f.is_file() \
                        and before.get(f.name) != f.stat().st_mtime_ns:
                    results.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(f, results / f".{f.name}.tmp")
                    os.replace(results / f".{f.name}.tmp", results / f.name)
            os.replace(tmp_out, out)
        finally:
            tmp_out.unlink(missing_ok=True)
    return wall


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=("quick", "paper"), default="quick")
    ap.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="re-execute chapters that already have outputs")
    ap.add_argument("--output-dir", type=Path, default=ROOT / "book")
    ap.add_argument("--results-dir", type=Path, default=None,
                    help="where chapters write scorecard.json (default: <output-dir>/results)")
    ap.add_argument("--cache-dir", type=Path, default=None, help="data/model cache (default $LED_CACHE_DIR or .cache)")
    ap.add_argument("--tidy", action="store_true",
                    help="execute nothing: bring executed chapters' text, tags and captions up to their sources "
                         "(only where every code cell is unchanged), drop progress bars, hide parameters")
    ap.add_argument("chapters", nargs="*", help="chapter names (default: all)")
    args = ap.parse_args(argv)
    results = (args.results_dir or args.output_dir / "results").resolve()
    params = {"profile": args.profile, "device": args.device, "seed": args.seed,
              "results_dir": str(results), "cache_dir": str(args.cache_dir.resolve()) if args.cache_dir else ""}
    params["device_used"] = resolve_device(args.device)
    if args.tidy:
        for src in chapter_sources(args.chapters):
            out = args.output_dir / f"{chapter_name(src)}.ipynb"
            if not out.exists():
                print(f"[none] {out}")
                continue
            why = tidy(src, out)
            print(f"[skip] {out.name}: {why} (re-execute it)" if why else f"[tidy] {out.name}", flush=True)
        return 0
    ran = False
    for src in chapter_sources(args.chapters):
        out = args.output_dir / f"{chapter_name(src)}.ipynb"
        # the scorecard renders what the others wrote: refresh it whenever one of them ran
        stale = ran and chapter_name(src) == "scorecard"
        if out.exists() and not args.force and not stale:
            print(f"[keep] {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
            continue
        print(f"[run ] {src.name} ({args.profile}, {params['device_used']}) ...", flush=True)
        wall = execute(src, out, params)
        ran = True
        print(f"[done] {out} in {wall:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
