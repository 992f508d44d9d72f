"""Subtitles: cues from segment timings, SRT and WebVTT text (timestamps, escaping, the empty result)."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from gpt_sovits.subtitles import Cue, spoken_weight, subtitle_cues, subtitles_text, to_srt, to_vtt, write_subtitles


def segment(text, start, end):
    return SimpleNamespace(text=text, start_seconds=start, end_seconds=end)


def test_a_segment_is_cut_at_sentence_ends_and_timed_by_syllables():
    # The front end's leading mark (cut segments start with one) is not shown.
    cues = subtitle_cues([segment("。你好，你是谁。今天天气很好！再见。", 0.0, 6.0)])
    assert [cue.text for cue in cues] == ["你好，你是谁。", "今天天气很好！", "再见。"]
    # 5 + 6 + 2 syllables share the 6 s.
    assert cues[0].start_seconds == 0.0 and cues[-1].end_seconds == pytest.approx(6.0)
    assert cues[0].end_seconds == pytest.approx(6.0 * 5 / 13)
    assert cues[1].end_seconds == pytest.approx(6.0 * 11 / 13)
    assert all(earlier.end_seconds == later.start_seconds for earlier, later in zip(cues, cues[1:]))


def test_long_sentences_are_cut_at_clause_marks_and_pauses_stay_out_of_cues():
    text = "I am fine, thanks a lot and what about you my friend, tell me. Pi is 3.14 today."
    cues = subtitle_cues([segment("Hello.", 0.0, 1.0), segment(text, 1.3, 9.0)], max_characters=42)
    assert [cue.text for cue in cues] == [
        "Hello.", "I am fine,", "thanks a lot and what about you my friend,", "tell me.", "Pi is 3.14 today.",
    ]  # fmt: skip
    assert cues[0].end_seconds == 1.0 and cues[1].start_seconds == 1.3  # the pause between segments is no cue's
    assert all(len(cue.text) <= 42 for cue in cues)


def test_syllable_estimate():
    assert spoken_weight("你好，你是谁。") == 5
    assert spoken_weight("こんにちは") == 5
    assert spoken_weight("Hello there") == 3
    assert spoken_weight("don't") == 1
    assert spoken_weight("3.14") == 3
    assert spoken_weight("……！") == 0


def test_segments_without_words_or_time_give_no_cue():
    assert subtitle_cues([segment("。……", 0.0, 1.0), segment("好。", 1.0, 1.0)]) == []


def test_srt_and_vtt_text():
    cues = [Cue(0.0, 1.2344, "第一句。"), Cue(3661.5, 3662.0, "<b>Tom & Jerry</b> --> next\nline")]
    assert to_srt(cues) == (
        "1\n00:00:00,000 --> 00:00:01,234\n第一句。\n\n"
        "2\n01:01:01,500 --> 01:01:02,000\n<b>Tom & Jerry</b> -> next line\n"
    )
    assert to_vtt(cues) == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.234\n第一句。\n\n"
        "01:01:01.500 --> 01:01:02.000\n&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; --&gt; next line\n"
    )


def test_times_are_made_playable():
    # Out of order, overlapping, zero-length: sorted, each starts where the last ended, at least 1 ms long.
    cues = [Cue(2.0, 2.0, "b"), Cue(0.0, 2.5, "a")]
    assert to_srt(cues) == "1\n00:00:00,000 --> 00:00:02,500\na\n\n2\n00:00:02,500 --> 00:00:02,501\nb\n"


def test_no_cues():
    assert to_srt([]) == ""
    assert to_vtt([]) == "WEBVTT\n"
    with pytest.raises(ValueError):
        subtitles_text([], "ass")


def test_written_by_suffix(tmp_path):
    cues = [Cue(0.0, 1.0, "你好。")]
    write_subtitles(cues, tmp_path / "a.srt")
    write_subtitles(cues, tmp_path / "a.VTT")
    assert (tmp_path / "a.srt").read_text(encoding="utf-8") == to_srt(cues)
    assert (tmp_path / "a.VTT").read_text(encoding="utf-8").startswith("WEBVTT")


# ----- the command line ---------------------------------------------------------------------------------------


def test_cli_writes_srt_and_vtt_beside_the_wav(tiny_checkpoints, tmp_path, capsys, monkeypatch):
    from gpt_sovits import cli
    from test_app import arrange_weights, speech_like, write_wav
    from test_cli import synthesize_args

    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    weights_dir = arrange_weights(tiny_checkpoints, tmp_path / "weights")
    reference = write_wav(tmp_path / "reference.wav", speech_like(4.0, seed=1))
    srt, vtt = tmp_path / "out.srt", tmp_path / "out.vtt"
    arguments = synthesize_args(weights_dir, reference, tmp_path / "out.wav", "--seed", "3",
                                "--srt", str(srt), "--vtt", str(vtt))  # fmt: skip
    assert cli.main(arguments) == 0
    assert f"Wrote {srt} (1 subtitle(s))" in capsys.readouterr().out
    text = srt.read_text(encoding="utf-8")
    assert text.startswith("1\n00:00:00,000 --> ") and text.endswith("\n你好，世界。\n")
    assert vtt.read_text(encoding="utf-8").startswith("WEBVTT\n\n00:00:00.000 --> ")

    missing_folder = synthesize_args(weights_dir, reference, tmp_path / "b.wav", "--srt", str(tmp_path / "no" / "a.srt"))
    assert cli.main(missing_folder) == 2
    assert "does not exist" in capsys.readouterr().err and not (tmp_path / "b.wav").exists()


# ----- the HTTP API -----------------------------------------------------------------------------------------------


def test_api_and_page_give_subtitles(tiny_checkpoints, tmp_path):
    """One server: the OpenAI route answers audio and subtitles as JSON; the page's synthesis returns the player
    with its subtitles and the two files; the transcribe button is hidden (no speech recognition model)."""
    import base64
    import io

    import httpx
    import soundfile

    from gradio_client import Client

    from test_app import REFERENCE_TEXT, arrange_weights, speech_like, start, write_wav
    from test_app import request as ui_request

    weights_dir = arrange_weights(tiny_checkpoints, tmp_path / "weights")
    clip_path = write_wav(tmp_path / "reference.wav", speech_like(4.0, seed=1))
    clip = clip_path.read_bytes()
    _, running, url = start(weights_dir, tmp_path / "server")
    try:
        voice = {"audio": base64.b64encode(clip).decode(), "text": REFERENCE_TEXT, "language": "all_zh"}
        speech = {"input": "你好，世界。今天天气很好。", "voice": voice, "language": "all_zh", "response_format": "wav",
                  "seed": 5, "cut_method": "cut5"}  # fmt: skip
        with httpx.Client(base_url=url.rstrip("/"), timeout=120) as http:
            answer = http.post("/v1/audio/speech", json={**speech, "subtitles": "vtt"})
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"] == "application/json" and answer.headers["x-seed"] == "5"
            body = answer.json()
            samples, rate = soundfile.read(io.BytesIO(base64.b64decode(body["audio"])), dtype="int16")
            assert body["media_type"] == "audio/wav" and rate == body["sample_rate"] == 32000 and body["seed"] == 5
            assert body["subtitles_format"] == "vtt" and body["subtitles"].startswith("WEBVTT\n\n00:00:00.000 --> ")
            assert [cue["text"] for cue in body["cues"]] == ["你好，世界。", "今天天气很好。"]
            assert 0 < body["cues"][-1]["end"] <= len(samples) / rate

            srt = http.post("/v1/audio/speech", json={**speech, "subtitles": "srt"}).json()["subtitles"]
            assert srt.startswith("1\n00:00:00,000 --> ") and srt.endswith("\n今天天气很好。\n")
            refused = http.post("/v1/audio/speech", json={**speech, "subtitles": "ass"})
            assert refused.status_code == 400 and refused.json()["field"] == "subtitles"

            components = http.get("/config").json()["components"]
            button = next(component for component in components if component["props"].get("elem_id") == "transcribe")
            assert button["props"]["visible"] is False

        client = Client(url, verbose=False)
        _, result_audio, status, *_, subtitle_files, cues = client.predict(
            **ui_request(clip_path, target_text="你好，世界。今天天气很好。", cut_method="cut5", seed=5),
            api_name="/synthesize",
        )  # fmt: skip
        assert Path(result_audio).suffix == ".wav" and "seed 5" in status
        srt_file, vtt_file = sorted(subtitle_files, key=lambda path: Path(path).suffix)
        assert Path(srt_file).read_text(encoding="utf-8") == srt  # the same seed: the same cues as over HTTP
        assert Path(vtt_file).read_text(encoding="utf-8") == body["subtitles"]
        assert [cue["text"] for cue in cues] == ["你好，世界。", "今天天气很好。"]
    finally:
        running.close()
