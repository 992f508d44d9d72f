"""The OpenAI speech shape (what Open WebUI, SillyTavern's OpenAI-compatible provider and the `openai` client send).

    POST   /v1/audio/speech            {"model", "input", "voice", "response_format", "speed", ...} -> audio
    GET    /v1/models                  the model ids `model` accepts
    GET    /v1/audio/voices            saved voices
    POST   /v1/audio/voices            multipart: audio_sample, name, text, language (+ extra_audio_samples)
    GET    /v1/audio/voices/export     all (or ?voice=...) as a zip;  POST /v1/audio/voices/import  a zip back
    GET    /v1/audio/voices/{voice}    one voice; .../audio its clip; PATCH {"name"} renames; DELETE deletes

`voice` is a saved voice's name or id, `{"id": ...}`, or a one-off clip `{"audio": base64, "text", "language"}`.
The body is streamed as the audio is made (sentence by sentence; `"stream": false` for one whole file, whose
WAV header then has exact sizes). `pcm` is 16-bit mono at 24 kHz as OpenAI documents it (X-Sample-Rate says so).
`"subtitles": "srt"` or `"vtt"` (ours) answers JSON instead: the whole audio in base64 and its subtitles.
"""

from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from gpt_sovits.messages import Message, joined
from gpt_sovits.server.speech import (
    ApiError,
    Reference,
    SpeechJob,
    SpeechService,
    decode_base64,
    language_mode,
    settings_from,
)
from gpt_sovits.settings import STREAMING_LEVELS, seed_from_user
from gpt_sovits.voices import MAX_CLIP_BYTES, MAX_IMPORT_BYTES, ClipUpload

MODEL_IDS = ("gpt-sovits", "tts-1", "tts-1-hd", "gpt-4o-mini-tts")  # all speak with the server's current models
OPENAI_PCM_RATE = 24000
UPLOAD_LIMIT = MAX_CLIP_BYTES + 256 * 1024  # one clip and the form around it
JSON_LIMIT = MAX_CLIP_BYTES * 4 // 3 + 256 * 1024  # a base64 clip inside JSON


class InlineVoice(BaseModel):
    id: str | None = Field(None, description="a saved voice's id (or name)")
    audio: str | None = Field(None, description="a one-off reference clip, base64 (or a data: URL)")
    text: str = Field("", description="what the one-off clip says (empty: reference-free)")
    language: str = Field("auto", description="the one-off clip's language")


class SpeechRequest(BaseModel):
    model: str = Field("gpt-sovits", description=f"one of {', '.join(MODEL_IDS)} (all use the server's models)")
    input: str = Field(max_length=4096, description="the text to speak (this server speaks up to 1000 characters)")
    voice: str | InlineVoice = Field(description="a saved voice's name or id, {'id': ...}, or {'audio', 'text', 'language'}")
    instructions: str | None = Field(None, max_length=4096, description="accepted and ignored (no style prompts)")
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(1.0, description="0.6-1.65 here (OpenAI allows 0.25-4)")
    stream_format: Literal["audio", "sse"] = "audio"
    # Ours, beyond OpenAI's fields:
    language: str = Field("auto", description="the text's language mode: auto, all_zh, en, zh, all_ja, ...")
    seed: int | None = Field(None, description="fixed seed for a repeatable take; empty or -1: random")
    top_k: int = 15
    top_p: float = 1.0
    temperature: float = 1.0
    cut_method: str = Field("cut1", description="how the text is cut into sentences: cut0-cut5 (as in the UI)")
    streaming: Literal[STREAMING_LEVELS] = Field("sentence", description="stream whole sentences or token pieces")
    stream: bool = Field(True, description="false: answer one whole file instead of a streamed body")
    subtitles: Literal["srt", "vtt"] | None = Field(
        None, description="also make subtitles: the answer is then JSON {audio (base64), media_type, sample_rate, seed, "
        "subtitles_format, subtitles (SRT or WebVTT text), cues [{start, end, text}]}, not streamed",
    )


def router(service: SpeechService, key) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["OpenAI-compatible"], dependencies=[Depends(key)])

    @api.post("/audio/speech", max_body_size=JSON_LIMIT, response_class=Response,
              responses={200: {"content": {"audio/mpeg": {}, "audio/wav": {}}}})  # fmt: skip
    async def create_speech(body: SpeechRequest, http_request: Request):
        """Speak `input` in a saved (or one-off) voice; the body streams while the audio is made."""
        if body.model not in MODEL_IDS:
            raise ApiError(Message(
                "{field}: unknown model '{value}'; choose one of {choices}.", field="model", value=body.model,
                choices=joined(MODEL_IDS),
            ), "model")  # fmt: skip
        if body.stream_format == "sse":
            raise ApiError(
                Message("stream_format: 'sse' is not offered; use 'audio' (the body streams as it is made)."), "stream_format"
            )
        with service.files() as files:
            reference = _reference(files, body.voice)
            settings = settings_from({
                "speed": ("speed", body.speed), "seed": ("seed", seed_from_user(body.seed)),
                "top_k": ("top_k", body.top_k), "top_p": ("top_p", body.top_p),
                "temperature": ("temperature", body.temperature), "cut_method": ("cut_method", body.cut_method),
                "streaming": ("streaming", body.streaming),
            })  # fmt: skip
            job = SpeechJob(body.input, language_mode(body.language, "language"), reference, settings,
                            fields={"target_text": "input", "target_language": "language", "reference": "voice",
                                    "reference_text": "voice", "reference_language": "voice"})  # fmt: skip
            rate = OPENAI_PCM_RATE if body.response_format == "pcm" else None
            return await service.respond(http_request, job, body.response_format, stream=body.stream, target_rate=rate,
                                         subtitles=body.subtitles)  # fmt: skip

    @api.get("/models")
    def list_models():
        return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "gpt-sovits"} for name in MODEL_IDS]}

    @api.get("/audio/voices")
    def list_voices():
        return {"object": "list", "data": [_public(voice) for voice in service.voices.all()]}

    @api.post("/audio/voices", status_code=201, max_body_size=UPLOAD_LIMIT)
    async def create_voice(
        response: Response,
        audio_sample: UploadFile = File(description="the reference clip, 3-10 s, at most 10 MiB"),
        name: str = Form(description="display name (unique)"),
        text: str = Form("", description="exactly what the clip says (empty: reference-free)"),
        language: str = Form(description="the clip's language mode: all_zh, en, zh, all_ja, ..."),
        extra_audio_samples: list[UploadFile] = File(default=[], description="more clips of the same voice (timbre)"),
    ):
        """Save a voice (the same content saved again answers 200 with the existing voice)."""
        main = ClipUpload(await audio_sample.read(), audio_sample.filename or "audio.wav")
        extras = tuple([ClipUpload(await clip.read(), clip.filename or "audio.wav") for clip in extra_audio_samples])
        mode = language_mode(language, "language")
        # Decoding and checking the clips is CPU work: off the event loop, so other requests and /health go on.
        voice, created = await anyio.to_thread.run_sync(service.voices.create, name, main, text, mode, extras)
        response.status_code = 201 if created else 200
        return _public(voice)

    @api.get("/audio/voices/export", response_class=Response, responses={200: {"content": {"application/zip": {}}}})
    def export_voices(voice: Annotated[list[str] | None, Query(description="voice ids or names; none: all")] = None):
        """The saved voices (or those named in ?voice=...) as a zip for POST /v1/audio/voices/import."""
        data = service.voices.export_zip(voice)
        return Response(data, media_type="application/zip", headers={"Content-Disposition": "attachment; filename=voices.zip"})

    @api.post("/audio/voices/import", max_body_size=MAX_IMPORT_BYTES + 256 * 1024)
    async def import_voices(file: UploadFile = File(description="a zip made by /v1/audio/voices/export")):
        """Save every voice in an exported zip (names already taken get a number)."""
        imported = await anyio.to_thread.run_sync(service.voices.import_zip, await file.read())
        return {"object": "list", "data": [_public(voice) for voice in imported]}

    @api.get("/audio/voices/{voice}")
    def get_voice(voice: str):
        return _public(service.voices.get(voice))

    @api.get("/audio/voices/{voice}/audio", response_class=Response)
    def voice_audio(voice: str):
        """The voice's reference clip, as it was uploaded (a preview for pickers)."""
        path = service.voices.get(voice).reference_audio
        return Response(path.read_bytes(), media_type="application/octet-stream")

    class Rename(BaseModel):
        name: str

    @api.patch("/audio/voices/{voice}")
    def rename_voice(voice: str, body: Rename):
        return _public(service.voices.rename(voice, body.name))

    @api.delete("/audio/voices/{voice}")
    def delete_voice(voice: str):
        deleted = service.voices.delete(voice)
        return {"id": deleted.id, "object": "audio.voice", "deleted": True}

    return api


def _reference(files, voice) -> Reference:
    hint = Message("a one-off clip as {{'audio': base64, 'text': ..., 'language': ...}}")
    if isinstance(voice, str):
        saved = files.voice(voice, "voice", hint)
    elif voice.id:
        saved = files.voice(voice.id, "voice.id", hint)
    elif voice.audio:
        path = files.write(decode_base64(voice.audio, "voice.audio"), "voice.audio")
        return Reference(path, voice.text, language_mode(voice.language, "voice.language"))
    else:
        raise ApiError(
            Message("voice: give a saved voice's name or id, {{'id': ...}}, or {{'audio': base64, 'text', 'language'}}."), "voice"
        )
    return Reference.of_voice(saved)


def _public(voice) -> dict:
    return {"object": "audio.voice", **voice.public()}
