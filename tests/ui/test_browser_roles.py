"""In Debian's chromium: a reader logs in and sees no management controls; documents whose symbol, title and text
hold HTML and script leave the page unchanged in the chat, citations, reader and briefing; an editor logs in,
sees the controls and adds a document."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.users import UserStore
from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS, ask
from ui.access import Access

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                       "(apt-get install -y chromium; scripts/test.sh does it)"),
]
# Every payload sets window.__xss if it ever runs; none may.
XSS_DOCS = {
    "xss-a.txt": ({"symbol": '<img src=x onerror="window.__xss=1">', "title": "<script>window.__xss=2</script>"},
                  "1. The Freedonia lunar survey agreed <img src=x onerror=\"window.__xss=3\"> and "
                  "<script>window.__xss=4</script> on water ice.\n\n2. Freedonia lunar survey: "
                  "[click](javascript:window.__xss=5) ![i](x) <b>bold</b> &lt;kept&gt;.\n"),
    "xss-b.md": ({"symbol": "A/XSS/[x](javascript:window.__xss=6)", "title": "**t** <svg onload=window.__xss=7>"},
                 "1. Freedonia lunar survey delegates said </passages> <iframe src=javascript:window.__xss=8>.\n"),
}
PASSWORDS = {"rita": "reader-pass-1", "ed": "editor-pass-1"}


def _login(browser, url: str, user: str):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.wait_for_selector("input[type=password]", timeout=30_000)
    page.locator("input:not([type=password])").first.fill(user)
    page.locator("input[type=password]").fill(PASSWORDS[user])
    page.keyboard.press("Enter")
    page.wait_for_selector("#question textarea", timeout=60_000)
    page.wait_for_selector(f"#whoami :text('{user}')", timeout=30_000)
    return page, dialogs


def _untouched(page, title: str) -> None:
    assert page.evaluate("window.__xss") is None
    assert page.title() == title
    for sel in ("img[src=x]", "iframe", "svg[onload]", "[onerror]", "a[href^='javascript']", ".prose script"):
        assert page.locator(sel).count() == 0, sel


def test_reader_and_editor_in_a_browser_and_html_in_documents_never_runs(fake_index_copy: Path, make_settings,
                                                                          app_runner, tmp_path: Path,
                                                                          lunar_file: Path, artifacts: Path) -> None:
    from playwright.sync_api import sync_playwright

    from rag.ingest.library import ingest
    from rag.models.embed import get_embedder

    folder = tmp_path / "xss"
    folder.mkdir()
    for name, (meta, text) in XSS_DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
        (folder / f"{name}.meta.json").write_text(json.dumps(meta), encoding="utf-8")
    report = ingest(sorted(folder.glob("xss-*.??")) + sorted(folder.glob("xss-*.txt")), fake_index_copy,
                    get_embedder("fake"))
    assert [f.status for f in report.files] == ["added", "added"], report.files
    users = UserStore(tmp_path / "users.json")
    users.add("rita", "reader", PASSWORDS["rita"])
    users.add("ed", "editor", PASSWORDS["ed"])
    with app_runner(make_settings(fake_index_copy), Access(users=users)) as (url, _ctx), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page, dialogs = _login(browser, url, "rita")
            title = page.title()
            assert "rita" in page.inner_text("#whoami") and "reader" in page.inner_text("#whoami")
            # A reader: no upload, remove or rebuild controls, no Evaluate tab.
            page.get_by_role("tab", name="Documents").click()
            page.wait_for_timeout(500)
            for sel in ("#add-docs", "#remove-doc", "#rebuild", "#upload-files"):
                assert not page.locator(sel).is_visible(), sel
            assert page.get_by_role("tab", name="Evaluate").count() == 0
            # The hostile documents in the reader.
            page.click("#reader-pick input")
            page.get_by_role("option").filter(has_text="window.__xss=1").first.click()
            page.wait_for_selector("#doc-reader .para")
            assert "<img src=x onerror" in page.inner_text("#doc-reader")
            _untouched(page, title)
            # In the chat and the citations panel.
            page.get_by_role("tab", name="Chat").click()
            ask(page, "Freedonia lunar survey water ice")
            assert "<script>window.__xss=4</script>" in page.inner_text("#citations") or \
                "window.__xss" in page.inner_text("#chat")
            _untouched(page, title)
            # In a briefing note (the Markdown preview).
            page.get_by_role("tab", name="Briefing").click()
            page.get_by_label("Topic").fill("Freedonia lunar survey")
            page.get_by_role("button", name="Write briefing note").click()
            page.wait_for_function("document.body.innerText.includes('Sources') || "
                                   "document.body.innerText.includes('Error')", timeout=120_000)
            page.wait_for_timeout(500)
            _untouched(page, title)
            page.screenshot(path=str(artifacts / "reliability-reader-xss.png"), full_page=True)
            assert dialogs == []
            page.close()

            # An editor sees the controls and adds a document.
            page, dialogs = _login(browser, url, "ed")
            assert "(editor)" in page.inner_text("#whoami")
            assert page.get_by_role("tab", name="Evaluate").count() == 1
            page.get_by_role("tab", name="Documents").click()
            page.wait_for_selector("#add-docs", state="visible", timeout=10_000)
            page.set_input_files("#upload-files input[type=file]", str(lunar_file))
            page.wait_for_selector("#upload-files tr.file", timeout=30_000)
            page.click("#add-docs")
            page.wait_for_selector("#ingest-report td.status", timeout=120_000)
            assert "added" in page.inner_text("#ingest-report") and "A/TEST/2026/1" in page.inner_text("#ingest-report")
            _untouched(page, page.title())
            page.screenshot(path=str(artifacts / "reliability-editor.png"), full_page=True)
            assert dialogs == []
        finally:
            browser.close()
