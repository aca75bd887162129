"""The citation panel over a document in two languages (Debian's chromium, Playwright): each cited passage in the
question's language, the other version one click away, side by side."""
from __future__ import annotations

import pytest

from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS, _squash, ask

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                       "(apt-get install -y chromium; scripts/test.sh does it)"),
]

RES = "E/RES/2014/37"
EN_2 = "2. Recognizes that political stability and socioeconomic recovery are essential"
ZH_2 = "2. 确认政治稳定和社会经济复原对海地的长期发展至关重要"


def test_cited_passages_read_in_the_question_language_with_the_other_version_side_by_side(
        unpc_bi, real_model: str, make_settings, app_runner, artifacts) -> None:
    from playwright.sync_api import sync_playwright

    index, _ = unpc_bi
    with app_runner(make_settings(index, real_model)) as (url, ctx), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            page.wait_for_selector("#question textarea")
            for question, lang, shown, other, label in (
                    ("What is essential to the long-term development of Haiti?", "en", EN_2, ZH_2, "Chinese"),
                    ("对海地的长期发展至关重要的是什么？", "zh", ZH_2, EN_2, "English")):
                expected = ctx.pipeline.ask(question)
                assert any(c.chunk.symbol == RES and c.chunk.locator == "¶2" for c in expected.citations)
                ask(page, question)
                cite = page.locator("#citations section.current li.cite").filter(
                    has=page.locator(".loc", has_text="¶2")).filter(has=page.locator(".sym", has_text=RES))
                assert cite.count() == 1
                passage = cite.locator("blockquote.passage")
                assert passage.get_attribute("data-lang") == lang
                assert _squash(passage.inner_text()).startswith(_squash(shown))
                versions = cite.locator("details.versions")
                assert versions.locator("summary").inner_text() == f"Side by side: {label}"
                other_col = versions.locator(".version[data-lang='%s']" % ("zh" if lang == "en" else "en"))
                assert not other_col.is_visible()  # one click away
                versions.locator("summary").click()
                other_col.wait_for(state="visible", timeout=5000)
                assert _squash(other_col.inner_text()).find(_squash(other)) >= 0
                cols = versions.locator(".version")
                assert cols.count() == 2 and cols.nth(0).bounding_box()["y"] == cols.nth(1).bounding_box()["y"]
                page.screenshot(path=str(artifacts / f"browser-versions-{lang}.png"))
        finally:
            browser.close()
