"""The official GPT-SoVITS `api_v2.py` shape: `/tts` (GET query or POST JSON) with its parameter names and defaults,
and `/set_gpt_weights`, `/set_sovits_weights`.

One deliberate difference: the reference is never a path on the server. `ref_audio_path` (and each of
`aux_ref_audio_paths`) is a saved voice's id or name, or the clip itself as base64 / a data: URL; POST /tts also
takes multipart with the clip uploaded as `ref_audio` (extra clips: `aux_ref_audio`). A path is refused with a
message saying what to send. With a saved voice, its text and language are used unless `prompt_text` /
`prompt_lang` are sent.

Other differences, all on the side of saying what went wrong: errors are 400/404/413/429/503 with a message (never
200 with silence); `streaming_mode` 1/true streams sentence by sentence, 2 and 3 stream token pieces; media types
are the official wav, raw, ogg (Vorbis) and aac (ADTS), and also flac, mp3 and opus. Parameters of the official
pipeline that this engine has no use for (batch_size, batch_threshold, split_bucket, parallel_infer, overlap_length,
min_chunk_length) are accepted and ignored. `sample_steps` (1-128, default 32 as upstream) and `super_sampling`
(v3: AP-BWE to 48 kHz) apply to v3 / v4 models; v1 - v2ProPlus models ignore them (the engine notes it).

`/set_gpt_weights` and `/set_sovits_weights` change the models of every API caller, so they need the API key even
on loopback (off when no key is set); `weights_path` is a model file's name as the web UI's model menus list it
(relative to the weights folder), never any other path.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import UploadFile

from gpt_sovits.messages import Message, joined
from gpt_sovits.server.openai_api import JSON_LIMIT
from gpt_sovits.server.speech import ApiError, Reference, SpeechJob, SpeechService, language_mode, settings_from
from gpt_sovits.settings import seed_from_user
from gpt_sovits.voices import MAX_CLIP_BYTES, MAX_EXTRA_CLIPS

MEDIA_TYPES = {"wav": "wav", "raw": "pcm", "ogg": "ogg", "aac": "aac", "flac": "flac", "mp3": "mp3", "opus": "opus"}
STREAMING_MODES = {"0": None, "false": None, "1": "sentence", "true": "sentence", "2": "token", "3": "token"}
UPLOAD_HINT = Message("send the clip itself as base64 or a data: URL, or POST multipart with the file as 'ref_audio'")


class TtsParameters(BaseModel):
    text: str | None = Field(None, description="the text to speak (required)")
    text_lang: str | None = Field(None, description="its language mode: all_zh, en, zh, auto, ... (required)")
    ref_audio_path: str | None = Field(None, description="a saved voice's id or name, or the clip as base64 / data: URL")
    aux_ref_audio_paths: list[str] | None = Field(None, description="more clips for the timbre: voice ids/names or base64")
    prompt_text: str = Field("", description="what the reference clip says (a saved voice brings its own)")
    prompt_lang: str | None = Field(None, description="its language (a saved voice brings its own)")
    top_k: int = 15
    top_p: float = 1.0
    temperature: float = 1.0
    text_split_method: str = "cut5"
    batch_size: int = 1
    batch_threshold: float = 0.75
    split_bucket: bool = True
    speed_factor: float = 1.0
    fragment_interval: float = 0.3
    seed: int = -1
    media_type: str = "wav"
    streaming_mode: bool | int | str = Field(False, description="0/false whole file; 1/true by sentence; 2, 3 token pieces")
    parallel_infer: bool = True
    repetition_penalty: float = 1.35
    sample_steps: int = Field(32, description="v3/v4: flow-matching steps, 1-128 (v1-v2ProPlus ignore it)")
    super_sampling: bool = Field(False, description="v3: 24 -> 48 kHz with AP-BWE (v1-v2ProPlus ignore it)")
    overlap_length: int = 2
    min_chunk_length: int = 16


def router(service: SpeechService, key, admin) -> APIRouter:
    api = APIRouter(tags=["GPT-SoVITS api_v2-compatible"], dependencies=[Depends(key)])
    multipart_schema = {"schema": {"type": "object", "properties": {
        "ref_audio": {"type": "string", "format": "binary"},
        "aux_ref_audio": {"type": "array", "items": {"type": "string", "format": "binary"}},
        **TtsParameters.model_json_schema()["properties"]}}}  # fmt: skip

    @api.get("/tts", response_class=Response, responses={200: {"content": {"audio/wav": {}}}})
    async def tts_get(parameters: Annotated[TtsParameters, Query()], request: Request):
        """Speak `text` in the voice of `ref_audio_path` (a saved voice id or name)."""
        return await speak(request, parameters, {})

    @api.post(
        "/tts", response_class=Response, max_body_size=JSON_LIMIT * 2,
        openapi_extra={"requestBody": {"required": True, "content": {
            "application/json": {"schema": TtsParameters.model_json_schema()},
            "multipart/form-data": multipart_schema}}},
    )  # fmt: skip
    async def tts_post(request: Request):
        """Like GET, as a JSON body, or as multipart with the reference uploaded as `ref_audio`."""
        uploads: dict[str, list[UploadFile]] = {}
        try:
            if request.headers.get("content-type", "").startswith("multipart/form-data"):
                form = await request.form(max_files=1 + MAX_EXTRA_CLIPS, max_fields=64, max_part_size=MAX_CLIP_BYTES)
                values: dict = {}
                for name, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        uploads.setdefault(name, []).append(value)
                    elif name == "aux_ref_audio_paths":
                        values.setdefault(name, []).append(value)
                    else:
                        values[name] = value
            else:
                values = await request.json()
            parameters = TtsParameters.model_validate(values)
        except ValidationError as error:
            raise RequestValidationError(error.errors()) from None
        except ValueError:
            raise ApiError(Message("The body must be JSON (or multipart form data).")) from None
        return await speak(request, parameters, uploads)

    async def speak(request: Request, parameters: TtsParameters, uploads: dict) -> Response:
        for required in ("text", "text_lang"):
            if not getattr(parameters, required):
                raise ApiError(Message("{field} is required", field=required), required)
        if parameters.media_type not in MEDIA_TYPES:
            raise ApiError(Message(
                "{field}: {value} is not supported; choose one of {choices}.",
                field="media_type", value=parameters.media_type, choices=joined(MEDIA_TYPES),
            ), "media_type")  # fmt: skip
        streaming = STREAMING_MODES.get(str(parameters.streaming_mode).lower(), "invalid")
        if streaming == "invalid":
            raise ApiError(Message("the value of streaming_mode must be 0, 1, 2, 3(int) or true/false(bool)"), "streaming_mode")
        with service.files() as files:
            reference = await _reference(files, parameters, uploads)
            settings = settings_from({
                "top_k": ("top_k", parameters.top_k), "top_p": ("top_p", parameters.top_p),
                "temperature": ("temperature", parameters.temperature),
                "repetition_penalty": ("repetition_penalty", parameters.repetition_penalty),
                "speed": ("speed_factor", parameters.speed_factor),
                "pause_seconds": ("fragment_interval", parameters.fragment_interval),
                "seed": ("seed", seed_from_user(parameters.seed)),
                "cut_method": ("text_split_method", parameters.text_split_method),
                "streaming": ("streaming_mode", streaming or "sentence"),
                "sample_steps": ("sample_steps", parameters.sample_steps),
                "super_resolution": ("super_sampling", parameters.super_sampling),
            })  # fmt: skip
            job = SpeechJob(parameters.text, language_mode(parameters.text_lang, "text_lang"), reference, settings,
                            fields={"target_text": "text", "target_language": "text_lang", "reference": "ref_audio_path",
                                    "reference_text": "prompt_text", "reference_language": "prompt_lang"})  # fmt: skip
            return await service.respond(request, job, MEDIA_TYPES[parameters.media_type], stream=streaming is not None,
                                         format_field="media_type")  # fmt: skip

    def set_weights(kind: str, label: str):
        def route(weights_path: str | None = None):
            if not weights_path:
                raise ApiError(Message("{label} weight path is required", label=label), "weights_path")
            service.models.set(kind, weights_path, "weights_path")
            return {"message": "success"}

        route.__doc__ = f"Operator only (needs the API key): the {label.upper()} model every API caller uses from now on."
        return route

    for path, kind, label in (("/set_gpt_weights", "t2s", "gpt"), ("/set_sovits_weights", "sovits", "sovits")):
        api.add_api_route(path, set_weights(kind, label), methods=["GET"], dependencies=[Depends(admin)],
                          name=path.lstrip("/"))  # fmt: skip

    return api


async def _reference(files, parameters: TtsParameters, uploads: dict) -> Reference:
    extra = [files.clip(value, "aux_ref_audio_paths", UPLOAD_HINT) for value in parameters.aux_ref_audio_paths or ()]
    extra += [files.write(await clip.read(), "aux_ref_audio", clip.filename or "") for clip in uploads.get("aux_ref_audio", ())]
    if uploads.get("ref_audio"):
        clip = uploads["ref_audio"][0]
        audio, text, language = files.write(await clip.read(), "ref_audio", clip.filename or ""), "", None
    elif parameters.ref_audio_path:
        value = parameters.ref_audio_path
        if files.is_inline(value):
            audio, text, language = files.clip(value, "ref_audio_path", UPLOAD_HINT), "", None
        else:
            voice = files.voice(value, "ref_audio_path", UPLOAD_HINT)
            audio, text, language = str(voice.reference_audio), voice.reference_text, voice.reference_language
            extra = [str(path) for path in voice.extra_reference_audio] + extra
    else:
        raise ApiError(
            Message("ref_audio_path is required (a saved voice's id or name, or the clip as base64)"), "ref_audio_path"
        )
    text = parameters.prompt_text or text
    if parameters.prompt_lang:
        language = language_mode(parameters.prompt_lang, "prompt_lang")
    elif language is None:
        raise ApiError(Message("{field} is required", field="prompt_lang"), "prompt_lang")
    return Reference(audio, text, language, tuple(extra))
