"""Take the "after" screenshots in docs/screenshots/ from the real page, served with the tiny random weights (so the
voice is noise) and a tiny random Whisper model (so the Transcribe button shows).

Usage, from the repository root (needs /usr/bin/chromium and, for Chinese, fonts-wqy-zenhei; see test_browser.py):
    PYTHONPATH=. python tests/take_screenshots.py docs/screenshots

Each page: an example row fills the form, one synthesis, the result paused while its subtitle shows, the session
history under it. Desktop pages are taken whole; the phone page from the Synthesize button to the history's end.
"""

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from test_app import arrange_weights, start
from test_asr import build_tiny_whisper
from test_browser import CHROMIUM, CHROMIUM_ARGS, PAGE_TIMEOUT_MS
from tiny_weights import tiny_checkpoints_dir

DESKTOP = {"width": 1400, "height": 1200}
PHONE = {"width": 390, "height": 844}
SHOTS = [  # file name, browser language, screen, the example row to click
    ("desktop-en-after.png", "en-US", DESKTOP, "English"),
    ("desktop-zh-after.png", "zh-CN", DESKTOP, "中文"),
    ("mobile-zh-after.png", "zh-CN", PHONE, "中文"),
]
MARGIN_PX = 12  # around the phone page's clip


def take(page, url: str, example: str, path: Path) -> None:
    page.goto(url)
    page.locator("#model-summary").get_by_text("v2").first.wait_for()
    page.locator(".gallery-item", has_text=example).click()
    expect(page.locator("#target-text textarea")).not_to_have_value("")
    page.locator("#synthesize").click()
    page.locator(".history-entry").first.wait_for()
    page.evaluate("document.querySelector('#live-audio audio')?.pause()")  # it played while made: stop it
    page.wait_for_timeout(500)
    player = page.locator("#result-audio")
    player.locator(".play-pause-button").click()
    expect(player.get_by_test_id("subtitle-display")).not_to_have_text("")
    player.locator(".play-pause-button").click()  # pause: the subtitle stays on screen
    page.evaluate("window.scrollTo(0, 0)")  # so the boxes below are in page coordinates
    if page.viewport_size["width"] > PHONE["width"]:
        page.screenshot(path=str(path), full_page=True)
        return
    top = page.locator("#synthesize").bounding_box()["y"] - MARGIN_PX
    last = page.locator(".history-entry").last.bounding_box()
    bottom = last["y"] + last["height"] + MARGIN_PX
    clip = {"x": 0, "y": top, "width": PHONE["width"], "height": bottom - top}
    page.screenshot(path=str(path), full_page=True, clip=clip)


def main(folder: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        weights_dir = arrange_weights(tiny_checkpoints_dir(), Path(scratch) / "weights")
        build_tiny_whisper(weights_dir / "asr" / "whisper-tiny-random")
        _, running, url = start(weights_dir, Path(scratch) / "server")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                for name, locale, screen, example in SHOTS:
                    page = browser.new_page(locale=locale, viewport=screen)
                    page.set_default_timeout(PAGE_TIMEOUT_MS)
                    take(page, url, example, folder / name)
                    page.close()
                    print(folder / name)
                browser.close()
        finally:
            running.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
