"""The bad-audio table: every kind of unusable or unusual reference file, through the engine's entry points.

Each case goes through `audio.load_audio` and `validation.check_reference_audio` (what the engine calls) and must
give either a clear AudioError naming the user's file (never the server's path) or a correct result. Compressed
fixtures (m4a, webm, mp4) are encoded here with PyAV, whose wheel bundles FFmpeg.
"""

import io
import math
import resource
import time
import tracemalloc

import av
import numpy as np
import pytest
import soundfile
import torch

from gpt_sovits import audio, validation
from gpt_sovits.errors import AudioError


def _speech_like(rate: int, seconds: float, channels: int = 1) -> np.ndarray:
    """A 220 Hz tone under a syllable-rate envelope, [n, channels] float32 at about -12 dBFS."""
    t = np.arange(int(rate * seconds)) / rate
    mono = 0.3 * np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return np.repeat(mono[:, None], channels, axis=1).astype(np.float32)


class _Unseekable(io.RawIOBase):
    """A write-only stream: the muxer cannot go back to write the duration, as in a browser's MediaRecorder."""

    def __init__(self, file):
        self.file = file

    def writable(self):
        return True

    def write(self, data):
        return self.file.write(data)


def _encode(path, container_format, codec, rate, seconds, channels=1, seekable=True):
    layout = "mono" if channels == 1 else "stereo"
    signal = _speech_like(rate, seconds, channels).T  # [channels, n]
    with open(path, "wb") as file, av.open(file if seekable else _Unseekable(file), "w", format=container_format) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        step = stream.codec_context.frame_size or 1024
        for start in range(0, signal.shape[1], step):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(signal[:, start : start + step]), "fltp", layout)
            frame.sample_rate = rate
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _wav(path, rate=16000, seconds=4.0, channels=1, samples=None, subtype="PCM_16"):
    soundfile.write(path, _speech_like(rate, seconds, channels) if samples is None else samples, rate, subtype=subtype)
    return path


def _truncated(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _with_value(path, value):
    samples = _speech_like(16000, 4.0)
    samples[1000] = value
    return _wav(path, samples=samples, subtype="FLOAT")


def _bytes(path, data):
    path.write_bytes(data)
    return path


def _sparse(path, size):
    with open(path, "wb") as file:
        file.truncate(size)
    return path


def _one_hour_flac(path):
    with soundfile.SoundFile(path, "w", 16000, 1, format="FLAC") as file:
        block = np.zeros((16000 * 60, 1), dtype=np.float32)  # silence compresses to almost nothing
        for _ in range(60):
            file.write(block)
    return path


# name -> (make(tmp_path) -> path, expected): expected is an error pattern, or ("ok", seconds, rate) for a result.
BAD_AUDIO = {
    "empty file": (lambda tmp: _bytes(tmp / "empty.wav", b""), "empty"),
    "wav without samples": (lambda tmp: _wav(tmp / "header.wav", seconds=0), "empty"),
    "text file": (lambda tmp: _bytes(tmp / "notes.wav", b"this is not audio at all " * 20), "Supported formats"),
    "image": (lambda tmp: _bytes(tmp / "photo.png", b"\x89PNG\r\n\x1a\n" + bytes(200)), "Supported formats"),
    "playlist": (lambda tmp: _bytes(tmp / "list.m3u8", b"#EXTM3U\n#EXTINF:4,\nseg.wav\n#EXT-X-ENDLIST\n"), "Supported"),
    "container outside the list": (lambda tmp: _encode(tmp / "clip.flv", "flv", "aac", 44100, 4.0), "Supported"),
    "truncated flac header": (lambda tmp: _bytes(tmp / "cut.flac", b"fLaC\x00\x00"), "cut.flac"),
    "truncated wav": (lambda tmp: _truncated(_wav(tmp / "half.wav", seconds=8.0)), ("ok", 4.0, 16000)),
    "truncated m4a": (lambda tmp: _truncated(_encode(tmp / "half.m4a", "ipod", "aac", 44100, 8.0)), "half.m4a"),
    "NaN sample": (lambda tmp: _with_value(tmp / "nan.wav", np.nan), "NaN"),
    "infinite sample": (lambda tmp: _with_value(tmp / "inf.wav", np.inf), "NaN or infinite"),
    "silence": (lambda tmp: _wav(tmp / "quiet.wav", samples=np.zeros((64000, 1), np.float32)), "silent"),
    "too short": (lambda tmp: _wav(tmp / "short.wav", seconds=1.0), "at least 3 s"),
    "4 kHz": (lambda tmp: _wav(tmp / "low.wav", rate=4000), "8,000 to 192,000 Hz"),
    "384 kHz": (lambda tmp: _wav(tmp / "high.wav", rate=384000, seconds=3.5), "8,000 to 192,000 Hz"),
    "32,001 Hz": (lambda tmp: _wav(tmp / "odd1.wav", rate=32001), ("ok", 4.0, 32001)),
    "44,130 Hz": (lambda tmp: _wav(tmp / "odd2.wav", rate=44130), ("ok", 4.0, 44130)),
    "48,001 Hz": (lambda tmp: _wav(tmp / "odd3.wav", rate=48001), ("ok", 4.0, 48001)),
    "191,999 Hz": (lambda tmp: _wav(tmp / "odd4.wav", rate=191999), ("ok", 4.0, 191999)),
    "8 kHz": (lambda tmp: _wav(tmp / "phone.wav", rate=8000), ("ok", 4.0, 8000)),
    "8 channels": (lambda tmp: _wav(tmp / "surround.wav", rate=48000, channels=8), ("ok", 4.0, 48000)),
    "64 channels": (lambda tmp: _wav(tmp / "many.wav", seconds=3.2, channels=64), "64 channels"),
    "one hour (flac)": (lambda tmp: _one_hour_flac(tmp / "hour.flac"), "60.0 minutes long"),
    "70 s webm without duration": (
        lambda tmp: _encode(tmp / "long.webm", "webm", "libopus", 48000, 70.0, seekable=False),
        "more than 60 s",
    ),
    "over the size limit": (lambda tmp: _sparse(tmp / "huge.wav", validation.MAX_AUDIO_FILE_BYTES + 1), "MB"),
    "m4a (AAC)": (lambda tmp: _encode(tmp / "memo.m4a", "ipod", "aac", 44100, 4.0, channels=2), ("ok", 4.0, 44100)),
    "webm (opus)": (lambda tmp: _encode(tmp / "browser.webm", "webm", "libopus", 48000, 4.0), ("ok", 4.0, 48000)),
    "mp4 audio": (lambda tmp: _encode(tmp / "video.mp4", "mp4", "aac", 24000, 4.0), ("ok", 4.0, 24000)),
    "12 s clip": (lambda tmp: _wav(tmp / "long.wav", seconds=12.0), ("trimmed", 10.0, 16000)),
}


@pytest.mark.parametrize("case", BAD_AUDIO)
def test_bad_audio_table(tmp_path, case):
    make, expected = BAD_AUDIO[case]
    path = make(tmp_path)
    if isinstance(expected, str):
        with pytest.raises(AudioError, match=expected) as caught:
            clip = audio.load_audio(path)
            validation.check_reference_audio(clip.mono(), clip.sample_rate)
        assert str(tmp_path) not in str(caught.value)  # the user's file name, never the server's path
        return
    kind, seconds, rate = expected
    clip = audio.load_audio(path)
    samples, notes = validation.check_reference_audio(clip.mono(), clip.sample_rate)
    assert clip.sample_rate == rate and clip.samples.shape[0] == 1
    assert len(samples) / rate == pytest.approx(seconds, abs=0.15) if kind == "ok" else len(samples) / rate <= seconds
    assert 0.15 < np.abs(samples).max() < 0.5  # the signal itself, not silence or noise
    assert (kind == "trimmed") == any("used" in note for note in notes)


def test_messages_use_the_name_the_caller_gives(tmp_path):
    path = _bytes(tmp_path / "tmpab12cd.wav", b"not audio")
    with pytest.raises(AudioError, match="'my voice.m4a'"):
        audio.load_audio(path, name="my voice.m4a")
    with pytest.raises(AudioError, match="'my voice.m4a' does not exist"):
        audio.load_audio(tmp_path / "gone.wav", name="my voice.m4a")


def test_gradio_arrays_get_the_same_limits():
    with pytest.raises(AudioError, match="8,000 to 192,000"):
        audio.load_audio((4000, np.zeros(40000, np.int16)))
    with pytest.raises(AudioError, match="40 channels"):
        audio.load_audio((16000, np.zeros((16000, 40), np.int16)))
    with pytest.raises(AudioError, match="at most 60 s"):
        audio.load_audio((8000, np.zeros(8000 * 61, np.int16)))


def test_a_long_file_is_refused_without_decoding_it(tmp_path):
    hour = _one_hour_flac(tmp_path / "hour.flac")
    webm = _encode(tmp_path / "long.webm", "webm", "libopus", 48000, 70.0, seekable=False)
    for path, most_bytes in ((hour, 1e6), (webm, 40e6)):  # the header; at most 60 s of mono float32 (11.5 MB) + frames
        tracemalloc.start()
        started = time.perf_counter()
        with pytest.raises(AudioError, match="long"):
            audio.load_audio(path)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < most_bytes and elapsed < 10, (path.name, peak, elapsed)


# -------------------------------------------------------------------------------------------------------------
# Resampling: exact where the official filter is affordable, bounded everywhere


@pytest.mark.parametrize("rate", audio.COMMON_SAMPLE_RATES)
def test_common_rates_use_the_official_filter(rate):
    # The parity vectors (tests/test_audio.py) check 16, 24, 32 and 48 kHz against the official arrays; every
    # common rate takes that same exact path, to 32 kHz and (v2Pro speaker input) from 32 to 16 kHz.
    assert audio.sinc_kernel_taps(rate, audio.SPECTROGRAM_SAMPLE_RATE) <= audio.MAX_SINC_KERNEL_TAPS
    assert audio.sinc_kernel_taps(rate, audio.SPEAKER_SAMPLE_RATE) <= audio.MAX_SINC_KERNEL_TAPS


@pytest.mark.parametrize("rate", [32001, 44130, 48001, 191999, 8001])
def test_odd_rates_resample_in_bounded_memory_and_time(rate):
    assert audio.sinc_kernel_taps(rate, 32000) > audio.MAX_SINC_KERNEL_TAPS  # the official bank would be huge
    signal = torch.from_numpy(_speech_like(rate, 10.0)[:, 0])
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    started = time.perf_counter()
    out = audio.resample_sinc(signal, rate, 32000)
    elapsed = time.perf_counter() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert out.shape[-1] == math.ceil(signal.shape[-1] * 32000 / rate)
    expected = torch.from_numpy(_speech_like(32000, 10.0)[:, 0])[: out.shape[-1]]
    torch.testing.assert_close(out[400:-400], expected[400:-400], atol=2e-3, rtol=0)
    assert grown_mb < 300 and elapsed < 5, (grown_mb, elapsed)  # official: 8.2 GB for 32,001 Hz


def test_sinc_kernel_cache_is_bounded():
    assert audio._sinc_kernel.cache_info().maxsize == 8
    with pytest.raises(ValueError):
        audio._sinc_kernel(32001, 32000)
