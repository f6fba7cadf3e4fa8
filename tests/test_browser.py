"""A real browser on the chat page: Debian's chromium driven headless by Playwright.

Types a question, waits for the streamed answer, clicks a citation marker and checks
that the sources panel scrolls to the passage with its quote highlighted; clears the
chat and checks a refusal; saves screenshots to tests/artifacts/. Nothing here
installs anything: `make setup` installs chromium; without it the test is skipped.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import SEEDS

from rag.api import Rag
from rag.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
SEED_TEXT = [p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")]
QUESTION = "What did the Harris campaign say about the interview?"
OFF_TOPIC = "What is the boiling point of water at sea level?"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.server,
    pytest.mark.model,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (make setup)"),
]


@pytest.fixture(scope="module")
def app_url(seeded_dir, bundled_llm):
    from rag.app import ui

    rag = Rag(Settings(data_dir=seeded_dir), llm=bundled_llm)
    demo, url = ui.start(rag, "127.0.0.1", ui.free_port())
    yield url
    demo.close()


def test_ask_click_a_citation_and_see_the_highlighted_passage(app_url):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    local = urlparse(app_url).netloc
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            page.on(
                "request",
                lambda r: (
                    outside.append(r.url)
                    if urlparse(r.url).scheme in ("http", "https", "ws", "wss") and urlparse(r.url).netloc != local
                    else None
                ),
            )
            page.goto(app_url)
            box = page.locator("#question textarea")
            expect(box).to_be_visible(timeout=60_000)
            expect(page.locator("#sources")).to_contain_text("Every sentence of an answer links")

            page.locator("#ask").click()  # nothing typed: a notice, nothing asked
            expect(page.get_by_text("Type a question first.")).to_be_visible(timeout=30_000)
            assert page.locator("#chat .message").count() == 0

            box.fill(QUESTION)
            box.press("Enter")
            expect(page.locator("#chat")).to_contain_text(QUESTION, timeout=30_000)  # posted at once
            marker = page.locator("#chat a.cite").first
            expect(marker).to_be_visible(timeout=300_000)  # the finished, cited answer

            target = marker.get_attribute("href").lstrip("#")
            marker.click()
            card = page.locator(f"#sources #{target}")
            expect(card).to_have_class("src-card active", timeout=10_000)
            expect(card).to_be_in_viewport()
            assert page.locator("#sources .src-card.active").count() == 1
            quote = card.locator("mark").inner_text()
            assert len(quote) > 20 and any(quote in t for t in SEED_TEXT), quote
            page.wait_for_timeout(500)  # let the smooth scroll settle for the picture
            page.screenshot(path=str(ARTIFACTS / "chat.png"))

            # Clear, then a question the articles do not answer.
            page.locator("#clear").click()
            expect(page.locator("#chat a.cite")).to_have_count(0)
            expect(page.locator("#sources")).to_contain_text("Every sentence of an answer links")
            box.fill(OFF_TOPIC)
            page.locator("#ask").click()
            expect(page.locator("#chat")).to_contain_text("Not in the articles", timeout=300_000)
            expect(page.locator("#sources")).to_contain_text("Related passages")
            assert page.locator("#sources mark").count() >= 1
            page.screenshot(path=str(ARTIFACTS / "refusal.png"))
        finally:
            browser.close()
    assert outside == [], f"the page fetched from outside this machine: {outside}"
