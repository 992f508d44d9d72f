"""Speech out as bytes: one table of output formats, one encoder that writes any of them whole or as a stream.

    encoder = Encoder("mp3", sample_rate=32000)
    body = encoder.write(chunk.audio) + ... + encoder.finish()     # streaming: send each piece as it comes

WAV and raw PCM are written here; FLAC, MP3, Opus and Ogg Vorbis by libsndfile (the `soundfile` wheel bundles it
with those codecs built in); AAC (ADTS) by FFmpeg through PyAV (its wheel bundles FFmpeg). Nothing beyond the
runtime's own dependencies is needed, and no ffmpeg program. The audio is 16-bit
PCM exactly as the web UI's WAV has it (`to_int16`), so a WAV from the API equals the UI's file.

Streaming: bytes are handed out as soon as the codec writes them. libsndfile patches some headers when it closes
(FLAC's total length, MP3's Xing frame); in a stream those bytes are already gone, so they keep the "unknown"
values the formats allow, and players handle that. A whole file (nothing handed out before `finish`) gets them.
A streamed WAV has a header whose sizes say "until the end of the stream" (0xFFFFFFFF), as streaming servers do.
"""

import struct
from dataclasses import dataclass

import av
import numpy as np
import soundfile
import soxr

from gpt_sovits.engine.types import to_int16
from gpt_sovits.errors import GptSovitsError
from gpt_sovits.messages import Message, joined


class FormatError(GptSovitsError):
    """An output format this app cannot write."""


@dataclass(frozen=True)
class OutputFormat:
    media_type: str
    writer: str  # "here" (WAV, raw PCM), "soundfile" (libsndfile) or "av" (FFmpeg through PyAV)
    container: str | None = None  # soundfile's format / FFmpeg's muxer
    codec: str | None = None  # soundfile's subtype / FFmpeg's encoder
    sample_rates: tuple[int, ...] | None = None  # what the codec accepts (None: any); others are resampled up


OPUS_RATES = (8000, 12000, 16000, 24000, 48000)

FORMATS = {
    "wav": OutputFormat("audio/wav", "here"),
    "pcm": OutputFormat("audio/pcm", "here"),  # bare little-endian int16 mono; the rate is in X-Sample-Rate
    "flac": OutputFormat("audio/flac", "soundfile", "FLAC", "PCM_16"),
    "mp3": OutputFormat("audio/mpeg", "soundfile", "MP3", "MPEG_LAYER_III"),
    "opus": OutputFormat("audio/ogg; codecs=opus", "soundfile", "OGG", "OPUS", OPUS_RATES),
    "ogg": OutputFormat("audio/ogg", "soundfile", "OGG", "VORBIS"),  # Vorbis, what the official api_v2 calls "ogg"
    "aac": OutputFormat("audio/aac", "av", "adts", "aac"),  # ADTS frames: playable from the first one
}


def output_format(name: str) -> OutputFormat:
    if name not in FORMATS:
        raise FormatError(Message("Unknown audio format {name!r}; choose one of: {choices}.", name=name, choices=joined(FORMATS)))
    return FORMATS[name]


def output_rate(name: str, sample_rate: int) -> int:
    """The rate a format is written at: the model's own, or the next rate the codec accepts (Opus: 48 kHz for 32 kHz)."""
    rates = output_format(name).sample_rates
    if rates is None or sample_rate in rates:
        return sample_rate
    return min((rate for rate in rates if rate >= sample_rate), default=max(rates))


class Encoder:
    """Turns float32 audio chunks into the bytes of one file; `write` returns what is ready to send now."""

    def __init__(self, format_name: str, sample_rate: int, target_rate: int | None = None):
        self.format_name = format_name
        self.format = output_format(format_name)
        self.sample_rate = target_rate or output_rate(format_name, sample_rate)
        self._resampler = None
        if self.sample_rate != sample_rate:  # one stream resampler, so chunk joins are seamless
            self._resampler = soxr.ResampleStream(sample_rate, self.sample_rate, 1, dtype="float32", quality="HQ")
        self._sink = _ByteSink()
        self._pcm = bytearray()  # WAV / PCM samples not yet handed to the sink
        self._started = False  # bytes have been handed out
        self._file = self._container = None
        if self.format.writer == "soundfile":
            self._file = soundfile.SoundFile(
                self._sink, "w", samplerate=self.sample_rate, channels=1, format=self.format.container,
                subtype=self.format.codec,
            )  # fmt: skip
        elif self.format.writer == "av":
            self._container = av.open(self._sink, "w", format=self.format.container)
            self._stream = self._container.add_stream(self.format.codec, rate=self.sample_rate, layout="mono")

    @property
    def media_type(self) -> str:
        return self.format.media_type

    def write(self, audio: np.ndarray, send_now: bool = True) -> bytes:
        """Encode one chunk; with `send_now` the bytes ready so far are returned (and can no longer change)."""
        self._encode(self._resample(audio, last=False))
        return self._send(final=False) if send_now else b""

    def finish(self) -> bytes:
        """The rest of the file (all of it when nothing was sent before)."""
        self._encode(self._resample(np.zeros(0, dtype=np.float32), last=True))
        if self._file is not None:
            self._file.close()
        if self._container is not None:
            self._mux(None)  # what the encoder still holds
            self._container.close()
        return self._send(final=True)

    def _resample(self, audio: np.ndarray, last: bool) -> np.ndarray:
        audio = np.asarray(audio, dtype=np.float32)
        if self._resampler is None:
            return audio
        return np.clip(self._resampler.resample_chunk(audio, last=last), -1.0, 1.0)

    def _encode(self, audio: np.ndarray) -> None:
        if not len(audio):
            return
        samples = to_int16(audio)
        if self._file is not None:
            self._file.write(samples)
        elif self._container is not None:
            frame = av.AudioFrame.from_ndarray(samples[None, :], format="s16", layout="mono")
            frame.sample_rate = self.sample_rate
            self._mux(frame)
        else:
            self._pcm += samples.astype("<i2").tobytes()

    def _mux(self, frame) -> None:
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def _send(self, final: bool) -> bytes:
        if self.format.writer == "here":
            if self.format_name == "wav" and not self._started:  # a whole file knows its size; a stream does not
                self._sink.write(wav_header(self.sample_rate, len(self._pcm) if final else None))
            self._sink.write(bytes(self._pcm))
            self._pcm.clear()
        self._started = True
        return self._sink.take()


def encode(audio: np.ndarray, sample_rate: int, format_name: str, target_rate: int | None = None) -> bytes:
    """A whole file in one go."""
    encoder = Encoder(format_name, sample_rate, target_rate)
    encoder.write(audio, send_now=False)
    return encoder.finish()


def wav_header(sample_rate: int, data_bytes: int | None) -> bytes:
    """RIFF/WAVE header for 16-bit mono PCM; `data_bytes` None: unknown length (a stream), sizes 0xFFFFFFFF."""
    data_size = 0xFFFFFFFF if data_bytes is None else data_bytes
    riff_size = 0xFFFFFFFF if data_bytes is None else 36 + data_bytes
    block_align = 2
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI", b"RIFF", riff_size, b"WAVE", b"fmt ", 16, 1, 1, sample_rate,
        sample_rate * block_align, block_align, 16, b"data", data_size,
    )  # fmt: skip


class _ByteSink:
    """The file object libsndfile and FFmpeg write into: keeps only bytes not yet handed out.

    Writes that land wholly in bytes already taken (closing header patches in a stream) are dropped; nothing is
    ever read back (neither reads in write mode).
    """

    def __init__(self):
        self._pending = bytearray()  # bytes from offset `_taken` on
        self._taken = 0
        self._position = 0

    def write(self, data) -> int:
        data = bytes(data)
        written = len(data)
        start = self._position - self._taken  # where in `_pending` this write begins
        self._position += len(data)
        if start + len(data) > 0:
            if start < 0:
                data, start = data[-start:], 0
            self._pending[start : start + len(data)] = data
        return written

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: self._taken + len(self._pending)}[whence]
        self._position = base + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def read(self, size: int = -1) -> bytes:
        return b""

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:  # FFmpeg's muxers then write straight through (ADTS never seeks anyway)
        return False

    def take(self) -> bytes:
        data = bytes(self._pending)
        self._taken += len(data)
        self._pending.clear()
        return data
