"""The explorer in JupyterLab, in headless Chromium: start `jupyter lab` the way `make lab` does (as root
here, so `--allow-root` matters) on a free port with a token and a temporary root holding a copy of
explore.ipynb, run every cell on the project's kernel, pick another province and then another index in the
widgets, and check that the figure and the table change each time. Saves reports/explorer-lab.png.

Every wait has a limit; the server, its kernels and their children are killed at the end, also on failure."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest

from analysis import paths

CHROMIUM = shutil.which("chromium")  # the system's Chromium; None: Playwright's own (`make browser` installs it, no root)
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
KERNEL = "vngov-indices"
ROOT = paths.project_root()


def lab_command() -> list[str]:
    """The `jupyter lab` command of `make lab`, read from a dry run of make (nothing is executed)."""
    out = subprocess.run(["make", "-n", "-s", "--no-print-directory", "lab"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True).stdout
    line = next(s for s in out.splitlines() if " lab " in s and "jupyter" in s)
    return shlex.split(line)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET", timeout: float = 5) -> object:
    req = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        body = r.read()
    return json.loads(body) if body else None


def _wait(get: Callable[[], object], seconds: float, what: str, sleep: Callable[[float], None] = time.sleep) -> object:
    """Poll `get` until it returns something truthy, at most `seconds`. With a page open, `sleep` must be
    the page's own wait: Playwright serves the page's routed requests only while it is called."""
    deadline = time.monotonic() + seconds
    while not (value := get()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        sleep(0.3)
    return value


def _kill(server: subprocess.Popen) -> list:
    """Kill the server and every process under it, returning them (psutil.Process). Kernels run in sessions of
    their own (jupyter_client starts them with start_new_session), so killing the server's process group is
    not enough: every descendant is found first and killed with its own group."""
    import psutil

    try:
        children = psutil.Process(server.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    groups = {server.pid}
    for c in children:
        with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
            groups.add(os.getpgid(c.pid))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for g in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(g, sig)
        _, alive = psutil.wait_procs(children, timeout=5)
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            continue
        if not alive:
            break
    return children


def _kernels(server: subprocess.Popen) -> list:
    import psutil

    return [p for p in psutil.Process(server.pid).children(recursive=True) if "ipykernel_launcher" in " ".join(p.cmdline())]


def _gone(processes: list) -> bool:
    import psutil

    def dead(p: psutil.Process) -> bool:
        try:
            return p.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    return all(dead(p) for p in processes)


@contextlib.contextmanager
def jupyter_lab(root: Path, log: Path) -> Iterator[dict]:
    """A JupyterLab server on a free port, started like `make lab` (plus port, token and a temporary root),
    with its configuration and runtime files in `root`. Yields {"base", "token", "server"}; on exit, also
    after an error, the server and everything it started are killed and listed under "killed"."""
    token, port = secrets.token_hex(16), _free_port()
    cmd = [a for a in lab_command() if not a.startswith("--notebook-dir") and not a.endswith(".ipynb")]
    cmd += [f"--notebook-dir={root / 'nb'}", f"--ServerApp.token={token}", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--no-browser",
            "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    env = os.environ | {name: str(root / name.lower()) for name in (
        "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR")}
    with log.open("wb") as out:
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    lab = {"base": f"http://127.0.0.1:{port}", "token": token, "server": server, "killed": []}
    try:
        def up() -> bool:
            if server.poll() is not None:
                raise AssertionError(f"jupyter lab exited: {log.read_text(errors='replace')[-3000:]}")
            try:
                return _api(lab["base"], token, "/api/status", timeout=2) is not None
            except OSError:
                return False

        _wait(up, 60, "jupyter lab to answer")
        yield lab
        for k in _api(lab["base"], token, "/api/kernels"):
            with contextlib.suppress(OSError):
                _api(lab["base"], token, f"/api/kernels/{k['id']}", method="DELETE", timeout=10)
    finally:
        lab["killed"] = [*_kill(server)]


@pytest.fixture
def lab_root(tmp_path):
    (tmp_path / "nb").mkdir()
    nb = nbformat.read(ROOT / "notebooks" / "explore.ipynb", as_version=4)
    for cell in nb.cells:  # a clean copy: every image on the page comes from this run
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, tmp_path / "nb" / "explore.ipynb")
    return tmp_path


def test_make_lab_allows_root():
    assert "--allow-root" in lab_command()


def test_server_and_kernels_killed_on_failure(lab_root):
    """An error inside the session still kills the server and its kernel, also when the server hangs (a kernel
    has a session of its own, so killing the server's process group alone would leave it running)."""
    with pytest.raises(RuntimeError, match="boom"), jupyter_lab(lab_root, lab_root / "lab.log") as lab:
        _api(lab["base"], lab["token"], "/api/kernels", method="POST", timeout=30)
        kernels = _wait(lambda: _kernels(lab["server"]), 60, "a kernel process")
        assert os.getpgid(kernels[0].pid) != os.getpgid(lab["server"].pid)  # not in the server's group
        os.kill(lab["server"].pid, signal.SIGSTOP)  # a hung server: it cannot shut its kernels down itself
        raise RuntimeError("boom")
    assert lab["server"].poll() is not None
    assert {k.pid for k in kernels} <= {p.pid for p in lab["killed"]} and _gone(lab["killed"])


def test_explorer_in_jupyterlab(lab_root):
    from playwright.sync_api import sync_playwright

    from analysis.panel.codebook import index_label

    log = lab_root / "lab.log"
    with jupyter_lab(lab_root, log) as lab, sync_playwright() as p:
        base, token = lab["base"], lab["token"]
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=30_000)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            # nothing leaves the machine: any request outside the server is refused
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith((base, "data:", "blob:"))
                       else route.abort())
            page.goto(f"{base}/lab/tree/explore.ipynb?token={token}")
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", state="attached")
            sessions = _wait(lambda: _api(base, token, "/api/sessions"), 60, "a kernel session",
                             sleep=lambda s: page.wait_for_timeout(s * 1000))
            assert [s["kernel"]["name"] for s in sessions] == [KERNEL]
            kernels = _kernels(lab["server"])
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", state="attached")

            page.click(".lm-MenuBar-itemLabel:text-is('Run')")
            page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
            output = page.locator(".widget-output").first
            figure, table = output.locator("img").first, output.locator("table").first
            figure.wait_for(state="visible", timeout=90_000)
            table.wait_for(state="visible")

            def changed(before_src: str, before_table: str, timeout: float = 60_000) -> None:
                page.wait_for_function(
                    """([src, tab]) => { const o = document.querySelector('.widget-output');
                        const i = o && o.querySelector('img'), t = o && o.querySelector('table');
                        return i && t && i.src !== src && t.innerText !== tab; }""",
                    arg=[before_src, before_table], timeout=timeout)

            src, text = figure.get_attribute("src"), table.inner_text()
            assert "Bình Dương" in text and "45.39" in text  # the default selection: PAPI 2024

            page.locator(".widget-dropdown select").nth(0).select_option(label="Bắc Kạn")
            changed(src, text)
            src, text = figure.get_attribute("src"), table.inner_text()
            assert "Bắc Kạn" in text and "Bình Dương" not in text

            page.locator(".widget-dropdown select").nth(1).select_option(label=index_label("PAR_INDEX")[1])
            changed(src, text)
            text = table.inner_text()
            assert "79.35" in text and "N (provinces with a value)" in text  # Bắc Kạn's PAR INDEX 2022
            figure.scroll_into_view_if_needed()
            shots = ROOT / "reports"
            shots.mkdir(exist_ok=True)
            page.screenshot(path=str(shots / "explorer-lab.png"))
        finally:
            browser.close()
    assert kernels and _gone(kernels + lab["killed"])  # the kernel and anything the server started are gone
