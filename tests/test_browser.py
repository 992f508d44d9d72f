"""The page in a real browser (Debian chromium through Playwright): upload, type, synthesize, hear the result.

Needs /usr/bin/chromium (`apt-get install -y chromium`; add `fonts-wqy-zenhei` for readable Chinese in the
screenshot). The screenshot is saved under the test's tmp dir and its path printed (`pytest -s` shows it).
"""

import re
from pathlib import Path

import pytest

from test_app import REFERENCE_TEXT, arrange_weights, speech_like, start, write_wav

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium is not installed (apt-get install -y chromium)"
)
# Generous: on a loaded 2-core machine an upload or a first synthesis can take tens of seconds.
PAGE_TIMEOUT_MS = 120_000
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--metrics-recording-only",
]


@pytest.fixture(scope="module")
def page_url(tiny_checkpoints, tmp_path_factory):
    weights_dir = arrange_weights(tiny_checkpoints, tmp_path_factory.mktemp("weights"))
    _, demo, url = start(weights_dir, tmp_path_factory.mktemp("examples"))
    yield url
    demo.close()


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200}, locale="en-US")
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        console_errors = []
        page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: console_errors.append(str(error)))
        yield page, console_errors
        browser.close()


def test_upload_type_synthesize_and_play(page_url, browser_page, tmp_path):
    page, console_errors = browser_page
    reference = write_wav(tmp_path / "reference.wav", speech_like(4.0, seed=5))

    page.goto(page_url)
    page.get_by_text("GPT-SoVITS voice cloning").wait_for()
    page.get_by_text("Using v2").wait_for()

    page.locator("input[type=file]").first.set_input_files(str(reference))
    page.locator("audio").first.wait_for(state="attached")  # the upload finished: the reference player is there
    page.get_by_label("Reference text: exactly what the clip says").fill(REFERENCE_TEXT)
    page.get_by_label("Text to synthesize").fill("你好，世界。")
    page.get_by_role("button", name="Synthesize").click()

    status = page.locator("#status")
    status.get_by_text("Spoke 1 segment").or_(page.locator(".toast-body")).first.wait_for()
    assert "Spoke 1 segment" in status.inner_text(), page.locator(".toast-body").all_inner_texts()
    result = page.locator("#result-audio audio").first  # the exact WAV, offered once the stream has ended
    result.wait_for(state="attached")
    assert "seed" in status.inner_text()
    assert page.locator("#synthesize").is_enabled()

    screenshot = tmp_path / "app.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"\nscreenshot: {screenshot}")

    # An example row fills the form; nothing is synthesized until the button is pressed.
    from playwright.sync_api import expect

    page.locator(".gallery-item", has_text="English").click()
    expect(page.get_by_label("Text to synthesize")).to_have_value(re.compile("^Hello!"))
    assert console_errors == []


def test_page_in_chinese(page_url, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(locale="zh-CN")
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.goto(page_url)
        page.get_by_text("GPT-SoVITS 声音克隆").wait_for()
        page.get_by_role("button", name="合成语音").wait_for()
        assert page.get_by_label("怎么切").input_value() == "凑四句一切"  # a translated dropdown choice
        browser.close()


def test_live_audio_plays_while_made_and_stop_frees_the_cpu(page_url, browser_page, tmp_path):
    """Token streaming of a long text: the live player starts while the rest is made; Stop ends the run.

    Prints two figures for the closing note (the tiny models make them small; benchmarks/streaming.py has the
    engine's own first-chunk time at real size): how long after the first chunk reached the page the live player
    started playing, and how much CPU this process (the server) used after Stop.
    """
    import shutil
    import time

    if shutil.which("ffmpeg") is None:
        pytest.skip("no ffmpeg: Gradio cannot stream audio to the page")
    page, console_errors = browser_page
    reference = write_wav(tmp_path / "reference.wav", speech_like(4.0, seed=6))
    page.goto(page_url)
    page.get_by_text("Using v2").wait_for()
    page.locator("input[type=file]").first.set_input_files(str(reference))
    page.locator("audio").first.wait_for(state="attached")
    page.get_by_label("Reference text: exactly what the clip says").fill(REFERENCE_TEXT)
    page.get_by_label("Text to synthesize").fill("。".join(["今天天气很好，我们一起去公园散步吧"] * 30) + "。")
    page.get_by_label("How to cut the text").click()
    page.get_by_role("option", name="At every punctuation mark").click()
    page.get_by_text("As soon as possible").click()
    page.evaluate(
        """() => {
            window.firstChunkAt = null; window.playingAt = null;
            new MutationObserver(() => {
                if (!window.firstChunkAt && document.querySelector('#status').innerText.includes('Playing sentence'))
                    window.firstChunkAt = performance.now();
            }).observe(document.querySelector('#status'), {childList: true, subtree: true, characterData: true});
            document.addEventListener('playing', (event) => {
                if (!window.playingAt && event.target.closest('#live-audio')) window.playingAt = performance.now();
            }, true);
        }"""
    )
    page.get_by_role("button", name="Synthesize").click()
    page.wait_for_function("window.playingAt !== null")
    first_chunk, playing = page.evaluate("[window.firstChunkAt, window.playingAt]")
    print(f"\nlive player started {(playing - first_chunk) / 1000:.2f} s after the first chunk reached the page")

    page.locator("#stop").click()
    page.locator("#synthesize").and_(page.locator(":enabled")).wait_for()
    stopped = time.process_time()
    time.sleep(0.5)
    settled = time.process_time()
    time.sleep(1.0)
    print(f"server CPU after Stop: {settled - stopped:.2f} s in the first 0.5 s, {time.process_time() - settled:.2f} s in the next 1 s")
    assert time.process_time() - settled < 0.5, "the run kept computing after Stop"
    assert not page.locator("#status").inner_text().startswith("Spoke"), "the whole text was spoken: Stop did nothing"
    assert [error for error in console_errors if "hls" not in error.lower()] == []


def _visible_messages(page) -> str:
    """Status line, toasts, character count and cut preview: what the app tells the visitor."""
    parts = [page.locator(selector).inner_text() for selector in ("#status", "#character-count", "#cut-preview")]
    return "\n".join(parts + page.locator(".toast-body").all_inner_texts())


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_messages_in_the_visitors_language_and_history(page_url, tmp_path, locale):
    """A bad input, a cut preview and a success: every message in the page's language; the result lands in this
    session's history (restorable), and a second visitor sees none of it."""
    from playwright.sync_api import expect, sync_playwright

    from test_messages import english_left

    chinese = locale == "zh-CN"
    labels = {
        "reference_text": "参考音频的文本（与音频内容完全一致）" if chinese else "Reference text: exactly what the clip says",
        "target_text": "需要合成的文本" if chinese else "Text to synthesize",
        "synthesize": "合成语音" if chinese else "Synthesize",
        "preview": "预览切分结果" if chinese else "Preview the cut",
        "reuse": "沿用这个种子" if chinese else "Reuse this seed",
        "restore": "恢复这些设置" if chinese else "Put these settings back",
    }
    target_text = "你好，世界。今天天气很好。" if chinese else "Hello world. It is a fine day."
    reference = write_wav(tmp_path / "reference.wav", speech_like(4.0, seed=7))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(locale=locale)
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.goto(page_url)
        page.locator("#model-summary").get_by_text("v2").first.wait_for()

        def assert_language():
            text = _visible_messages(page)
            if chinese:
                assert not english_left(text), text
            else:
                assert not re.search("[\u4e00-\u9fff]{2,}", re.sub(r"「[^」]*」|'[^']*'|\*\*[^*]*\*\*", "", text)), text

        # A bad input: no reference clip yet.
        page.get_by_label(labels["target_text"]).fill(target_text)
        expect(page.locator("#character-count")).to_contain_text(f"{len(target_text)} / 1000")
        page.get_by_role("button", name=labels["synthesize"], exact=True).click()
        page.locator(".toast-body").first.wait_for()
        assert_language()

        page.get_by_role("button", name=labels["preview"]).click()
        expect(page.locator("#cut-preview li").first).to_have_text(target_text)
        assert_language()

        page.locator("input[type=file]").first.set_input_files(str(reference))
        page.locator("audio").first.wait_for(state="attached")
        page.get_by_label(labels["reference_text"]).fill(REFERENCE_TEXT)
        page.get_by_role("button", name=labels["synthesize"], exact=True).click()
        page.locator("#result-audio audio").first.wait_for(state="attached")
        expect(page.locator("#status")).to_contain_text("已合成" if chinese else "Spoke")
        assert_language()

        # The seed used is written back and can be reused; the result is in this session's history.
        seed_used = page.locator("#seed-used input").input_value()
        assert seed_used and int(seed_used) >= 0
        page.get_by_role("button", name=labels["reuse"]).click()
        page.get_by_role("button", name="高级设置" if chinese else "Advanced settings").click()
        expect(page.locator("#seed input")).to_have_value(seed_used)
        expect(page.get_by_role("button", name=labels["restore"])).to_have_count(1)
        page.get_by_label(labels["target_text"]).fill("别的内容。")
        page.get_by_role("button", name=labels["restore"]).click()
        expect(page.get_by_label(labels["target_text"])).to_have_value(target_text)

        other = browser.new_page(locale=locale)  # another visitor: no history of the first
        other.goto(page_url)
        other.locator("#model-summary").get_by_text("v2").first.wait_for()
        other.wait_for_timeout(1000)
        assert other.get_by_role("button", name=labels["restore"]).count() == 0
        browser.close()


# Asked of the page by the phone-width test: what overlaps, reaches past the screen's edge or cannot be reached.
# Controls and labels are compared pairwise by their boxes (a label around its own input, or a link around its
# button, is not an overlap); each control is scrolled to and must be what sits at its centre.
LAYOUT_PROBLEMS = """() => {
    const width = document.documentElement.clientWidth;
    const shown = (e) => e.checkVisibility({opacityProperty: true, visibilityProperty: true})
        && e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().height > 0
        && e.closest('.toast-wrap') === null;
    const text = (e) => (e?.getAttribute('aria-label') || e?.innerText || e?.value || '').trim().replace(/\\s+/g, ' ');
    const name = (e) => e === null ? 'nothing' : `${e.tagName.toLowerCase()} "${text(e).slice(0, 30)}" (in "${
        text(e.closest('.block')?.querySelector('[data-testid=block-info], [data-testid=block-label]')).slice(0, 30)}")`;
    const controls = [...document.querySelectorAll(
        'button, input:not([type=file]):not([type=hidden]), textarea, select, audio, a[href]')].filter(shown);
    const labels = [...document.querySelectorAll('label, [data-testid=block-info]')].filter(shown);
    const problems = [];
    if (document.documentElement.scrollWidth > width)
        problems.push(`the page is ${document.documentElement.scrollWidth} px wide on a ${width} px screen`);
    const boxes = [...controls, ...labels].map((e) => {
        const r = e.getBoundingClientRect();
        return [e, {left: r.left, right: r.right, top: r.top + scrollY, bottom: r.bottom + scrollY}];
    });
    for (const [e, box] of boxes)
        if (box.left < -1 || box.right > width + 1) problems.push(`${name(e)} reaches past the screen's edge`);
    boxes.forEach(([a, boxA], i) => boxes.slice(i + 1).forEach(([b, boxB]) => {
        if (a.contains(b) || b.contains(a)) return;
        const across = Math.min(boxA.right, boxB.right) - Math.max(boxA.left, boxB.left);
        const down = Math.min(boxA.bottom, boxB.bottom) - Math.max(boxA.top, boxB.top);
        if (across > 1 && down > 1) problems.push(`${name(a)} overlaps ${name(b)}`);
    }));
    for (const e of controls) {
        e.scrollIntoView({block: 'nearest', inline: 'nearest', behavior: 'instant'});
        const r = e.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (!e.contains(hit)) problems.push(`${name(e)} is covered by ${name(hit)}`);
    }
    return problems;
}"""


def test_phone_layout_nothing_overlaps_and_every_control_is_reachable(page_url, tmp_path):
    """The Chinese page on a 390x844 phone, before any input and after a synthesis with the advanced settings open
    (player, subtitles, history): no control or label on top of another, nothing past the screen's edge, every
    control reachable. The screenshot (full page, after the synthesis) is saved under the test's tmp dir."""
    from playwright.sync_api import sync_playwright

    reference = write_wav(tmp_path / "reference.wav", speech_like(4.0, seed=8))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.goto(page_url)
        page.locator("#model-summary").get_by_text("v2").first.wait_for()
        problems = page.evaluate(LAYOUT_PROBLEMS)
        assert problems == [], "\n".join(problems)

        page.locator("input[type=file]").first.set_input_files(str(reference))
        page.locator("audio").first.wait_for(state="attached")
        page.get_by_label("参考音频的文本（与音频内容完全一致）").fill(REFERENCE_TEXT)
        page.get_by_label("需要合成的文本").fill("你好，世界。今天天气很好。")
        page.get_by_role("button", name="合成语音", exact=True).click()
        page.get_by_role("button", name="恢复这些设置").wait_for()  # the history entry under the player
        page.get_by_role("button", name="高级设置").click()
        page.locator("#seed input").wait_for()
        page.screenshot(path=str(tmp_path / "mobile.png"), full_page=True)
        print(f"\nscreenshot: {tmp_path / 'mobile.png'}")
        problems = page.evaluate(LAYOUT_PROBLEMS)
        assert problems == [], "\n".join(problems)
        browser.close()


def test_api_page_shows_parameter_names(page_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(locale="zh-CN")
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.goto(page_url)
        page.get_by_text("通过 API 或 MCP 使用").click()  # the footer link ("Use via API or MCP")
        page.get_by_text("target_text").first.wait_for()
        text = page.locator("body").inner_text()
        assert "[object Object]" not in text and "__i18n__" not in text and "value_" not in text
        assert "target_text" in text
        browser.close()
