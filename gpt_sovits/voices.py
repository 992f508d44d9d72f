"""Saved voices: a reference clip, what it says and its language (+ extra timbre clips), under a display name.

    library = VoiceLibrary(Path("voices"))
    voice, created = library.create("Alice", clip_bytes, "今天天气很好。", "all_zh")
    library.get("Alice") == library.get(voice.id)    # by name or by id
    request = SynthesisRequest(reference_audio=voice.reference_audio, reference_text=voice.reference_text, ...)

On disk a voice is one folder named by its id, a hash of its *content* (the clip bytes, the extra clips, the text
and the language), so the same content saved twice is one voice and two voices can never share a folder; the name
is only a label (renaming changes nothing else). The engine caches prepared references by content too, so every
request with a saved voice after the first reuses its prepared work.

    <voices dir>/voice_<24 hex>/voice.json       {"name", "reference_text", "reference_language", ...}
                               /reference.wav    the clip exactly as it was uploaded
                               /extra-1.flac     extra timbre clips, if any

Everything a caller hands in is checked before it is kept: the clips decode and the main one passes the 3-10 s
rule, sizes and counts are bounded, names are plain text. Zip import reads only entries of the layout above,
checks declared and actual sizes before keeping anything, and saves each voice through `create` (its id is
computed again, never taken from the zip).
"""

import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from gpt_sovits import audio, validation
from gpt_sovits.errors import GptSovitsError
from gpt_sovits.messages import Message, say

VOICE_ID = re.compile(r"voice_[0-9a-f]{24}")
MAX_CLIP_BYTES = 10 * 1024 * 1024  # per clip, as OpenAI's custom voices allow
MAX_EXTRA_CLIPS = 8
MAX_NAME_CHARACTERS = 64
MAX_VOICES = 1000
MAX_IMPORT_BYTES = 200 * 1024 * 1024  # a zip, and also everything in it unpacked
METADATA = "voice.json"
# Entries a voice zip may hold: <folder>/voice.json, <folder>/reference.<ext>, <folder>/extra-<n>.<ext>.
ZIP_ENTRY = re.compile(r"(?P<folder>[A-Za-z0-9_-]{1,64})/(?P<file>voice\.json|(reference|extra-\d{1,2})\.[a-z0-9]{1,5})")
AUDIO_SUFFIX = re.compile(r"\.[a-z0-9]{1,5}")


class VoiceError(GptSovitsError):
    """A voice that cannot be saved as given (bad name, text, language or clip)."""


class VoiceNotFound(VoiceError):
    """No saved voice has this id or name."""


class VoiceConflict(VoiceError):
    """Another voice already has this name."""


class VoiceTooLarge(VoiceError):
    """A clip, an upload or an import over its size limit."""


@dataclass(frozen=True)
class Voice:
    id: str
    name: str
    reference_text: str
    reference_language: str
    reference_audio: Path  # the clip file (never shown to callers: `public()` has no paths)
    extra_reference_audio: tuple[Path, ...]
    created: float  # Unix time

    def public(self) -> dict:
        """What an API caller or the UI may see about this voice."""
        return {
            "id": self.id,
            "name": self.name,
            "reference_text": self.reference_text,
            "reference_language": self.reference_language,
            "extra_clips": len(self.extra_reference_audio),
            "created_at": int(self.created),
        }


@dataclass(frozen=True)
class ClipUpload:
    """Bytes of one uploaded clip; `filename` is only used for its suffix and in messages."""

    data: bytes
    filename: str = "audio.wav"


class VoiceLibrary:
    """The voices in one folder; safe to share between threads (changes are serialised, folders appear whole)."""

    def __init__(self, folder: Path, max_voices: int = MAX_VOICES):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_voices = max_voices
        self._lock = threading.Lock()
        self._voices: dict[str, Voice] = {}
        for entry in sorted(self.folder.iterdir()):
            if entry.is_dir() and VOICE_ID.fullmatch(entry.name):
                voice = _read_voice(entry)
                if voice is not None:
                    self._voices[voice.id] = voice

    # ----- reading ------------------------------------------------------------------------------------------

    def all(self) -> list[Voice]:
        with self._lock:
            return sorted(self._voices.values(), key=lambda voice: (voice.name.casefold(), voice.id))

    def find(self, id_or_name: str) -> Voice | None:
        """The voice with this id, or else with this name (names are unique, compared without case)."""
        key = (id_or_name or "").strip()
        with self._lock:
            if key in self._voices:
                return self._voices[key]
            return next((voice for voice in self._voices.values() if voice.name.casefold() == key.casefold()), None)

    def get(self, id_or_name: str) -> Voice:
        voice = self.find(id_or_name)
        if voice is None:
            raise VoiceNotFound(Message(
                "No saved voice is called or has the id '{name}'. List them with GET /v1/audio/voices.", name=id_or_name
            ))  # fmt: skip
        return voice

    # ----- changing -----------------------------------------------------------------------------------------

    def create(
        self, name: str, reference_audio: ClipUpload, reference_text: str, reference_language: str,
        extra_reference_audio: tuple[ClipUpload, ...] = (),
    ) -> tuple[Voice, bool]:  # fmt: skip
        """Save a voice; returns (voice, created). The same content saved again returns the existing voice."""
        name = check_name(name)
        reference_text = (reference_text or "").strip()
        if len(reference_text) > validation.MAX_REFERENCE_CHARACTERS:
            raise VoiceError(Message(
                "The reference text is {length} characters long; the limit is {limit}. It should be only the words "
                "spoken in the reference clip (3-10 s).",
                length=len(reference_text), limit=validation.MAX_REFERENCE_CHARACTERS,
            ))  # fmt: skip
        validation.check_language_mode(reference_language)
        if len(extra_reference_audio) > MAX_EXTRA_CLIPS:
            raise VoiceError(Message("A voice can have at most {limit} extra timbre clips.", limit=MAX_EXTRA_CLIPS))
        clips = (reference_audio, *extra_reference_audio)
        for clip in clips:
            check_clip_size(clip.data, clip.filename)
        voice_id = content_id(clips, reference_text, reference_language)
        existing = self.find(voice_id)
        if existing is not None:
            return existing, False

        staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=self.folder))
        try:
            files = [_write_clip(staging, "reference", reference_audio, main=True)]
            files += [_write_clip(staging, f"extra-{n}", clip, main=False) for n, clip in enumerate(extra_reference_audio, 1)]
            metadata = {
                "id": voice_id,
                "name": name,
                "reference_text": reference_text,
                "reference_language": reference_language,
                "reference_audio": files[0],
                "extra_reference_audio": files[1:],
                "created": time.time(),
            }
            (staging / METADATA).write_text(json.dumps(metadata, ensure_ascii=False, indent=1), encoding="utf-8")
            with self._lock:
                if voice_id in self._voices:  # saved by someone else meanwhile
                    return self._voices[voice_id], False
                self._check_name_free(name)
                if len(self._voices) >= self.max_voices:
                    raise VoiceError(Message("The library is full ({limit} voices); delete some first.", limit=self.max_voices))
                os.replace(staging, self.folder / voice_id)
                voice = _read_voice(self.folder / voice_id)
                self._voices[voice_id] = voice
            return voice, True
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def rename(self, id_or_name: str, new_name: str) -> Voice:
        new_name = check_name(new_name)
        voice = self.get(id_or_name)
        with self._lock:
            self._check_name_free(new_name, except_id=voice.id)
            path = self.folder / voice.id / METADATA
            metadata = json.loads(path.read_text(encoding="utf-8"))
            metadata["name"] = new_name
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(metadata, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(temporary, path)
            voice = self._voices[voice.id] = _read_voice(self.folder / voice.id)
        return voice

    def delete(self, id_or_name: str) -> Voice:
        voice = self.get(id_or_name)
        with self._lock:
            self._voices.pop(voice.id, None)
            # Move aside first, so a half-deleted folder is never read as a voice.
            trash = self.folder / f".deleted-{voice.id}-{time.time_ns()}"
            os.replace(self.folder / voice.id, trash)
        shutil.rmtree(trash, ignore_errors=True)
        return voice

    def _check_name_free(self, name: str, except_id: str | None = None) -> None:
        for voice in self._voices.values():
            if voice.name.casefold() == name.casefold() and voice.id != except_id:
                raise VoiceConflict(Message(
                    "A voice named '{name}' already exists ({id}); choose another name.", name=voice.name, id=voice.id
                ))  # fmt: skip

    # ----- zip import / export ------------------------------------------------------------------------------

    def export_zip(self, ids_or_names: list[str] | None = None) -> bytes:
        """The chosen voices (default: all) as a zip that `import_zip` reads back."""
        voices = [self.get(key) for key in ids_or_names] if ids_or_names else self.all()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for voice in voices:
                folder = self.folder / voice.id
                for path in sorted(folder.iterdir()):
                    archive.write(path, f"{voice.id}/{path.name}")
        return buffer.getvalue()

    def import_zip(self, data: bytes) -> list[Voice]:
        """Save every voice in a zip made by `export_zip`; a name already taken gets ' (2)', ' (3)', ..."""
        if len(data) > MAX_IMPORT_BYTES:
            raise VoiceTooLarge(Message("The zip is {size}; the limit is {limit}.", size=_mib(len(data)), limit=_mib(MAX_IMPORT_BYTES)))
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            entries = archive.infolist()
        except (zipfile.BadZipFile, ValueError):
            raise VoiceError(Message("The file is not a readable zip; upload a zip made by exporting voices.")) from None
        folders: dict[str, dict[str, zipfile.ZipInfo]] = {}
        for entry in entries:
            if entry.is_dir():
                continue
            match = ZIP_ENTRY.fullmatch(entry.filename)
            if match is None:
                raise VoiceError(Message(
                    "The zip holds '{entry}', which is not part of a voice: expected <folder>/voice.json, "
                    "<folder>/reference.<ext> and <folder>/extra-<n>.<ext> (as exported).",
                    entry=entry.filename,
                ))  # fmt: skip
            if entry.flag_bits & 0x1:
                raise VoiceError(Message(
                    "'{entry}' in the zip is encrypted; export the voices again without a password.", entry=entry.filename
                ))  # fmt: skip
            check_clip_size(b"", entry.filename, declared=entry.file_size)
            folders.setdefault(match["folder"], {})[match["file"]] = entry
        if sum(entry.file_size for entry in entries) > MAX_IMPORT_BYTES:
            raise VoiceTooLarge(Message("The zip unpacks to more than {limit}.", limit=_mib(MAX_IMPORT_BYTES)))
        if len(folders) > self.max_voices:
            raise VoiceError(Message(
                "The zip holds {count} voices; the library takes at most {limit}.", count=len(folders), limit=self.max_voices
            ))  # fmt: skip

        imported = []
        for folder, files in sorted(folders.items()):
            if METADATA not in files:
                raise VoiceError(Message("The voice '{folder}' in the zip has no {file}.", folder=folder, file=METADATA))
            try:
                metadata = json.loads(_read_entry(archive, files[METADATA], 64 * 1024))
                main = metadata["reference_audio"]
                extras = list(metadata.get("extra_reference_audio") or ())
                clips = [ClipUpload(_read_entry(archive, files[name], MAX_CLIP_BYTES), name) for name in (main, *extras)]
                name, text, language = metadata["name"], metadata["reference_text"], metadata["reference_language"]
            except (KeyError, TypeError, ValueError) as error:
                raise VoiceError(Message(
                    "The voice '{folder}' in the zip has an unusable {file} ({error}).", folder=folder, file=METADATA,
                    error=str(error),
                )) from None  # fmt: skip
            name = self._free_name(check_name(name), content_id(clips, (text or "").strip(), language))
            voice, _ = self.create(name, clips[0], text, language, tuple(clips[1:]))
            imported.append(voice)
        return imported

    def _free_name(self, name: str, voice_id: str) -> str:
        candidate, number = name, 1
        while (other := self.find(candidate)) is not None and other.id != voice_id:
            number += 1
            candidate = f"{name[: MAX_NAME_CHARACTERS - 6]} ({number})"
        return candidate


def check_name(name: str) -> str:
    name = " ".join((name or "").split())  # no control characters or runs of spaces
    if not name:
        raise VoiceError(Message("Please give the voice a name."))
    if len(name) > MAX_NAME_CHARACTERS:
        raise VoiceError(Message(
            "The voice name is {length} characters long; the limit is {limit}.", length=len(name), limit=MAX_NAME_CHARACTERS
        ))  # fmt: skip
    if "/" in name or "\\" in name or VOICE_ID.fullmatch(name) or not name.isprintable():
        raise VoiceError(Message(
            "The voice name '{name}' cannot be used: no slashes, and it must not look like a voice id.", name=name
        ))  # fmt: skip
    return name


def check_clip_size(data: bytes, filename: str, declared: int | None = None) -> None:
    size = len(data) if declared is None else declared
    if size > MAX_CLIP_BYTES:
        raise VoiceTooLarge(Message(
            "'{name}' is {size}; a clip may be at most {limit} (3-10 s is plenty).",
            name=filename, size=_mib(size), limit=_mib(MAX_CLIP_BYTES),
        ))  # fmt: skip


def content_id(clips, reference_text: str, reference_language: str) -> str:
    """The voice id: a hash of every clip's bytes, the text and the language (length-prefixed, so no two
    different contents hash the same bytes)."""
    digest = hashlib.sha256(b"gpt-sovits voice 1\0")
    for part in (*(clip.data for clip in clips), reference_text.encode(), reference_language.encode()):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return "voice_" + digest.hexdigest()[:24]


def _write_clip(folder: Path, stem: str, clip: ClipUpload, main: bool) -> str:
    """Keep the uploaded bytes as they are (what the engine reads is exactly what was sent), once they decode."""
    suffix = Path(clip.filename).suffix.lower()
    name = stem + (suffix if AUDIO_SUFFIX.fullmatch(suffix) else ".wav")
    path = folder / name
    path.write_bytes(clip.data)
    decoded = audio.load_audio(path)  # AudioError for anything that is not usable audio
    if main:
        validation.check_reference_audio(decoded.mono(), decoded.sample_rate)  # the 3-10 s rule, silence
    return name


def _read_voice(folder: Path) -> Voice | None:
    try:
        metadata = json.loads((folder / METADATA).read_text(encoding="utf-8"))
        files = [metadata["reference_audio"], *metadata["extra_reference_audio"]]
        if not all(isinstance(name, str) and "/" not in name and (folder / name).is_file() for name in files):
            raise ValueError("a clip file is missing")
        return Voice(
            id=folder.name,
            name=str(metadata["name"]),
            reference_text=str(metadata["reference_text"]),
            reference_language=str(metadata["reference_language"]),
            reference_audio=folder / files[0],
            extra_reference_audio=tuple(folder / name for name in files[1:]),
            created=float(metadata["created"]),
        )
    except (OSError, KeyError, TypeError, ValueError) as error:
        say(Message("Skipping the saved voice in {folder}: {error}", folder=folder.name, error=str(error)))
        return None


def _read_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limit: int) -> bytes:
    """At most `limit` bytes, whatever the entry claims (a lying header cannot make us inflate more)."""
    with archive.open(entry) as source:
        data = source.read(limit + 1)
    if len(data) > limit:
        raise VoiceTooLarge(Message("'{entry}' in the zip is larger than {limit}.", entry=entry.filename, limit=_mib(limit)))
    return data


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"
