"""The course's website, read in a real browser: ``python tools/build_site.py`` once, served from
127.0.0.1, every page opened in Chromium by following the "next" links from the index.

Debian's Chromium driven by Playwright, as in ``test_browser.py``; the tests skip when Chromium,
Playwright or Sphinx is missing. Screenshots of three pages go to ``$CONVLAB_SCREENSHOTS``
(default: a temporary directory).
"""

import functools
import http.server
import importlib.util
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS

ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 600
LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Pages Sphinx makes besides the documents: not in the chapter navigation.
GENERATED = {"genindex.html", "search.html", "py-modindex.html"}

# Text nodes of the article outside code and rendered math: what a reader sees as prose.
PROSE_JS = """() => {
    const article = document.querySelector('article') || document.body;
    const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {acceptNode: n =>
        n.parentElement.closest('pre, code, mjx-container, script, style')
            ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    const texts = [];
    while (walker.nextNode()) texts.push(walker.currentNode.textContent);
    return texts.join(' ');
}"""
RAW_MATH = re.compile(r"\$\$|\$[^$\s][^$]*\$|\\\(|\\\[")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built by its documented command, served on a free port: ``(base URL, folder)``."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright is not installed (pip install playwright)")
    if importlib.util.find_spec("sphinx") is None:
        pytest.skip("Sphinx is not installed (pip install -e '.[dev]')")
    folder = tmp_path_factory.mktemp("site") / "html"
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "build_site.py"), str(folder)],
                         cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    assert run.returncode == 0, f"build_site.py failed:\n{run.stdout[-5000:]}{run.stderr[-5000:]}"
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", folder
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
                                     timeout=TIMEOUT_MS)
        try:
            yield chromium
        finally:
            chromium.close()


def _open(browser, url, viewport=(1280, 900)):
    """Open ``url`` in a new page and wait until MathJax has typeset it: ``(page, record)``,
    the record listing every request, failure and console error of the page."""
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.set_default_timeout(TIMEOUT_MS)
    record = {"requests": [], "failed": [], "errors": []}
    page.on("request", lambda r: record["requests"].append(r.url))
    page.on("requestfailed", lambda r: record["failed"].append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and record["failed"].append(
        f"{r.url}: HTTP {r.status}"))
    page.on("console", lambda m: m.type == "error" and record["errors"].append(m.text))
    page.on("pageerror", lambda e: record["errors"].append(str(e)))
    page.goto(url, wait_until="load")
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    page.wait_for_load_state("networkidle")
    return page, record


def _inspect(page):
    """What a reader would see go wrong on the open page."""
    return {
        "images": page.evaluate("""() => Array.from(document.images).map(
            i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])"""),
        "math": page.locator(".math").count(),
        "typeset": page.locator(".math mjx-container").count(),
        "prose": page.evaluate(PROSE_JS),
        "next": page.locator("a.right-next").first.get_attribute("href")
        if page.locator("a.right-next").count() else None,
    }


@pytest.fixture(scope="module")
def pages(site, browser):
    """Every page reached from the index by its "next" links, in order: ``{url: facts}``."""
    base, _ = site
    url, seen = base + "index.html", {}
    while url is not None and url not in seen and len(seen) < 500:
        page, record = _open(browser, url)
        try:
            seen[url] = {**record, **_inspect(page)}
        finally:
            page.close()
        nxt = seen[url]["next"]
        url = urljoin(url, nxt).split("#")[0] if nxt else None
    return seen


def _relative(url, base):
    return url[len(base):]


def test_the_navigation_reaches_every_page(site, pages):
    base, folder = site
    built = {str(p.relative_to(folder)) for p in folder.rglob("*.html")
             if p.parts[len(folder.parts)] != "_static"} - GENERATED
    reached = {_relative(url, base) for url in pages}
    assert reached == built, f"not reached: {sorted(built - reached)}"
    for lesson in LESSONS:
        assert f"notebooks/{lesson}.html" in reached and f"exercises/{lesson}.html" in reached


def test_every_image_has_loaded(site, pages):
    broken = {_relative(url, site[0]): [src for src, ok in facts["images"] if not ok]
              for url, facts in pages.items()}
    assert not any(broken.values()), {page: srcs for page, srcs in broken.items() if srcs}
    lessons = [facts for url, facts in pages.items() if "/notebooks/" in url]
    assert all(facts["images"] for facts in lessons), "a lesson page shows no figure"


def test_math_is_rendered(site, pages):
    for url, facts in pages.items():
        page = _relative(url, site[0])
        assert facts["typeset"] == facts["math"], f"{page}: math left untypeset"
        raw = RAW_MATH.search(facts["prose"])
        assert raw is None, f"{page}: raw TeX in the text: ...{facts['prose'][raw.start():][:80]}"
    with_math = [url for url, facts in pages.items() if facts["math"]]
    assert any("/notebooks/" in url for url in with_math), "no lesson shows math"


def test_no_request_failed_or_left_the_server(site, pages):
    host = urlparse(site[0]).netloc
    for url, facts in pages.items():
        page = _relative(url, site[0])
        assert not facts["failed"], f"{page}: {facts['failed']}"
        elsewhere = [r for r in facts["requests"]
                     if urlparse(r).scheme not in ("data", "blob", "about")
                     and urlparse(r).netloc != host]
        assert not elsewhere, f"{page} asked another host: {elsewhere}"


def test_the_console_shows_no_error(site, pages):
    errors = {_relative(url, site[0]): facts["errors"] for url, facts in pages.items()}
    assert not any(errors.values()), {page: e for page, e in errors.items() if e}


def test_lesson_outputs_render_as_on_a_notebook(site, browser):
    """Markdown outputs are tables, explorers show their picture and a note, animations are
    images: nothing a reader would see as raw text or an empty box."""
    base, folder = site
    page, _ = _open(browser, base + "notebooks/00_welcome.html")
    try:
        output_tables = page.locator(".cell_output table")
        assert output_tables.count() >= 4  # the course map and the glossary's three sections
        assert "| --- |" not in page.evaluate(PROSE_JS)
        explorer = page.locator(".cell_output:has(.convlab-explorer-note)")
        assert explorer.count() == 1  # the filter playground, with the figure it drew
        assert explorer.locator("img").count() == 1
        assert page.locator(".jupyter-widgets, script[type*='widget']").count() == 0
    finally:
        page.close()
    # matplotlib's JavaScript player would load icons from a CDN: lessons show animated PNGs
    html = "".join(p.read_text(encoding="utf-8") for p in (folder / "notebooks").glob("*.html"))
    assert "new Animation(frames" not in html
    assert any(b"acTL" in png.read_bytes() for png in (folder / "_images").glob("*.png"))


def test_the_index_lists_every_chapter(site, browser):
    """Written chapters link their lesson and exercises; the others say they are not written."""
    from convlab.course import CHAPTERS

    page, _ = _open(browser, site[0] + "index.html")
    try:
        rows = page.locator("table tbody tr")
        assert rows.count() == len(CHAPTERS)
        for row, ch in zip(rows.all(), CHAPTERS):
            links = [a.get_attribute("href") for a in row.locator("a").all()]
            if ch.stem in LESSONS:
                assert links == [f"notebooks/{ch.stem}.html", f"exercises/{ch.stem}.html"]
            else:
                assert links == [] and "not yet written" in row.inner_text()
    finally:
        page.close()


@pytest.fixture
def screenshots(tmp_path):
    path = Path(os.environ.get("CONVLAB_SCREENSHOTS", tmp_path))
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_screenshots(site, browser, screenshots):
    """The index, a lesson with figures and math, and the glossary, as a reader sees them."""
    base, _ = site
    shots = {"site_index.png": ("index.html", None),
             "site_lesson.png": ("notebooks/02_computing_convolution.html", ".cell_output img"),
             "site_glossary.png": ("glossary.html", None)}
    for name, (path, scroll_to) in shots.items():
        page, _ = _open(browser, base + path, viewport=(1280, 1100))
        try:
            if scroll_to:
                page.locator(scroll_to).first.evaluate("e => e.scrollIntoView()")
                page.evaluate("() => window.scrollBy(0, -160)")
            page.screenshot(path=screenshots / name)
        finally:
            page.close()
        assert (screenshots / name).stat().st_size > 10_000
