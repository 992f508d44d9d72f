"""Output formats: every format decodes to the audio's length; streamed bytes are the whole file's bytes except
for the header fields a stream cannot know (total length), and streamed PCM/WAV samples are exact."""

import io

import av
import numpy as np
import pytest
import soundfile

from gpt_sovits.encoders import FORMATS, Encoder, FormatError, encode, wav_header
from gpt_sovits.engine.types import to_int16

RATE = 32000
AUDIO = (0.3 * np.sin(2 * np.pi * 220 * np.arange(2 * RATE) / RATE)).astype(np.float32)


def streamed(format_name: str, target_rate=None) -> tuple[bytes, list[bytes]]:
    encoder = Encoder(format_name, RATE, target_rate)
    pieces = [encoder.write(AUDIO[start : start + 8000]) for start in range(0, len(AUDIO), 8000)]
    pieces.append(encoder.finish())
    return b"".join(pieces), pieces


def decoded(data: bytes, format_name: str) -> tuple[np.ndarray, int]:
    if format_name == "aac":  # libsndfile reads no AAC; FFmpeg (PyAV) does
        with av.open(io.BytesIO(data)) as container:
            frames = list(container.decode(audio=0))
        return np.concatenate([frame.to_ndarray()[0] for frame in frames]), frames[0].sample_rate
    return soundfile.read(io.BytesIO(data), dtype="float32")


@pytest.mark.parametrize("format_name", ["wav", "flac", "mp3", "opus", "ogg", "aac"])
def test_whole_files_decode(format_name):
    samples, rate = decoded(encode(AUDIO, RATE, format_name), format_name)
    expected_rate = 48000 if format_name == "opus" else RATE  # Opus has no 32 kHz: resampled up
    assert rate == expected_rate
    assert abs(len(samples) / rate - 2.0) < 0.05  # AAC adds its encoder delay
    if format_name in ("wav", "flac"):  # lossless: the UI's 16-bit samples exactly
        np.testing.assert_array_equal(np.round(samples * 32768).astype(np.int16), to_int16(AUDIO))


def test_wav_and_pcm_are_the_ui_samples():
    whole = encode(AUDIO, RATE, "wav")
    assert whole[:44] == wav_header(RATE, 2 * len(AUDIO))
    np.testing.assert_array_equal(soundfile.read(io.BytesIO(whole), dtype="int16")[0], to_int16(AUDIO))
    assert encode(AUDIO, RATE, "pcm") == to_int16(AUDIO).astype("<i2").tobytes()


def test_streamed_wav_says_length_unknown_and_plays():
    body, pieces = streamed("wav")
    assert pieces[0][:44] == wav_header(RATE, None) and body[4:8] == b"\xff\xff\xff\xff"
    np.testing.assert_array_equal(soundfile.read(io.BytesIO(body), dtype="int16")[0], to_int16(AUDIO))
    assert streamed("pcm")[0] == encode(AUDIO, RATE, "pcm")


@pytest.mark.parametrize("format_name, header_bytes", [("flac", 42), ("mp3", 576)])
def test_streams_differ_from_whole_files_only_in_closing_header_fields(format_name, header_bytes):
    """FLAC's STREAMINFO (total samples, MD5) and MP3's first (Xing) frame are patched when the file closes; a stream
    has sent them already. Everything else is byte for byte the same, and it arrives while encoding."""
    body, pieces = streamed(format_name)
    whole = encode(AUDIO, RATE, format_name)
    assert len(body) == len(whole) and body[header_bytes:] == whole[header_bytes:]
    assert sum(len(piece) > 0 for piece in pieces[:-1]) >= 3  # not all held back to the end


@pytest.mark.parametrize("format_name", ["opus", "ogg", "aac"])
def test_streams_of_self_delimiting_formats_are_the_whole_file(format_name):
    body, pieces = streamed(format_name)
    samples, rate = decoded(body, format_name)
    assert abs(len(samples) / rate - 2.0) < 0.05
    if format_name == "aac":  # ADTS frames come out as they are encoded, and nothing is patched at the end
        assert body == encode(AUDIO, RATE, "aac") and sum(len(piece) > 0 for piece in pieces) >= 5


def test_target_rate_resamples_seamlessly():
    body, _ = streamed("pcm", target_rate=24000)
    samples = np.frombuffer(body, dtype="<i2")
    assert abs(len(samples) - 48000) <= 2
    assert np.abs(np.diff(samples.astype(np.float32))).max() < 0.1 * 32767  # no clicks at the chunk joins


def test_unknown_format():
    assert set(FORMATS) == {"wav", "pcm", "flac", "mp3", "opus", "ogg", "aac"}
    with pytest.raises(FormatError, match="Unknown audio format 'wma'; choose one of"):
        Encoder("wma", RATE)
