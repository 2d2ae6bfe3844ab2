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
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def chapter_sources(names=None) -> list[Path]:
    srcs = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
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


def execute(src: Path, out: Path, params: dict) -> float:
    import jupytext
    import nbformat
    import papermill

    made_at = commit()  # the code that runs, not what the tree holds when it ends
    os.environ["LED_COMMIT"] = made_at  # the kernel inherits it: scorecard entries name this commit
    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    with tempfile.TemporaryDirectory() as tmp:
        ipynb = Path(tmp) / f"{src.stem}.ipynb"
        nbformat.write(nb, ipynb)
        start = time.perf_counter()
        papermill.execute_notebook(str(ipynb), str(ipynb),
                                   parameters={k: v for k, v in params.items() if k != "device_used"}, kernel_name="python3",
                                   cwd=str(ROOT), progress_bar=False, log_output=False)
        wall = time.perf_counter() - start
        nb = nbformat.read(ipynb, as_version=4)
    for cell in nb.cells:  # the reader sees the parameters cell, not papermill's copy of it
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.metadata["tags"] = cell.metadata["tags"] + ["remove-cell"]
    stamp = (f"```{{admonition}} How this page was made\n:class: note\n"
             f"Executed with the **{params['profile']}** profile on **{params['device_used']}** "
             f"(seed {params['seed']}) in {wall:.0f} s, at commit `{made_at}`, "
             f"on {datetime.now(timezone.utc):%Y-%m-%d}.\n```")
    title_at = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), -1)
    nb.cells.insert(title_at + 1, nbformat.v4.new_markdown_cell(stamp))
    nb.metadata["led"] = {"profile": params["profile"], "device": params["device_used"],
                          "seed": params["seed"], "wall_time_s": round(wall, 1), "commit": made_at}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp_out)
    os.replace(tmp_out, out)
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
    ap.add_argument("chapters", nargs="*", help="chapter names (default: all)")
    args = ap.parse_args(argv)
    results = (args.results_dir or args.output_dir / "results").resolve()
    params = {"profile": args.profile, "device": args.device, "seed": args.seed,
              "results_dir": str(results), "cache_dir": str(args.cache_dir.resolve()) if args.cache_dir else ""}
    params["device_used"] = resolve_device(args.device)
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
