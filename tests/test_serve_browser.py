"""The search page of ``vnsearch serve`` in a real browser: headless Chromium (Debian's
``chromium``, which ``tests/install_browser.sh`` installs in CI) driven by Playwright (the
``browser`` extra). Types ``ha noi``, sees highlighted results, pages, checks that a
hostile title shows as text, and that a phone-width screen needs no sideways scrolling.

Screenshots go to ``tests/output/`` (``serve.png``, ``serve-phone.png``; not in git), which
CI keeps as artifacts. Without Chromium or Playwright the test is skipped, saying which.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, news_schema, read_seeds
from vnsearch import Index
from vnsearch.cli.serve import make_server

CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = ROOT / "tests" / "output"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE = '<script>alert(1)</script> Hà Nội <img src=x onerror="alert(2)">'

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed: pip install '.[browser]'"
)
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"no {CHROMIUM}: run tests/install_browser.sh as root (apt-get install chromium)",
)


@pytest.fixture
def url(tmp_path: Path):
    """A server over the seeds and 24 short news items about Hà Nội (three pages of ten
    for ``ha noi``), one of them with a title made to run a script."""
    ix = Index.create(tmp_path / "ix", news_schema())
    with ix.writer(jobs=1) as w:
        for doc in read_seeds():
            w.add({**doc, "topic": "to-chuc"})
        for i in range(24):
            topic = ("thoi-su", "du-lich", "kinh-te")[i % 3]
            title = HOSTILE if i == 5 else f"Tin {i}: giao thông Hà Nội"
            body = f"Bản tin số {i} về Hà Nội: phố phường, cầu Long Biên và Hồ Gươm."
            w.add({"id": f"hn{i:02}", "title": title, "body": body, "topic": topic})
    server = make_server(ix, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url, ix.count("ha noi")
    server.shutdown()
    server.server_close()
    thread.join(5)
    ix.close()


def test_search_page_in_chromium(url: tuple[str, int]) -> None:
    url, total = url
    assert 20 < total <= 30  # three pages
    OUTPUT.mkdir(exist_ok=True)
    dialogs: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            started = time.perf_counter()
            page.goto(url)
            page.fill("#q", "ha noi")
            page.press("#q", "Enter")
            page.wait_for_selector("#results li.hit")
            loaded = time.perf_counter() - started
            hits = page.locator("#results li.hit")
            assert hits.count() == 10
            assert f"{total} tài liệu khớp với «ha noi»" in page.inner_text("#status")
            marks = page.locator("#results mark").all_inner_texts()
            assert marks and {m.lower() for m in marks} == {"hà nội"}
            titles = page.locator("#results h3").all_inner_texts()
            assert "Tin 0: giao thông Hà Nội" in titles  # whole titles
            first = page.locator("#results .meta a").all_inner_texts()
            page.screenshot(path=str(OUTPUT / "serve.png"), full_page=True)

            page.click("#next")
            sync_api.expect(page.locator("#page")).to_have_text("Trang 2 / 3")
            second = page.locator("#results .meta a").all_inner_texts()
            titles += page.locator("#results h3").all_inner_texts()
            assert len(second) == 10 and not set(first) & set(second)
            assert "offset=10" in page.url and "q=ha+noi" in page.url
            page.click("#next")
            sync_api.expect(page.locator("#page")).to_have_text("Trang 3 / 3")
            third = page.locator("#results .meta a").all_inner_texts()
            titles += page.locator("#results h3").all_inner_texts()
            # the hostile title is text, not markup: no script ran, no element was made
            assert HOSTILE in titles
            assert page.locator("#results script, #results img").count() == 0
            assert len(third) == total - 20 and page.is_disabled("#next")
            assert len(set(first + second + third)) == total
            page.go_back()  # the browser's back button: the second page again
            sync_api.expect(page.locator("#page")).to_have_text("Trang 2 / 3")
            assert page.input_value("#q") == "ha noi"

            phone = browser.new_page(viewport={"width": 360, "height": 740})
            started = time.perf_counter()
            phone.goto(url + "?q=ha+noi")
            phone.wait_for_selector("#results li.hit")
            opened = time.perf_counter() - started
            assert phone.evaluate("document.documentElement.scrollWidth") <= 360
            phone.screenshot(path=str(OUTPUT / "serve-phone.png"), full_page=True)
        finally:
            browser.close()
    assert not dialogs, dialogs
    assert not errors, errors
    print(
        f"search page: results {loaded * 1000:.0f} ms after page.goto, typing and Enter; "
        f"a link with ?q=: {opened * 1000:.0f} ms"
    )
