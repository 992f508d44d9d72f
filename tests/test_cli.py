"""`python -m gpt_sovits synthesize | download`: a WAV out, or one line on stderr and exit status 2."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from gpt_sovits import cli, weights
from test_app import arrange_weights, speech_like, write_wav

REFERENCE_TEXT = "今天天气很好，我们一起去公园散步吧。"


@pytest.fixture(autouse=True)
def english_terminal(monkeypatch):
    """The CLI speaks the terminal's language; these tests read its English."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(scope="module")
def weights_dir(tiny_checkpoints, tmp_path_factory) -> Path:
    return arrange_weights(tiny_checkpoints, tmp_path_factory.mktemp("weights"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    return write_wav(tmp_path_factory.mktemp("clips") / "reference.wav", speech_like(4.0, seed=1))


def synthesize_args(weights_dir: Path, reference: Path, output: Path, *extra: str) -> list[str]:
    return [
        "synthesize",
        "--weights-dir", str(weights_dir),
        "--reference-audio", str(reference),
        "--reference-text", REFERENCE_TEXT,
        "--reference-language", "all_zh",
        "--target-text", "你好，世界。",
        "--target-language", "all_zh",
        "--output", str(output),
        *extra,
    ]  # fmt: skip


def test_synthesize_writes_a_32k_wav(weights_dir, reference, tmp_path, capsys):
    output = tmp_path / "out.wav"
    assert cli.main(synthesize_args(weights_dir, reference, output, "--seed", "3", "--speed", "1.2")) == 0
    samples, rate = soundfile.read(output, dtype="int16")
    info = soundfile.info(output)
    assert rate == 32000 and info.subtype == "PCM_16" and info.channels == 1
    assert len(samples) / rate > 0.3 and np.abs(samples).max() > 0
    printed = capsys.readouterr().out
    assert f"Wrote {output}" in printed and "seed 3" in printed


def test_ctrl_c_stops_a_synthesis_with_one_line_and_status_130(weights_dir, reference, tmp_path):
    """Ctrl-C while a long text is streamed to a file: "Stopped.", exit status 130, no traceback, and no abort from
    the T2S thread still at work (one cut off inside torch by the interpreter's exit used to end the process with
    "terminate called without an active exception", status 134)."""
    output = tmp_path / "long.wav"
    arguments = synthesize_args(weights_dir, reference, output, "--cut-method", "cut5", "--stream", "sentence")
    arguments[arguments.index("--target-text") + 1] = "今天天气很好。我们一起去公园。然后我们去吃饭。" * 24
    # Ctrl-C raises KeyboardInterrupt, as in a terminal, even where this suite runs with SIGINT ignored (a background
    # job), which the child would inherit.
    as_in_a_terminal = "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); " \
                       "runpy.run_module('gpt_sovits', run_name='__main__')"  # fmt: skip
    process = subprocess.Popen([sys.executable, "-c", as_in_a_terminal, *arguments], stderr=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parents[1], env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline and not (output.exists() and output.stat().st_size > 44):
        time.sleep(0.05)  # until the first sentence is on disk (past the 44-byte WAV header)
    assert process.poll() is None, "the synthesis ended before it could be interrupted: give it more sentences"
    process.send_signal(signal.SIGINT)
    errors = process.communicate(timeout=60)[1]
    assert process.returncode == 130, errors
    assert "Stopped." in errors and "Traceback" not in errors and "terminate called" not in errors
    assert soundfile.info(output).duration > 0  # what was made before the stop is kept, as a playable file


def test_stream_writes_the_file_as_it_goes(weights_dir, reference, tmp_path):
    """--stream sentence writes the same audio as the one-shot run, chunk by chunk."""
    whole, streamed = tmp_path / "whole.wav", tmp_path / "streamed.wav"
    text = ["--target-text", "你好，世界。今天天气很好。", "--cut-method", "cut5", "--seed", "3"]
    assert cli.main(synthesize_args(weights_dir, reference, whole, *text)) == 0
    assert cli.main(synthesize_args(weights_dir, reference, streamed, *text, "--stream", "sentence")) == 0
    np.testing.assert_array_equal(soundfile.read(whole, dtype="int16")[0], soundfile.read(streamed, dtype="int16")[0])
    assert cli.main(synthesize_args(weights_dir, reference, streamed, *text, "--stream", "token")) == 0
    assert soundfile.info(streamed).frames > 0


@pytest.mark.parametrize(
    "reference_text, reference_language, target_text, target_language",
    [("오늘은 날씨가 좋네요, 산책하러 갈까요?", "all_ko", "今日はいい天気ですね。東京でGPUを買った。", "ja"),
     (REFERENCE_TEXT, "all_zh", "我哋去飲茶，OK？今日天氣好好。", "yue")],
)  # fmt: skip
def test_japanese_korean_and_cantonese_synthesize(
    weights_dir, reference, tmp_path, reference_text, reference_language, target_text, target_language
):
    output = tmp_path / "out.wav"
    arguments = synthesize_args(weights_dir, reference, output, "--seed", "3")
    for option, value in (("--reference-text", reference_text), ("--reference-language", reference_language),
                          ("--target-text", target_text), ("--target-language", target_language)):  # fmt: skip
        arguments[arguments.index(option) + 1] = value
    assert cli.main(arguments) == 0
    samples, rate = soundfile.read(output, dtype="int16")
    assert len(samples) / rate > 0.3 and np.abs(samples).max() > 0


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--target-text", ""], "text to synthesize is empty"),
        (["--target-language", "all_jp"], "Unknown language mode 'all_jp'"),
        (["--top-k", "0"], "'top_k' must be between 1 and 100"),
        (["--cut-method", "cut5", "--temperature", "5"], "'temperature' must be between"),
        (["--seed", "99999999999999999999"], "'seed' must be a whole number from 0 to"),
        (["--device", "tpu"], "Unknown device 'tpu': use auto, cpu, cuda or cuda:N"),
        (["--device", "cpu", "--dtype", "float16"], "float16 is for GPUs"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(weights_dir, reference, tmp_path, capsys, extra, message):
    assert cli.main(synthesize_args(weights_dir, reference, tmp_path / "out.wav", *extra)) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error
    assert "Traceback" not in error and not (tmp_path / "out.wav").exists()


def test_a_chinese_terminal_gets_chinese_messages(weights_dir, reference, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert cli.main(synthesize_args(weights_dir, reference, tmp_path / "out.wav", "--target-text", "")) == 2
    assert capsys.readouterr().err == "错误：要合成的文本是空的。请输入要让这个声音说的话。\n"
    monkeypatch.setenv("LC_ALL", "C.UTF-8")  # LC_ALL wins over LANG, as in gettext
    assert cli.main(synthesize_args(weights_dir, reference, tmp_path / "out.wav", "--target-text", "")) == 2
    assert capsys.readouterr().err.startswith("error: The text to synthesize is empty.")


@pytest.mark.parametrize(
    "output, message",
    [
        ("missing-folder/out.wav", "does not exist"),
        ("out.mp3", "ending in .wav"),
        ("out", "ending in .wav"),
        (".", "is a folder"),
    ],
)
def test_unwritable_output_is_refused_before_synthesis(weights_dir, reference, tmp_path, capsys, output, message):
    assert cli.main(synthesize_args(weights_dir, reference, tmp_path / output)) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: Cannot write") and message in error and "Traceback" not in error


def test_unreadable_reference(weights_dir, tmp_path, capsys):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....not really")
    assert cli.main(synthesize_args(weights_dir, broken, tmp_path / "out.wav")) == 2
    assert "Cannot read audio file" in capsys.readouterr().err


def test_missing_models_say_what_to_put_where(reference, tmp_path, capsys):
    assert cli.main(synthesize_args(tmp_path / "empty", reference, tmp_path / "out.wav")) == 2
    error = capsys.readouterr().err
    assert "Model files are missing" in error and "python -m gpt_sovits download" in error


def test_download_reports_progress(tmp_path, monkeypatch, capsys):
    def fake_snapshot_download(repo_id, allow_patterns, local_dir):
        name = allow_patterns[0].rstrip("*")
        path = Path(local_dir) / (name + "config.json" if name.endswith("/") else name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")

    monkeypatch.setattr("huggingface_hub.snapshot_download", fake_snapshot_download)
    assert cli.main(["download", "--version", "v2", "--weights-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "[  0%] Downloading gsv-v2final-pretrained/" in printed and "[100%]" in printed
    assert (tmp_path / weights.OFFICIAL_MODELS[2].sovits).is_file()


def test_download_offline(tmp_path, monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise OSError("Network is unreachable")

    monkeypatch.setattr("huggingface_hub.snapshot_download", offline)
    assert cli.main(["download", "--weights-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "Could not download s1v3.ckpt" in error and "network" in error
