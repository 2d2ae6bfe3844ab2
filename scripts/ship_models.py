"""Convert every model of a cache into shipped models: ``models/`` + ``manifest.json``.

    python scripts/ship_models.py --cache /root/led-cache            # into <repo>/models
    python scripts/ship_models.py --cache DIR --out DIR2 --dry-run   # what would be shipped
    python scripts/ship_models.py --cache DIR --jobs FHN KS          # only what those chapters load

``--jobs SYSTEM ...`` ships only the models the chapters' jobs (``ledlib.studies.jobs``,
``--profile``, default paper) load from the cache, found by running each job with
training refused (``ledlib.train.loading_only``); the jobs whose models are missing are
listed. Without it, every model of the cache is shipped (experiments too).

Reads ``<cache>/models`` (never writes there) in both formats:

- portable files (``<stem>.safetensors`` + ``<stem>.json``, what ``ledlib.train`` writes
  now): their JSON names the model key, stage, seed and data hash; copied as they are;
- the earlier format (``<stem>.pt`` + a ``<stem>.json`` training record): the key is
  recomputed from the content of the dataset the model was trained on, found in
  ``<cache>/data`` by the earlier key (config, dataset spec, seed), and the model is
  rewritten as a portable file.

Each shipped model is listed in the manifest under its key (the one
``ledlib.train.fit``/``fit_led``/``fit_autoencoder``/``fit_rnn`` compute), with its system,
profile, stage, configuration, dataset content hash, training record (epochs, best
validation loss, device, wall time per stage) and the sha256 of both files, which
``ledlib.train`` checks before using one. The manifest is merged with what is there
and written atomically. A model that cannot be matched to its data is reported and skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, no install

import argparse
import hashlib
import json
import re

from ledlib import data, train
from ledlib.nn import LED, ModelFileError
from ledlib.nn.led import FORMAT, atomic_write_bytes, model_files, read_sidecar, sha256_file

_LEGACY_STEM = re.compile(r"^(?P<prefix>.+?)-(?P<key>[0-9a-f]{16})$")
_LEGACY_STAGE = re.compile(r"-(?P<stage>ae|rnn-[0-9a-f]{8})$")


def _summary(record: dict, stage: str) -> dict:
    """Epochs, best validation loss, device and wall time of each training stage."""
    stages = {"ae": record.get("ae", {}), "rnn": record.get("rnn", {})} if stage == "led" else {stage: record}
    return {name: {"epochs": r.get("epochs_run"), "best_val_loss": r.get("best_val_loss"),
                   "device": r.get("device"), "wall_time_s": r.get("wall_time_s"),
                   **({"stop_reason": r["stop_reason"]} if r.get("stop_reason") else {})}
            for name, r in stages.items() if r}


def _legacy_key(config_dict: dict, spec_key: str, seed: int) -> str:
    """The key of the earlier cache format (version 3: config, dataset spec key, seed)."""
    payload = json.dumps({"config": config_dict, "data": spec_key, "seed": seed, "version": 3},
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _spec_from_json(d: dict) -> data.DatasetSpec:
    splits = tuple((name, data.SplitSpec(sp["n_traj"], sp["n_samples"], sp["seed"],
                                         None if sp.get("ic") is None else tuple(sp["ic"])))
                   for name, sp in d["splits"])
    fields = {k: v for k, v in d.items() if k not in ("splits", "system_kwargs")}
    return data.DatasetSpec(splits=splits, system_kwargs=tuple(tuple(kv) for kv in d["system_kwargs"]), **fields)


def _datasets(cache: Path) -> list[tuple[str, data.DatasetSpec, Path]]:
    """(spec key of the file name, spec, json path) of every cached dataset."""
    out = []
    for meta in sorted((cache / "data").glob("*.json")):
        try:
            spec = _spec_from_json(json.loads(meta.read_text())["spec"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            print(f"  skip dataset {meta.name}: {err}")
            continue
        out.append((meta.stem.rsplit("-", 1)[-1], spec, meta))
    return out


def _entry(led: LED, key: str, stage: str, seed: int, record: dict, stem: str) -> dict:
    cfg = led.config
    return {"key": key, "system": cfg.system, "profile": cfg.profile, "stage": stage, "seed": seed,
            "configuration": cfg.to_dict(), "data_hash": led.data_hash, "train_record": _summary(record, stage),
            "file": f"{stem}.safetensors"}


def _portable(path: Path) -> tuple[LED, str, str, int, dict]:
    led = LED.load(path)
    rec = led.train_record or {}
    if not {"key", "stage", "seed", "record"} <= set(rec):
        raise ModelFileError(f"{path} names no model key (not written by ledlib.train)", path)
    return led, rec["key"], rec["stage"], rec["seed"], rec["record"]


def _legacy(pt: Path, cache: Path, datasets, loaded: dict) -> tuple[LED, str, str, int, dict]:
    import torch

    m = _LEGACY_STEM.match(pt.stem)
    record_path = pt.with_suffix(".json")
    if m is None or not record_path.exists():
        raise ValueError("not a cached model (stem or training record missing)")
    record = json.loads(record_path.read_text())
    st = _LEGACY_STAGE.search(m["prefix"])
    stage = st["stage"] if st else "led"
    seed = record["ae"]["seed"] if stage == "led" else record["seed"]
    blob = torch.load(pt, map_location="cpu", weights_only=True)
    led = LED.load_torch_file(pt)
    for spec_key, spec, meta in datasets:
        if spec.system == led.config.system and _legacy_key(blob["config"], spec_key, seed) == m["key"]:
            break
    else:
        raise ValueError("no dataset in the cache matches its key (trained on data no longer cached?)")
    if spec_key not in loaded:
        loaded[spec_key] = data.content_hash(data.read(spec, cache))
    led.data_hash = loaded[spec_key]
    key = train.model_key(led.config, led.data_hash, seed, stage)
    led.train_record = {"key": key, "stage": stage, "seed": seed, "record": record}
    return led, key, stage, seed, record


def job_stems(cache, systems, profile: str = "paper") -> tuple[set[str], list[str]]:
    """The cache stems of the models the jobs of ``systems`` load from ``cache`` (not
    those already shipped), and the names of the jobs whose models are missing."""
    from ledlib import studies

    missing = []
    with train.loading_only() as loads:
        for system in systems:
            for job in studies.jobs(system, profile):
                try:
                    job.run(str(cache), 0, "cpu")
                except train.NotCached as err:
                    missing.append(f"{job.name} ({err.stem.name})")
    return {stem.name for stem, source in loads if source == "cache"}, missing


def ship(cache, out=None, dry_run: bool = False, only=None) -> dict:
    """Ship every model of ``cache`` (or those whose stem is in ``only``) into ``out``
    (default: ``ledlib.train.models_dir()``); returns the manifest written (or that would be)."""
    cache, out = Path(cache), train.models_dir(out)
    manifest = train.read_manifest(out)
    datasets, loaded = _datasets(cache), {}
    candidates = sorted((cache / "models").glob("*.json")) + sorted((cache / "models").glob("*.pt"))
    if only is not None:
        candidates = [p for p in candidates if p.stem in only]
    for path in candidates:
        try:
            if path.suffix == ".json":
                info = json.loads(path.read_text())
                if info.get("format") != FORMAT:
                    continue  # a training record of the earlier format: read with its .pt
                read_sidecar(path)
                led, key, stage, seed, record = _portable(path)
            else:
                led, key, stage, seed, record = _legacy(path, cache, datasets, loaded)
        except (ValueError, KeyError, TypeError, OSError) as err:
            print(f"  skip {path.name}: {err}")
            continue
        stem = train.model_stem(led.config, stage, key)
        entry = _entry(led, key, stage, seed, record, stem)
        if not dry_run:
            led.save(out / stem)
            weights, sidecar = model_files(out / stem)
            entry.update(sha256=sha256_file(weights), sidecar_sha256=sha256_file(sidecar),
                         bytes=weights.stat().st_size + sidecar.stat().st_size)
        manifest["models"][key] = entry
        print(f"  {stem}: {led.config.system} {led.config.profile} {stage}, "
              f"{sum(p.numel() for p in led.state_dict().values())} numbers")
    if not dry_run:
        atomic_write_bytes(out / train.MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
        total = sum(e.get("bytes", 0) for e in manifest["models"].values())
        print(f"{len(manifest['models'])} models in {out} ({total / 2**20:.1f} MiB)")
    return manifest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", required=True, help="the cache to read (its models/ and data/ folders)")
    ap.add_argument("--out", default=None, help="the models folder (default: $LED_MODELS_DIR or <repo>/models)")
    ap.add_argument("--dry-run", action="store_true", help="list what would be shipped; write nothing")
    ap.add_argument("--jobs", nargs="+", metavar="SYSTEM", choices=("KS", "FHN", "AD1D", "AD3D"),
                    help="ship only the models these systems' chapter jobs load")
    ap.add_argument("--profile", default="paper", choices=("quick", "paper"), help="the jobs' profile (--jobs)")
    args = ap.parse_args(argv)
    if not (Path(args.cache) / "models").is_dir():
        ap.error(f"--cache {args.cache}: no models/ folder there")
    only = None
    if args.jobs:
        only, missing = job_stems(args.cache, args.jobs, args.profile)
        for name in missing:
            print(f"  missing (train it first): {name}")
        print(f"{len(only)} cached models loaded by the jobs of {' '.join(args.jobs)}")
    ship(args.cache, args.out, dry_run=args.dry_run, only=only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
