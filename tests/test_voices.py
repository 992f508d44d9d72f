"""The saved-voice library on disk: content ids, names, checks on what is saved, and zip import / export."""

import io
import json
import zipfile

import numpy as np
import pytest
import soundfile

from gpt_sovits.errors import AudioError, TextError
from gpt_sovits.voices import (
    MAX_CLIP_BYTES,
    ClipUpload,
    VoiceConflict,
    VoiceError,
    VoiceLibrary,
    VoiceNotFound,
    VoiceTooLarge,
)

RATE = 32000


def clip(seconds: float = 4.0, seed: int = 1, format: str = "WAV") -> ClipUpload:
    rng = np.random.default_rng(seed)
    time_axis = np.arange(int(seconds * RATE)) / RATE
    samples = (0.2 * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * time_axis)) * rng.standard_normal(len(time_axis))).astype(np.float32)
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, RATE, format=format)
    return ClipUpload(buffer.getvalue(), f"clip.{format.lower()}")


@pytest.fixture
def library(tmp_path) -> VoiceLibrary:
    return VoiceLibrary(tmp_path / "voices")


def test_create_find_rename_delete(library, tmp_path):
    voice, created = library.create("Alice", clip(), "今天天气很好。", "all_zh", (clip(seed=2, format="FLAC"),))
    assert created and voice.id.startswith("voice_") and voice.reference_audio.read_bytes() == clip().data
    assert voice.extra_reference_audio[0].suffix == ".flac"
    assert library.get("alice") == library.get(voice.id) == voice  # by name (any case) or by id
    assert "reference_audio" not in voice.public() and str(tmp_path) not in json.dumps(voice.public())

    renamed = library.rename(voice.id, "  Alice   Smith ")
    assert renamed.name == "Alice Smith" and renamed.id == voice.id  # the name is a label, the id is the content
    assert VoiceLibrary(tmp_path / "voices").get("Alice Smith") == renamed  # survives a restart

    library.delete("Alice Smith")
    assert library.all() == [] and not (tmp_path / "voices" / voice.id).exists()
    with pytest.raises(VoiceNotFound):
        library.get(voice.id)


def test_the_id_is_the_content(library):
    first, _ = library.create("One", clip(), "你好。", "all_zh")
    again, created = library.create("Another name", clip(), "你好。", "all_zh")
    assert not created and again == first  # same content: the same voice, under its first name
    other_text, _ = library.create("Two", clip(), "你好呀。", "all_zh")
    other_language, _ = library.create("Three", clip(), "你好。", "zh")
    other_clip, _ = library.create("Four", clip(seed=9), "你好。", "all_zh")
    assert len({first.id, other_text.id, other_language.id, other_clip.id}) == 4


@pytest.mark.parametrize(
    "name, upload, text, language, error, message",
    [
        ("", clip(), "", "en", VoiceError, "give the voice a name"),
        ("a/b", clip(), "", "en", VoiceError, "no slashes"),
        ("voice_0123456789abcdef01234567", clip(), "", "en", VoiceError, "must not look like a voice id"),
        ("x" * 65, clip(), "", "en", VoiceError, "limit is 64"),
        ("Short", clip(seconds=2.0), "", "en", AudioError, "at least 3 s"),
        ("Noise", ClipUpload(b"not audio at all", "x.wav"), "", "en", AudioError, "Cannot read audio"),
        ("Big", ClipUpload(b"\0" * (MAX_CLIP_BYTES + 1)), "", "en", VoiceTooLarge, "at most 10.0 MiB"),
        ("Lang", clip(), "", "fr", TextError, "Unknown language mode"),
        ("Long", clip(), "好" * 501, "all_zh", VoiceError, "limit is 500"),
    ],
)
def test_what_cannot_be_saved(library, name, upload, text, language, error, message):
    with pytest.raises(error, match=message):
        library.create(name, upload, text, language)
    assert library.all() == [] and [path.name for path in library.folder.iterdir()] == []  # nothing left behind


def test_names_are_unique(library):
    library.create("Alice", clip(), "", "en")
    with pytest.raises(VoiceConflict, match="already exists"):
        library.create("ALICE", clip(seed=2), "", "en")
    bob, _ = library.create("Bob", clip(seed=3), "", "en")
    with pytest.raises(VoiceConflict):
        library.rename(bob.id, "alice")


def test_zip_round_trip(library, tmp_path):
    alice, _ = library.create("Alice", clip(), "Hello there.", "en", (clip(seed=4),))
    bob, _ = library.create("Bob", clip(seed=5), "", "en")
    archive = library.export_zip()

    elsewhere = VoiceLibrary(tmp_path / "elsewhere")
    elsewhere.create("Alice", clip(seed=6), "", "en")  # a different voice already has the name
    imported = {voice.id: voice for voice in elsewhere.import_zip(archive)}
    assert set(imported) == {alice.id, bob.id}  # ids recomputed from the content: the same
    assert imported[alice.id].name == "Alice (2)" and imported[bob.id].name == "Bob"
    assert imported[alice.id].extra_reference_audio[0].read_bytes() == alice.extra_reference_audio[0].read_bytes()
    assert {voice.id for voice in elsewhere.import_zip(archive)} == {alice.id, bob.id}  # again: nothing new
    assert len(elsewhere.all()) == 3


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


METADATA = json.dumps({"name": "X", "reference_text": "", "reference_language": "en", "reference_audio": "reference.wav"})


@pytest.mark.parametrize(
    "entries, error, message",
    [
        ({"../evil/voice.json": METADATA}, VoiceError, "not part of a voice"),
        ({"/abs/voice.json": METADATA}, VoiceError, "not part of a voice"),
        ({"v/../../x.wav": b""}, VoiceError, "not part of a voice"),
        ({"v/voice.json": METADATA, "v/notes.txt": b"hi"}, VoiceError, "not part of a voice"),
        # Declared 11 MiB (it deflates to a few KiB): refused from the header, before inflating anything.
        ({"v/voice.json": METADATA, "v/reference.wav": b"\0" * (MAX_CLIP_BYTES + 2**20)}, VoiceTooLarge, "at most"),
        ({"v/reference.wav": clip().data}, VoiceError, "has no voice.json"),
        ({"v/voice.json": b"{not json", "v/reference.wav": clip().data}, VoiceError, "unusable voice.json"),
        ({"v/voice.json": METADATA.replace("reference.wav", "../../etc/passwd")}, VoiceError, "unusable voice.json"),
    ],
)
def test_zip_entries_are_checked_before_anything_is_kept(library, entries, error, message):
    with pytest.raises(error, match=message):
        library.import_zip(zip_of(entries))
    assert library.all() == []


def test_not_a_zip(library):
    with pytest.raises(VoiceError, match="not a readable zip"):
        library.import_zip(b"PK\x03\x04 but nothing else")
