"""In a real browser (Debian chromium through Playwright): the Transcribe button fills the reference text from the
clip (a tiny random Whisper model, so the words are noise), and the result player shows the subtitles.
Skipped without /usr/bin/chromium, as tests/test_browser.py."""

import pytest

from test_app import REFERENCE_TEXT, arrange_weights, speech_like, start, write_wav
from test_asr import build_tiny_whisper
from test_browser import CHROMIUM, CHROMIUM_ARGS, PAGE_TIMEOUT_MS

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")


def test_transcribe_then_synthesize_with_subtitles(tiny_checkpoints, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    weights_dir = arrange_weights(tiny_checkpoints, tmp_path / "weights")
    build_tiny_whisper(weights_dir / "asr" / "whisper-tiny-random")
    reference = write_wav(tmp_path / "reference.wav", speech_like(4.0, seed=5))
    _, running, url = start(weights_dir, tmp_path / "server")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1200}, locale="en-US")
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(url)
            page.get_by_text("Using v2").wait_for()
            page.locator("input[type=file]").first.set_input_files(str(reference))
            page.locator("audio").first.wait_for(state="attached")
            page.locator("#transcribe").click()
            reference_text = page.get_by_label("Reference text: exactly what the clip says")
            expect(reference_text).not_to_have_value("")
            assert page.get_by_label("Reference language").input_value() == "Chinese (中文)"
            reference_text.fill(REFERENCE_TEXT)  # the tiny model's words are noise
            page.get_by_label("Text to synthesize").fill("你好，世界。今天天气很好。")
            page.get_by_role("button", name="Synthesize").click()
            page.locator("#status").get_by_text("Spoke").or_(page.locator(".toast-body")).first.wait_for()
            assert page.locator(".toast-body").all_inner_texts() == []

            player = page.locator("#result-audio")
            player.get_by_test_id("subtitles-toggle").wait_for()  # the CC button: the player has cues
            player.get_by_role("button", name="Play", exact=True).click()
            expect(player.get_by_test_id("subtitle-display")).to_contain_text("你好，世界。")
            files = page.locator("#subtitle-files")
            expect(files).to_contain_text(".srt")
            expect(files).to_contain_text(".vtt")
            page.screenshot(path=str(tmp_path / "subtitles.png"), full_page=True)
            print(f"\nscreenshot: {tmp_path / 'subtitles.png'}")
            browser.close()
    finally:
        running.close()
