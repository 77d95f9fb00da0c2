"""A real browser: JupyterLab runs the convolution explorer and a key press on a slider redraws it;
every lesson opens unmodified, and after *Run All Cells* every output is there, animations show a
frame of nonzero size, and nothing is wider than the notebook column.

Debian's Chromium (``apt-get install -y chromium``) driven by Playwright from PyPI; no browser is
downloaded. The test skips when either is missing. Screenshots before and after the key press go
to ``$CONVLAB_SCREENSHOTS`` (default: a temporary directory).
"""

import contextlib
import importlib.util
import json
import os
import re
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
LESSONS = sorted((Path(__file__).parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TOKEN = "convlab-browser-test"
TIMEOUT_MS = 30_000
RUN_ALL_S = 300  # a lesson runs in seconds; a loaded 2-core machine may take many times that


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


def _wait_for_kernel(base, timeout, path=None):
    """Wait until the kernel of the notebook at ``path`` (any, if None) is connected and idle
    (keys pressed or cells run before are lost); return its session id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sessions = _request(f"{base}/api/sessions")[1]
        for session in sessions:
            kernel = session["kernel"]
            if ((path is None or session["path"] == path) and kernel["connections"]
                    and kernel["execution_state"] == "idle"):
                return session["id"]
        time.sleep(0.25)
    pytest.fail(f"no idle kernel connected for {path or 'a notebook'} within {timeout} s: "
                f"{sessions}")


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
    (root / "notebooks").mkdir()
    for lesson in LESSONS:
        shutil.copy(lesson, root / "notebooks" / lesson.name)
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


@contextlib.contextmanager
def _page(width):
    """A page of Debian's Chromium, ``width`` px wide, with the tests' time limits."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                    headless=True, timeout=TIMEOUT_MS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)
            yield page
        finally:
            browser.close()


@pytest.fixture
def screenshots(tmp_path):
    path = Path(os.environ.get("CONVLAB_SCREENSHOTS", tmp_path))
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_arrow_key_on_a_slider_redraws_the_explorer(lab, screenshots):
    from playwright.sync_api import expect

    with _page(1200) as page:
        page.goto(f"{lab}/lab/tree/{NOTEBOOK.name}?token={TOKEN}")
        _wait_for_kernel(lab, TIMEOUT_MS / 1000, NOTEBOOK.name)

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


def _run_all(page):
    """*Run ▸ Run All Cells* from the menu bar, as a learner does."""
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item:visible", has_text="Run All Cells").first.click()


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_a_lesson_opens_unmodified_and_run_all_shows_every_output(lab, screenshots, lesson):
    from playwright.sync_api import expect

    code_cells = sum(c["cell_type"] == "code" for c in json.loads(lesson.read_text())["cells"])
    with _page(1280) as page:
        page.goto(f"{lab}/lab/tree/notebooks/{lesson.name}?token={TOKEN}")
        session = _wait_for_kernel(lab, TIMEOUT_MS / 1000, f"notebooks/{lesson.name}")
        tab = page.locator(".lm-TabBar-tab.jp-mod-current")
        expect(tab).to_contain_text(lesson.name)
        # (JupyterLab marks a notebook modified for a moment while it loads)
        expect(tab).not_to_have_class(re.compile(r"\bjp-mod-dirty\b"), timeout=10_000)

        _run_all(page)
        # Run All runs the cells in order: it is done when the last code cell has a number
        scroller = page.locator(".jp-WindowedPanel-outer").first
        last = page.locator(".jp-CodeCell").last.locator(".jp-InputPrompt")
        deadline = time.monotonic() + RUN_ALL_S
        while not re.fullmatch(r"\[\d+\]:", last.text_content().strip()):
            if time.monotonic() > deadline:
                page.screenshot(path=screenshots / f"{lesson.stem}_stuck.png")
            assert time.monotonic() < deadline, (
                f"Run All did not finish in {RUN_ALL_S} s: the last cell shows "
                f"{last.text_content().strip()!r}")
            scroller.evaluate("s => { s.scrollTop = s.scrollHeight; }")
            page.wait_for_timeout(300)
        scroller.evaluate("s => { s.scrollTop = 0; }")
        page.wait_for_timeout(300)
        # The notebook renders only the cells near the viewport (JupyterLab's default
        # windowing): scroll through it and check the cells as they appear.
        # Each cell with a picture is also saved as the browser shows it, to look through.
        seen = {}
        for _ in range(400):
            for cell in page.locator(".jp-CodeCell").all():
                index = cell.get_attribute("data-windowed-list-index")
                if index in seen or not cell.is_visible():
                    continue
                seen[index] = _check_outputs(cell, index)
                if seen[index]:
                    cell.screenshot(path=screenshots / f"{lesson.stem}_cell{int(index):02}.png")
            at_end = scroller.evaluate(
                "s => { s.scrollBy(0, 500); return s.scrollTop + s.clientHeight >= "
                "s.scrollHeight - 2; }")
            page.wait_for_timeout(150)
            if at_end and len(seen) >= code_cells:
                break
        assert len(seen) == code_cells, f"saw {len(seen)} of {code_cells} code cells"
        assert sum(seen.values()) > 0, "no image at all after Run All"
        _request(f"{lab}/api/sessions/{session}", method="DELETE")  # its kernel stops
        assert page.locator(".jp-OutputArea-output[data-mime-type='application/"
                            "vnd.jupyter.stderr']").count() == 0


def _check_outputs(cell, index):
    """Assert that a code cell ran without error, its images show, nothing overflows; return
    how many images it shows."""
    from playwright.sync_api import expect

    prompt = cell.locator(".jp-InputPrompt").first.text_content().strip()
    assert prompt not in ("[ ]:", "[*]:", ""), f"cell {index} did not run: {prompt!r}"
    assert cell.locator(".jp-OutputArea-output[data-mime-type="
                        "'application/vnd.jupyter.stderr']").count() == 0, index
    images = cell.locator(".jp-OutputArea-output img").all()
    for image in images:
        image.scroll_into_view_if_needed()
        expect(image).to_be_visible()
        size = image.evaluate("i => [i.naturalWidth, i.getBoundingClientRect().width,"
                              " i.getBoundingClientRect().height]")
        assert size[0] > 0 and size[1] > 0 and size[2] > 0, (index, size)
    for out in cell.locator(".jp-OutputArea-output").all():
        widths = out.evaluate("o => [o.scrollWidth, o.clientWidth]")
        assert widths[0] <= widths[1] + 2, (
            f"cell {index}: an output is {widths[0]} px wide in a {widths[1]} px column")
    return len(images)
