"""The XTTS API server shape, as SillyTavern's "XTTSv2" provider calls it (point it at this server's address).

    GET  /speakers                 [{"name", "voice_id", "preview_url"}] : the saved voices
    GET  /speakers_list            ["name", ...]
    POST /tts_to_audio/            {"text", "speaker_wav": voice id or name, "language"} -> WAV
    GET  /tts_stream/?text=&speaker_wav=&language=                            -> WAV, streamed
    POST /set_tts_settings         {"temperature", "speed", "top_k", "top_p", "enable_text_splitting", ...}

Settings set with /set_tts_settings are the caller's own (by address and key), not everyone's: SillyTavern sends
them whenever its sliders move. XTTS's length_penalty, repetition_penalty (a different scale) and
stream_chunk_size have no meaning here and are ignored (the answer says so). XTTS language codes are mapped:
"zh-cn" -> zh (Chinese with English words); en, ja, ko are this app's modes of the same name; others are refused
with the list of what this app speaks.
"""

import hashlib
import threading
from collections import OrderedDict

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from gpt_sovits.messages import Message
from gpt_sovits.server.speech import Reference, SpeechJob, SpeechService, language_mode, saved_voice, settings_from

UPLOAD_HINT = Message("a voice saved with POST /v1/audio/voices")
IGNORED = ("length_penalty", "repetition_penalty", "stream_chunk_size")
MAX_CALLERS = 1000


class TtsToAudio(BaseModel):
    text: str
    speaker_wav: str = Field(description="a saved voice's id (as GET /speakers gives it) or name")
    language: str = Field("en", description="en, zh-cn, ja, ko (or this app's own language modes)")


class TtsSettings(BaseModel):
    temperature: float = 0.75
    speed: float = 1.0
    length_penalty: float = 1.0
    repetition_penalty: float = 5.0
    top_p: float = 0.85
    top_k: int = 50
    enable_text_splitting: bool = True
    stream_chunk_size: int = 100


class CallerSettings:
    """What each caller last sent to /set_tts_settings (bounded; the oldest callers are forgotten first)."""

    def __init__(self):
        self._settings: OrderedDict[tuple, dict] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def caller(request: Request) -> tuple:
        key = hashlib.sha256(request.headers.get("authorization", "").encode()).hexdigest()  # no keys kept in memory
        return (request.client.host if request.client else "", key)

    def get(self, request: Request) -> dict:
        with self._lock:
            return dict(self._settings.get(self.caller(request), {}))

    def set(self, request: Request, values: dict) -> None:
        with self._lock:
            self._settings[self.caller(request)] = values
            self._settings.move_to_end(self.caller(request))
            while len(self._settings) > MAX_CALLERS:
                self._settings.popitem(last=False)


def router(service: SpeechService, key) -> APIRouter:
    api = APIRouter(tags=["XTTS-compatible (SillyTavern)"], dependencies=[Depends(key)])
    callers = CallerSettings()

    @api.get("/speakers")
    def speakers(request: Request):
        return [
            {"name": voice.name, "voice_id": voice.id,
             "preview_url": str(request.url_for("voice_audio", voice=voice.id))}
            for voice in service.voices.all()
        ]  # fmt: skip

    @api.get("/speakers_list")
    def speakers_list():
        return [voice.name for voice in service.voices.all()]

    @api.post("/set_tts_settings")
    def set_tts_settings(body: TtsSettings, request: Request):
        """Your own defaults for /tts_to_audio/ and /tts_stream/ (nobody else's change)."""
        values = {
            "temperature": ("temperature", body.temperature), "speed": ("speed", body.speed),
            "top_p": ("top_p", body.top_p), "top_k": ("top_k", body.top_k),
            "cut_method": ("enable_text_splitting", "cut5" if body.enable_text_splitting else "cut0"),
        }  # fmt: skip
        settings_from(values)  # refuse out-of-range values now, with the field
        callers.set(request, values)
        return {"message": "Settings saved for your requests.", "ignored": list(IGNORED)}

    async def speak(request: Request, text: str, speaker_wav: str, language: str, stream: bool):
        reference = Reference.of_voice(saved_voice(service.voices, speaker_wav, "speaker_wav", UPLOAD_HINT))
        settings = settings_from({"cut_method": ("enable_text_splitting", "cut5"), **callers.get(request)})
        job = SpeechJob(text, language_mode(language, "language"), reference, settings,
                        fields={"target_text": "text", "target_language": "language", "reference": "speaker_wav",
                                "reference_text": "speaker_wav", "reference_language": "speaker_wav"})  # fmt: skip
        return await service.respond(request, job, "wav", stream=stream)

    @api.post("/tts_to_audio/", response_class=Response, responses={200: {"content": {"audio/wav": {}}}})
    async def tts_to_audio(body: TtsToAudio, request: Request):
        return await speak(request, body.text, body.speaker_wav, body.language, stream=False)

    @api.get("/tts_stream/", response_class=Response, responses={200: {"content": {"audio/wav": {}}}})
    async def tts_stream(request: Request, text: str, speaker_wav: str, language: str = "en"):
        """A WAV streamed as it is made (its header says 'length unknown'), for an <audio> element's src."""
        return await speak(request, text, speaker_wav, language, stream=True)

    return api

