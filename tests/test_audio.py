"""Audio I/O and the reference front ends (resamplers, spectrogram). Their parity with the official pipeline's
recorded arrays is test_parity.py's reference_audio stage, plus the one array it does not see (below)."""

import math

import numpy as np
import pytest
import soundfile
import torch

from conftest import load_case, vector_cases
from tolerances import assert_matches_official
from gpt_sovits import audio
from gpt_sovits.errors import AudioError


def _tone(seconds=0.5, sample_rate=16000, freq=220.0, channels=1):
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    mono = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.stack([mono * (c + 1) / channels for c in range(channels)], axis=1).astype(np.float32)  # [n, ch]


# ---------------------------------------------------------------------------------------------------------------
# Reading


@pytest.mark.parametrize(
    "extension, fmt, subtype, lossless",
    [("wav", "WAV", "PCM_16", True), ("flac", "FLAC", "PCM_16", True), ("ogg", "OGG", "VORBIS", False),
     ("mp3", "MP3", "MPEG_LAYER_III", False)],
)
def test_reads_every_supported_format(tmp_path, extension, fmt, subtype, lossless):
    if not soundfile.check_format(fmt, subtype):
        pytest.skip(f"this libsndfile cannot write {fmt}/{subtype}")
    frames = _tone(sample_rate=44100, channels=2)
    path = tmp_path / f"reference.{extension}"
    soundfile.write(path, frames, 44100, format=fmt, subtype=subtype)

    clip = audio.load_audio(path)

    assert clip.sample_rate == 44100
    assert clip.samples.dtype == np.float32 and clip.samples.shape[0] == 1  # mixed to mono while decoding
    assert clip.source == f"reference.{extension}"
    if lossless:
        expected = np.round(frames.T * 32767) / 32768  # PCM16 quantisation, read back as int16 / 32768
        np.testing.assert_allclose(clip.mono(), expected.mean(axis=0), atol=1 / 32768)
    else:  # codecs add delay/padding; the signal must still be there at about the right length
        assert abs(clip.num_samples - frames.shape[0]) < 0.1 * frames.shape[0]
        assert 0.2 < np.abs(clip.mono()).max() < 1.2


def test_stereo_mixes_to_channel_mean(tmp_path):
    frames = _tone(channels=2)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, frames, 16000, subtype="FLOAT")
    clip = audio.load_audio(path)
    np.testing.assert_array_equal(clip.mono(), frames.mean(axis=1, dtype=np.float32))
    assert clip.duration_seconds == pytest.approx(0.5)


def test_gradio_int16_pair_is_scaled_like_upstream():
    samples = np.array([0, 16384, -32768, 32767], dtype=np.int16)
    clip = audio.load_audio((24000, samples))
    assert clip.sample_rate == 24000 and clip.samples.shape == (1, 4)
    np.testing.assert_array_equal(clip.samples[0], samples.astype(np.float32) / 32768)


def test_gradio_pair_with_channels_last():
    stereo = (np.array([[1000, -1000], [2000, 0], [0, 0]], dtype=np.int16))  # [n, channels]
    clip = audio.load_audio((8000, stereo))
    assert clip.samples.shape == (1, 3)
    np.testing.assert_array_equal(clip.mono(), np.array([0, 1000, 0], dtype=np.float32) / 32768)


def test_gradio_float_pair_is_kept():
    clip = audio.load_audio((16000, np.array([0.25, -0.5], dtype=np.float64)))
    np.testing.assert_array_equal(clip.samples, [[0.25, -0.5]])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda tmp: tmp / "missing.wav", "does not exist"),
        (lambda tmp: _write_bytes(tmp / "notes.wav", b"this is not audio at all"), "Supported formats"),
        (lambda tmp: _write_bytes(tmp / "truncated.flac", b"fLaC\x00\x00"), "truncated.flac"),
        (lambda tmp: _write_empty_wav(tmp / "empty.wav"), "empty"),
    ],
)
def test_bad_files_raise_audio_error(tmp_path, make, message):
    with pytest.raises(AudioError, match=message):
        audio.load_audio(make(tmp_path))


def test_unreadable_file_message_has_no_doubled_full_stop(tmp_path):
    with pytest.raises(AudioError) as caught:
        audio.load_audio(_write_bytes(tmp_path / "notes.wav", b"this is not audio at all"))
    assert ".." not in str(caught.value)


@pytest.mark.parametrize(
    "source, message",
    [
        ((16000, np.zeros(0, dtype=np.int16)), "empty"),
        ((0, np.zeros(10, dtype=np.int16)), "sample rate"),
        ((16000, np.array([0.0, np.nan], dtype=np.float32)), "NaN"),
        ((16000, np.array(["a", "b"])), "sample type"),
        (12345, "file path"),
    ],
)
def test_bad_arrays_raise_audio_error(source, message):
    with pytest.raises(AudioError, match=message):
        audio.load_audio(source)


def _write_bytes(path, data):
    path.write_bytes(data)
    return path


def _write_empty_wav(path):
    soundfile.write(path, np.zeros((0, 1), dtype=np.float32), 16000)
    return path


# ---------------------------------------------------------------------------------------------------------------
# Resamplers and spectrogram


def test_sinc_resampler_output_length_and_tone():
    tone = torch.from_numpy(_tone(seconds=0.25, sample_rate=44100)[:, 0])
    out = audio.resample_sinc(tone, 44100, 32000)
    assert out.shape[-1] == math.ceil(tone.shape[-1] * 32000 / 44100)
    expected = torch.from_numpy(_tone(seconds=0.25, sample_rate=32000)[:, 0])[: out.shape[-1]]
    interior = slice(200, -200)  # the edges see zero padding
    torch.testing.assert_close(out[interior], expected[interior], atol=2e-3, rtol=0)


def test_linear_spectrogram_shape():
    spec = audio.linear_spectrogram(torch.zeros(1, 32000))
    assert spec.shape == (1, 1025, 50)
    assert torch.allclose(spec, torch.full_like(spec, 1e-4))  # sqrt(0 + 1e-8) on silence


def test_peak_limit_matches_upstream_rule():
    assert torch.equal(audio.limit_peak(torch.tensor([0.5, -1.0])), torch.tensor([0.5, -1.0]))
    torch.testing.assert_close(audio.limit_peak(torch.tensor([1.5, -0.3])), torch.tensor([1.0, -0.2]))
    torch.testing.assert_close(audio.limit_peak(torch.tensor([4.0])), torch.tensor([2.0]))  # divides by 2 at most


def _reference_clip(arrays):
    return audio.load_audio((int(arrays["ref_sr"]), arrays["ref_wav_int16"]))


CASES = [pytest.param(case, id=case.name) for case in vector_cases()]


@pytest.mark.parametrize("case", CASES)
def test_reference_spectrogram_inputs_follow_get_spepc(case):
    """What get_spepc hands on besides the spectrogram: v2Pro* models the 16 kHz speaker audio, others nothing (but
    their recorded 32 kHz peak-limited signal must match). The spectrogram, the 16 kHz audio and the HuBERT input
    are compared with the official arrays in test_parity.py's reference_audio stage."""
    sidecar, arrays = load_case(case)
    pro = sidecar["model_version"] in ("v2Pro", "v2ProPlus")
    clip = _reference_clip(arrays)
    inputs = audio.reference_spectrogram_inputs(clip, with_speaker_audio=pro)

    assert inputs.spectrogram.shape == (1, *arrays["refer_spec"].shape)
    if pro:
        assert inputs.audio_16k.shape == arrays["spepc_audio"].shape
    else:
        assert inputs.audio_16k is None
        if "spepc_audio" in arrays:  # the 32 kHz, peak-limited signal
            audio_32k = audio.limit_peak(audio.resample_sinc(torch.from_numpy(clip.mono()), clip.sample_rate, 32000))
            assert_matches_official("spepc_audio", audio_32k, arrays["spepc_audio"])
