"""A real browser: JupyterLab runs the convolution explorer and a key press on a slider redraws it.

Debian's Chromium (``apt-get install -y chromium``) driven by Playwright from PyPI; no browser is
downloaded. The test skips when either is missing. Screenshots before and after the key press go
to ``$CONVLAB_SCREENSHOTS`` (default: a temporary directory).
"""

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
NOTEBOOK = Path(__file__).parent / "browser" / "conv_explorer.ipynb"
TOKEN = "convlab-browser-test"
TIMEOUT_MS = 30_000


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url, method="GET"):
    """``(status, parsed JSON body or None)`` of a request to the server."""
    req = urllib.request.Request(url, method=method, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(req, timeout=5) as response:
        body = response.read()
        return response.status, json.loads(body) if body else None


def _wait_for_kernel(base, timeout):
    """Wait until the page's kernel is connected and idle (keys pressed before are lost)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kernels = _request(f"{base}/api/kernels")[1]
        if any(k["connections"] and k["execution_state"] == "idle" for k in kernels):
            return
        time.sleep(0.25)
    pytest.fail(f"no idle kernel connected within {timeout} s: {kernels}")


def _quiet_settings(settings_dir):
    """User settings that keep JupyterLab off the network: no news pop-up, no update check."""
    path = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A headless JupyterLab on a free localhost port serving a copy of the test notebook."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright is not installed (pip install playwright)")
    if importlib.util.find_spec("jupyterlab") is None:
        pytest.skip("jupyterlab is not installed")

    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    _quiet_settings(tmp / "settings")
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
    )
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
        f"--ServerApp.token={TOKEN}", "--ServerApp.ip=127.0.0.1", "--allow-root",
        f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log_path = tmp / "jupyter.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited early:\n{log_path.read_text()[-3000:]}")
            try:
                if _request(f"{base}/api/status")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start in 30 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.25)
        yield base
    finally:
        # A polite shutdown stops the kernels too; the process group kill is the backstop.
        try:
            _request(f"{base}/api/shutdown", method="POST")
            server.wait(timeout=15)
        except (urllib.error.URLError, ConnectionError, TimeoutError, subprocess.TimeoutExpired):
            pass
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


@pytest.fixture
def screenshots(tmp_path):
    path = Path(os.environ.get("CONVLAB_SCREENSHOTS", tmp_path))
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_arrow_key_on_a_slider_redraws_the_explorer(lab, screenshots):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                    headless=True, timeout=TIMEOUT_MS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)
            page.goto(f"{lab}/lab/tree/{NOTEBOOK.name}?token={TOKEN}")
            _wait_for_kernel(lab, TIMEOUT_MS / 1000)

            cell = page.locator(".jp-Notebook .jp-CodeCell").first
            cell.locator(".cm-content").click()
            page.keyboard.press("Shift+Enter")

            output = cell.locator(".jp-OutputArea").first
            formula = output.locator(".convlab-formula").first
            image = output.locator("img").first
            expect(formula).to_contain_text("output 3×3")  # input 5, kernel 3
            expect(image).to_be_visible()
            image_before = image.get_attribute("src")
            cell.screenshot(path=screenshots / "conv_explorer_before.png")

            # the first slider is the input size: 5 -> 6
            output.locator(".widget-slider .noUi-handle").first.focus()
            page.keyboard.press("ArrowRight")

            expect(formula).to_contain_text("floor((6 + 2·0 - 1·(3-1) - 1) / 1) + 1")
            expect(formula).to_contain_text("output 4×4")
            expect(image).not_to_have_attribute("src", image_before)
            cell.screenshot(path=screenshots / "conv_explorer_after.png")

            assert page.get_by_text("official Jupyter news").count() == 0  # no news pop-up
            assert output.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
            assert output.locator(".convlab-message").first.inner_text().strip() == ""
        finally:
            browser.close()
