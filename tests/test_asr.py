"""Transcribing reference clips (gpt_sovits/asr.py) with a tiny random Whisper model of the real architecture, built
and saved here in the transformers layout, with a byte-level tokenizer of 256 byte tokens and Whisper's special
tokens (all that works offline); its transcripts are noise, so the tests check the plumbing, not the words."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from gpt_sovits import cli, weights
from gpt_sovits.asr import AsrError, AsrModels, Transcriber
from gpt_sovits.errors import AudioError
from test_app import speech_like, write_wav

WHISPER_LANGUAGES = ("en", "zh", "ja", "ko", "fr")


def build_tiny_whisper(folder: Path, languages=WHISPER_LANGUAGES) -> Path:
    import torch
    from tokenizers import pre_tokenizers
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )

    specials = ["<|startoftranscript|>", *(f"<|{code}|>" for code in languages), "<|translate|>", "<|transcribe|>",
                "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]  # fmt: skip
    vocab = {character: index for index, character in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    tokenizer = WhisperTokenizer(vocab=vocab, merges=[], additional_special_tokens=specials)
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in ["<|endoftext|>", *specials]}
    end, start = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    config = WhisperConfig(
        vocab_size=len(tokenizer), num_mel_bins=80, d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
        max_target_positions=64, pad_token_id=end, bos_token_id=end, eos_token_id=end, decoder_start_token_id=start,
    )  # fmt: skip
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=start, eos_token_id=end, pad_token_id=end, bos_token_id=end, max_length=64,
        lang_to_id={f"<|{code}|>": ids[f"<|{code}|>"] for code in languages},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        no_timestamps_token_id=ids["<|notimestamps|>"], is_multilingual=bool(languages),
    )  # fmt: skip
    model.save_pretrained(folder)
    WhisperProcessor(WhisperFeatureExtractor(feature_size=80), tokenizer).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("weights")
    build_tiny_whisper(root / weights.ASR_DIR / "whisper-tiny-random")
    return root


@pytest.fixture(scope="module")
def transcriber(weights_dir) -> Transcriber:
    return AsrModels(weights_dir).get()


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_wav(tmp_path_factory.mktemp("clips") / "reference.wav", speech_like(4.0, seed=1))


def test_a_hint_sets_the_language(transcriber):
    samples = speech_like(4.0, seed=2, rate=32000)
    for hint, language, mode in (("all_zh", "zh", "all_zh"), ("zh", "zh", "all_zh"), ("en", "en", "en"),
                                 ("all_ko", "ko", "all_ko"), ("ja", "ja", "all_ja")):  # fmt: skip
        transcript = transcriber.transcribe(samples, 32000, hint)
        assert (transcript.language, transcript.language_mode) == (language, mode)
        assert isinstance(transcript.text, str) and "\n" not in transcript.text


def test_the_language_is_detected_and_mapped_to_ours(tmp_path):
    # A model that knows only Japanese detects Japanese; one that knows only French gives no language of ours.
    samples = speech_like(4.0, seed=2)
    japanese = Transcriber.from_dir(build_tiny_whisper(tmp_path / "ja", ("ja",)))
    assert japanese.transcribe(samples, 16000, "auto").language_mode == "all_ja"
    assert japanese.transcribe(samples, 16000, "all_yue").language == "ja"  # a hint the model lacks: detected
    french = Transcriber.from_dir(build_tiny_whisper(tmp_path / "fr", ("fr",)))
    transcript = french.transcribe(samples, 16000, None)
    assert (transcript.language, transcript.language_mode) == (None, None)
    english_only = Transcriber.from_dir(build_tiny_whisper(tmp_path / "en", ()))  # as whisper-base.en
    assert english_only.transcribe(samples, 16000, "all_zh").language_mode == "en"


def test_the_reference_is_checked_and_trimmed_as_for_synthesis(transcriber, tmp_path, clip):
    assert transcriber.transcribe_reference(str(clip), "all_zh").language == "zh"
    with pytest.raises(AudioError, match="at least 3 s"):
        transcriber.transcribe_reference((16000, speech_like(1.0, seed=3, rate=16000)), None)
    long_clip = write_wav(tmp_path / "long.wav", speech_like(25.0, seed=4))
    assert transcriber.transcribe_reference(str(long_clip), "en").language == "en"  # trimmed to <= 10 s first
    with pytest.raises(AudioError, match="at most 30 s"):
        transcriber.transcribe(speech_like(31.0, seed=5, rate=16000), 16000)
    with pytest.raises(AudioError, match="no audio"):
        transcriber.transcribe(np.zeros(0, np.float32), 16000)


def test_without_a_model_the_feature_is_off(tmp_path):
    models = AsrModels(tmp_path)
    assert not models.available
    with pytest.raises(AsrError, match="download --asr whisper-small"):
        models.get()
    (tmp_path / weights.ASR_DIR / "broken").mkdir(parents=True)
    (tmp_path / weights.ASR_DIR / "broken" / "config.json").write_text("{}")
    assert models.available
    with pytest.raises(AsrError, match="cannot be loaded"):
        models.get()


def test_cli_transcribe(weights_dir, clip, capsys, monkeypatch):
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    assert cli.main(["transcribe", str(clip), "--language", "all_ja", "--weights-dir", str(weights_dir)]) == 0
    printed = capsys.readouterr()
    assert printed.out.endswith("\n") and "language: all_ja" in printed.err
    assert cli.main(["transcribe", str(clip), "--weights-dir", str(weights_dir.parent)]) == 2
    assert "No speech recognition model" in capsys.readouterr().err


def test_download_asr(tmp_path, monkeypatch):
    calls = []

    def fake_snapshot_download(repo, allow_patterns, local_dir):
        calls.append((repo, Path(local_dir)))
        Path(local_dir).mkdir(parents=True, exist_ok=True)
        (Path(local_dir) / "config.json").write_text("{}")

    monkeypatch.setattr("huggingface_hub.snapshot_download", fake_snapshot_download)
    steps = []
    folder = weights.download_asr("whisper-base", tmp_path, progress=lambda fraction, message: steps.append(fraction))
    assert calls == [("openai/whisper-base", tmp_path / "asr" / "whisper-base")] == [("openai/whisper-base", folder)]
    assert steps == [0.0, 1.0] and weights.asr_model_dir(tmp_path) == folder
    # Offline the Hub may return without fetching anything: nothing arrived is an error that names no server path.
    monkeypatch.setattr("huggingface_hub.snapshot_download", lambda repo, allow_patterns, local_dir: None)
    with pytest.raises(weights.WeightsError, match="cannot be reached") as offline:
        weights.download_asr("whisper-small", tmp_path)
    assert str(tmp_path) not in str(offline.value) and "asr/whisper-small/" in str(offline.value)
    with pytest.raises(weights.WeightsError, match="whisper-small"):
        weights.download_asr("whisper-huge", tmp_path)


def test_the_page_handler_fills_the_reference_text(weights_dir, clip, tmp_path):
    import anyio
    import gradio as gr

    from gpt_sovits.service import SynthesisGate
    from gpt_sovits.ui.transcribe import transcribe_handler

    transcribe = transcribe_handler(AsrModels(weights_dir), SynthesisGate())
    chinese_visitor = SimpleNamespace(headers={"accept-language": "zh-CN,zh;q=0.9"})
    text, language = anyio.run(transcribe, str(clip), "zh", chinese_visitor)
    assert isinstance(text, str) and language == "zh"  # Chinese heard in the Chinese-English mode: kept
    assert anyio.run(transcribe, str(clip), "all_ja", None)[1] == "all_ja"
    with pytest.raises(gr.Error, match="请先上传或录制参考音频"):
        anyio.run(transcribe, None, "auto", chinese_visitor)
    with pytest.raises(gr.Error, match="No speech recognition model"):
        anyio.run(transcribe_handler(AsrModels(tmp_path), SynthesisGate()), str(clip), "auto", None)
