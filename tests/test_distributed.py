"""Training jobs on Dask (``ledlib.distributed``): a real LocalCluster, a worker killed
mid-training, an unreachable scheduler."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ledlib import configs, data, distributed, train
from ledlib.configs import AutoencoderConfig, TrainConfig
from ledlib.nn import build_autoencoder
from ledlib.studies import Job
from ledlib.train import train_autoencoder

ROOT = Path(__file__).resolve().parent.parent

cloudpickle = pytest.importorskip("cloudpickle")
# the jobs below are this module's functions: ship them by value, whatever the workers' sys.path
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def client():
    # two worker processes on the loopback; a job may survive one worker death at most twice
    with distributed.connect(workers=2, threads=1, device="cpu", allowed_failures=2) as c:
        yield c


# one torch thread, as the workers (threads=1): same reductions, same bits
pytestmark = pytest.mark.usefixtures("one_thread")


# ---------------------------------------------------------------------------------
# two tiny jobs through the real cache path (fit_autoencoder: model key, lock, checkpoints)
# ---------------------------------------------------------------------------------
def _tiny_ks(cache):
    s = data.spec("KS", "quick")
    s = s.with_(splits=(("train", data.SplitSpec(1, 120, seed=1)), ("val", data.SplitSpec(1, 60, seed=2))),
                transient=10.0)
    config = configs.get("KS", "quick")
    config = config.replace(ae=dataclasses.replace(config.ae, n_layers=2, width=16, d_z=4),
                            ae_train=dataclasses.replace(config.ae_train, max_epochs=4, patience=10))
    return data.load(s, cache=cache, progress=False), config


def _fit_tiny_ae(d_z, cache, seed, device):
    ds, config = _tiny_ks(cache)
    config = config.replace(ae=dataclasses.replace(config.ae, d_z=d_z))
    led, record = train.fit_autoencoder(config, ds, cache=cache, seed=seed, device=device, progress=False)
    return {"weights": {k: v.numpy() for k, v in led.autoencoder.state_dict().items()},
            "record": {"best_val_loss": record["best_val_loss"], "epochs_run": record["epochs_run"]}}


def test_two_tiny_jobs_train_on_the_cluster_and_then_load_from_the_cache(client, tmp_path):
    _tiny_ks(tmp_path)  # the dataset first, as pretrain.py does
    jobs = [Job(f"tiny-AE-{d}", functools.partial(_fit_tiny_ae, d)) for d in (2, 3)]
    reports = {r.name: r for r in distributed.run_jobs(client, jobs, cache=tmp_path, seed=5, device="cpu")}
    assert set(reports) == {"tiny-AE-2", "tiny-AE-3"}
    assert all(r.ok for r in reports.values()), [r.status for r in reports.values()]
    assert all(r.worker and r.worker.startswith("tcp://127.0.0.1:") for r in reports.values())
    models = sorted((tmp_path / "models").glob("KS-quick-ae-*.safetensors"))
    assert len(models) == 2
    # a model trained on a worker is the one this process trains: same key, same bits
    here = _fit_tiny_ae(2, tmp_path / "here", 5, "cpu")
    _tiny_ks(tmp_path / "here")
    for k, v in here["weights"].items():
        np.testing.assert_array_equal(reports["tiny-AE-2"].result["weights"][k], v, err_msg=k)
    assert reports["tiny-AE-2"].result["record"]["epochs_run"] == 4
    # idempotent: the same jobs again load the cached models, the files untouched
    stamps = {p: p.stat().st_mtime_ns for p in models}
    again = {r.name: r for r in distributed.run_jobs(client, jobs, cache=tmp_path, seed=5, device="cpu")}
    assert all(r.ok for r in again.values())
    assert {p: p.stat().st_mtime_ns for p in models} == stamps
    assert again["tiny-AE-3"].result["record"] == reports["tiny-AE-3"].result["record"]


# ---------------------------------------------------------------------------------
# a worker killed mid-training: the scheduler reruns the job, which resumes, bit for bit
# ---------------------------------------------------------------------------------
_CFG = TrainConfig(max_epochs=8, batch_size=16, noise_level=0.1, weight_decay=1e-4, lr_patience=1, patience=50)
_AE = AutoencoderConfig((12,), d_z=2, n_layers=2, width=16, variational=True)


def _field_data(n, seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, (n, 1))
    return (np.sin(t + np.linspace(0, np.pi, 12)[None]) + 0.05 * rng.normal(size=(n, 12))).astype(np.float32)


def _slow_job(ckdir, marker, pause, cache, seed, device):
    """Train a tiny VAE into ``ckdir`` (resuming what is there); after each epoch's
    checkpoint, record (pid, epoch) in ``marker`` and wait ``pause`` s, so that the test
    can kill this worker mid-training."""
    epochs_here = []

    def callback(epoch, history):
        epochs_here.append(epoch)
        if marker is not None:  # the latest epoch, and this process's own last one
            for path in (Path(marker), Path(f"{marker}.{os.getpid()}")):
                tmp = Path(f"{path}.tmp")
                tmp.write_text(json.dumps({"pid": os.getpid(), "epoch": epoch}))
                os.replace(tmp, path)
        time.sleep(pause)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        ae = build_autoencoder(_AE)
    result = train_autoencoder(ae, _field_data(100, 0), _field_data(40, 1), _CFG, ckdir, seed=seed, device=device,
                               progress=False, resume=True, callback=callback)
    return {"weights": {k: v.numpy() for k, v in ae.state_dict().items()}, "pid": os.getpid(),
            "epochs_here": epochs_here, "epochs": result.history["epoch"], "val": result.history["val_loss"]}


def _wait_for(path: Path, timeout: float, cond) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            info = json.loads(path.read_text())
            if cond(info):
                return info
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"{path} did not show the expected state within {timeout} s")


def test_a_job_whose_worker_is_killed_resumes_and_ends_bit_for_bit_as_uninterrupted(client, tmp_path):
    marker = tmp_path / "progress.json"
    job = Job("slow-VAE", functools.partial(_slow_job, str(tmp_path / "ck"), str(marker), 0.4))
    reports = distributed.run_jobs(client, [job], cache=tmp_path, seed=3, device="cpu")
    # the generator submits on its first next(): drive it in a thread while this one kills
    import threading

    out = []
    t = threading.Thread(target=lambda: out.extend(reports))
    t.start()
    victim = _wait_for(marker, 60, lambda i: i["epoch"] >= 1)  # two epochs checkpointed
    os.kill(victim["pid"], signal.SIGKILL)
    t.join(60)
    assert not t.is_alive(), "the job did not finish after its worker was killed"
    (report,) = out
    assert report.ok, report.status
    res = report.result
    assert res["pid"] != victim["pid"]  # it finished in another process...
    # ...from the killed one's last checkpoint: the epoch after its last callback (or one
    # more, if the kill fell between a checkpoint and its callback)
    last = json.loads(Path(f"{marker}.{victim['pid']}").read_text())["epoch"]
    assert last + 1 <= res["epochs_here"][0] <= last + 2
    assert res["epochs"] == list(range(_CFG.max_epochs))

    reference = _slow_job(str(tmp_path / "ref"), None, 0.0, None, 3, "cpu")
    assert res["val"] == reference["val"]
    assert res["weights"].keys() == reference["weights"].keys()
    for k, v in reference["weights"].items():
        np.testing.assert_array_equal(res["weights"][k], v, err_msg=k)


# ---------------------------------------------------------------------------------
# an unreachable scheduler; bad input
# ---------------------------------------------------------------------------------
def _closed_port() -> int:
    with socket.socket() as s:  # a port nothing listens on (bound, then released)
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_fails_fast_naming_the_address():
    address = f"tcp://127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    with pytest.raises(distributed.SchedulerUnreachable, match=address):
        with distributed.connect(address, timeout=1.0):
            pass
    assert time.monotonic() - start < 10
    # the script: a message naming it, a non-zero exit, seconds (not a hang)
    start = time.monotonic()
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "pretrain.py"), "--profile", "quick",
                          "--scheduler", address, "--connect-timeout", "2", "KS"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert address in out.stderr and "Traceback" not in out.stderr
    assert time.monotonic() - start < 30


def test_bad_arguments_name_the_parameter(client):
    with pytest.raises(ValueError, match="workers"):
        with distributed.connect(workers=0):
            pass
    with pytest.raises(ValueError, match="scheduler"):
        with distributed.connect("127.0.0.1:8786"):
            pass
    with pytest.raises(ValueError, match="device"):
        list(distributed.run_jobs(client, [], device="gpu"))
    dup = [Job("a", _slow_job), Job("a", _slow_job)]
    with pytest.raises(ValueError, match="unique"):
        list(distributed.run_jobs(client, dup))


def _device_job(cache, seed, device):
    from distributed import get_worker
    from distributed.worker import thread_state

    task = get_worker().state.tasks[thread_state.key]  # this job's own task, as its worker holds it
    return {"device": device, "pid": os.getpid(), "resources": dict(task.resource_restrictions or {})}


def test_cuda_jobs_ask_for_the_gpu_resource_that_local_cuda_workers_offer():
    # no CUDA needed: the job only reports the device it was given
    with distributed.connect(workers=1, device="cuda") as c:
        (info,) = c.scheduler_info()["workers"].values()
        assert info["resources"] == {"GPU": 1}
        (report,) = distributed.run_jobs(c, [Job("gpu-job", _device_job)], device="cuda")
        assert report.ok, report.status
        assert report.result["device"] == "cuda" and report.result["pid"] != os.getpid()
        assert report.result["resources"] == {"GPU": 1}
        (cpu,) = distributed.run_jobs(c, [Job("cpu-job", _device_job)], device="cpu")
        assert cpu.ok and cpu.result["resources"] == {}


def _log_start(name, log, cache, seed, device):
    import time as _time

    with open(log, "a") as f:
        f.write(name + "\n")
    _time.sleep(0.1)
    return name


def test_jobs_start_in_the_order_given(tmp_path):
    """The jobs' order is the pretraining's plan (the most expensive first): one worker
    runs them exactly in that order, whatever order Dask would pick for equal priorities."""
    log = tmp_path / "starts.txt"
    names = [f"order-{i}" for i in range(8)]
    jobs = [Job(n, functools.partial(_log_start, n, str(log))) for n in names]
    with distributed.connect(workers=1, threads=1, device="cpu") as one:
        reports = list(distributed.run_jobs(one, jobs, cache=tmp_path, device="cpu"))
    assert all(r.ok for r in reports)
    assert log.read_text().split() == names
