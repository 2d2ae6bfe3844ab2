"""Check `make lab` as a reader uses it, headless: start it, open a chapter, run it.

Starts ``make lab`` (a server on a free loopback port, no browser), then through the
server's REST API: opens ``notebooks/<chapter>.py`` as a notebook (the contents API,
served by jupytext, must answer ``type: "notebook"``), saves it under a scratch name and
compares the text (a save from JupyterLab must not rewrite a chapter), starts a kernel
for it the way JupyterLab does (a session), and executes the chapter's code cells in that
kernel with the parameters it is given (quick profile by default). Prints the time from
``make lab`` to a served chapter, to a started kernel and to the last cell executed.

    .venv/bin/python scripts/check_lab.py                      # 01_theory, quick profile
    .venv/bin/python scripts/check_lab.py 05_fhn --param profile=paper
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, port: int, token: str):
        self.base, self.token = f"http://127.0.0.1:{port}", token

    def call(self, method: str, path: str, body=None, timeout: float = 30.0):
        req = urllib.request.Request(self.base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read().decode()
            return json.loads(text) if text else None


def _wait_up(server: Server, proc, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"`make lab` exited with {proc.returncode} before serving")
        try:
            server.call("GET", "/api/status", timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"no server on {server.base} after {timeout:g} s")


def _parameters_source(params: dict[str, str]) -> str:
    return "\n".join(f"{k} = {v!r}" for k, v in params.items())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("chapter", nargs="?", default="01_theory", help="a chapter source in notebooks/ (no .py)")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="a papermill-style parameter set after the parameters cell (default profile=quick)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds for the chapter's cells")
    ap.add_argument("--max-cells", type=int, default=None, help="run only the first N code cells")
    a = ap.parse_args(argv)
    params = {"profile": "quick"}
    for p in a.param:
        name, sep, value = p.partition("=")
        if not sep or not name.isidentifier():
            ap.error(f"--param must be NAME=VALUE, got {p!r}")
        params[name] = value
    rel = f"notebooks/{a.chapter}.py"
    if not (ROOT / rel).is_file():
        ap.error(f"no chapter source {rel}")

    port, token = _free_port(), secrets.token_hex(16)
    lab_args = f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token}"
    log = tempfile.NamedTemporaryFile("w", prefix="lab-check-", suffix=".log", delete=False)
    print(f"server log: {log.name}")
    t0 = time.monotonic()
    proc = subprocess.Popen(["make", "lab", f"LAB_ARGS={lab_args}"], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=log)
    server = Server(port, token)
    scratch = f"jupyter/save-check-{os.getpid()}.py"  # not hidden: the server refuses those
    session = None
    try:
        _wait_up(server, proc, 300)
        t_up = time.monotonic() - t0
        # what a double click opens a .py file with (JupyterLab's settings, from jupyter/lab-settings)
        docmanager = server.call("GET", "/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
        # overrides.json lands in the schema's default; a reader's own settings would come on top
        default = docmanager["schema"]["properties"]["defaultViewers"].get("default", {})
        viewer = {**default, **docmanager["settings"].get("defaultViewers", {})}.get("python")
        print(f"default viewer of .py files: {viewer}")
        model = server.call("GET", f"/api/contents/{rel}?type=notebook&content=1")
        t_open = time.monotonic() - t0
        assert model["type"] == "notebook", model["type"]
        nb = model["content"]
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        n_run = len(code) if a.max_cells is None else min(a.max_cells, len(code))
        print(f"{rel}: served as a notebook of {len(nb['cells'])} cells ({len(code)} code), "
              f"format {nb['metadata'].get('jupytext', {}).get('text_representation', {}).get('format_name')}")
        # a save from JupyterLab writes the same text back (under a scratch name: the chapter is not touched)
        server.call("PUT", f"/api/contents/{scratch}", {"type": "notebook", "format": "json", "content": nb})
        saved, original = (ROOT / scratch).read_text(), (ROOT / rel).read_text()
        # jupytext writes cell metadata (figure captions) as ASCII JSON: "–" comes back as "\u2013"
        unescaped = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), saved)
        same = unescaped == original
        changed = [(a, b) for a, b in zip(original.splitlines(), saved.splitlines()) if a != b]
        print(f"saved back through jupytext: {'identical text' if saved == original else 'the same' if same else 'DIFFERENT'}"
              + (f" ({len(changed)} lines differ only by \\u escapes of non-ASCII cell metadata)" if same and changed
                 else "".join(f"\n  - {a}\n  + {b}" for a, b in changed[:3]) if not same else ""))

        session = server.call("POST", "/api/sessions", {"path": rel, "name": Path(rel).name, "type": "notebook",
                                                         "kernel": {"name": "python3"}})
        from jupyter_client import BlockingKernelClient
        from jupyter_core.paths import jupyter_runtime_dir

        kc = BlockingKernelClient(connection_file=str(Path(jupyter_runtime_dir()) /
                                                     f"kernel-{session['kernel']['id']}.json"))
        kc.load_connection_file()
        kc.start_channels()
        kc.wait_for_ready(timeout=120)
        t_kernel = time.monotonic() - t0
        errors: list[str] = []

        def run(source: str) -> dict:
            def hook(msg):
                if msg["msg_type"] == "error":
                    errors.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")
            return kc.execute_interactive(source, timeout=a.timeout, output_hook=hook)

        run("import os, sys; __lab_check = (os.getcwd(), sys.executable)")
        msg_id = kc.execute("", user_expressions={"x": "__lab_check"})
        msg = kc.get_shell_msg(timeout=30)
        while msg["parent_header"].get("msg_id") != msg_id:
            msg = kc.get_shell_msg(timeout=30)
        where = msg["content"]["user_expressions"]["x"]["data"]["text/plain"]
        print(f"kernel (cwd, python): {where}")
        t_cells = time.monotonic()
        for i, cell in enumerate(code[:n_run]):
            run(cell["source"])
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                run(_parameters_source(params))  # as papermill injects them, after the parameters cell
            if errors:
                print(f"code cell {i} failed: {errors[-1]}")
                break
        t_done = time.monotonic() - t0
        print(f"times from `make lab`: server up {t_up:.1f} s, chapter served {t_open:.1f} s, kernel ready "
              f"{t_kernel:.1f} s, {n_run} of {len(code)} code cells run {t_done:.1f} s "
              f"(the cells alone {time.monotonic() - t_cells:.1f} s) with {params}")
        kc.stop_channels()
        in_root = Path(eval(where)[0]) == ROOT  # the repr of (cwd, python) the kernel sent
        if not in_root:
            print(f"the kernel did not start in the repository root {ROOT}")
        return 0 if not errors and same and in_root and viewer == "Jupytext Notebook" else 1
    finally:
        if session is not None:
            try:
                server.call("DELETE", f"/api/sessions/{session['id']}")
            except Exception:  # the server going down takes the kernel with it
                pass
        (ROOT / scratch).unlink(missing_ok=True)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the process group this script started (make and the server)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
