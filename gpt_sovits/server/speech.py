"""What every API dialect shares: references, settings with the caller's field names, running a synthesis and
answering with audio or with an error that says which field is wrong.

    job = SpeechJob(target_text, target_language, reference, settings, fields={"target_text": "input", ...})
    return await service.respond(http_request, job, "mp3", stream=True)

A dialect's route turns its own fields into a `SpeechJob`; `respond` admits it through the gate (429 when full),
checks the texts and languages with the engine's own checks (the UI's messages, 400 with the field), lets the
engine prepare (any other input error comes back before any audio), and then answers: the whole file, or a body
streamed as the audio is made (the first chunk is made before the status is sent, so its errors get a status too;
a failure later cuts the body short rather than padding it with silence). A client that goes away stops the
work between two tokens.
"""

import base64
import binascii
import os
import re
import shutil
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import anyio
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException

from gpt_sovits import validation
from gpt_sovits.encoders import Encoder, FormatError, output_format
from gpt_sovits.engine import ModelChoice, SynthesisRequest
from gpt_sovits.errors import AudioError, GptSovitsError, SynthesisCancelled, SynthesisError, TextError
from gpt_sovits.messages import Message, locale_from_accept_language, render
from gpt_sovits.server.security import AccessError
from gpt_sovits.service import EngineHolder, TookTooLong, TooBusy, Watch, out_of_resources
from gpt_sovits.settings import InferenceSettings, SettingsError
from gpt_sovits.subtitles import subtitle_cues, subtitles_text
from gpt_sovits.voices import MAX_CLIP_BYTES, MAX_IMPORT_BYTES, Voice, VoiceConflict, VoiceLibrary, VoiceNotFound, VoiceTooLarge
from gpt_sovits.weights import WeightsError

# Error class -> HTTP status; anything else a user can cause is a 400.
STATUS = {
    VoiceNotFound: 404,
    VoiceConflict: 409,
    VoiceTooLarge: 413,
    TooBusy: 429,
    TookTooLong: 504,
    SynthesisError: 500,
}
PATH_LIKE = re.compile(r"[/\\~]|\.(wav|mp3|flac|ogg|opus|m4a|aac|webm)$", re.IGNORECASE)


class ApiError(GptSovitsError):
    """An error with its HTTP status and the caller's field it is about."""

    def __init__(self, message: Message, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.field, self.status = field, status


class ClientGone(Exception):
    """The caller disconnected; nobody will read the answer."""


def error_response(status: int, message: str, field: str | None = None) -> JSONResponse:
    """One body for every dialect: `message` on top (what api_v2 and XTTS clients print), the OpenAI-style
    `error` object (what the openai client reads)."""
    kind = {401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error"}
    body = {
        "message": message,
        "field": field,
        "error": {"message": message, "type": kind.get(status, "invalid_request_error" if status < 500 else "server_error"),
                  "param": field, "code": status},
    }  # fmt: skip
    headers = {"Retry-After": "2"} if status == 429 else None
    return JSONResponse(body, status_code=status, headers=headers)


def caller_locale(request: Request) -> str:
    """The language to answer this caller in, from its Accept-Language header (English without one)."""
    return locale_from_accept_language(request.headers.get("accept-language"))


def install_error_handlers(app, holder: EngineHolder) -> None:
    """Every error as `error_response`, its message in the caller's language (`caller_locale`) and without the
    server's folders (`EngineHolder.for_visitors`)."""

    @app.exception_handler(GptSovitsError)
    async def gpt_sovits_error(request, error: GptSovitsError):
        message = render(holder.for_visitors(error), caller_locale(request))
        if isinstance(error, ApiError):
            return error_response(error.status, message, error.field)
        if isinstance(error, AccessError):
            return error_response(error.status, message)
        status = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)
        return error_response(status, message)

    @app.exception_handler(MemoryError)
    @app.exception_handler(OSError)
    async def out_of_memory_or_disk(request, error: Exception):
        problem = out_of_resources(error)
        if problem is None:
            raise error  # a bug: the generic 500
        return error_response(problem.status, render(problem, caller_locale(request)))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, error: RequestValidationError):
        problem = error.errors()[0]
        location = [str(part) for part in problem.get("loc", ()) if part not in ("body", "query", "form")]
        field_name = ".".join(location) or None
        return error_response(400, render(invalid_value(problem, field_name), caller_locale(request)), field_name)

    @app.exception_handler(HTTPException)
    async def http_error(request, error: HTTPException):
        path = request.url.path
        if error.status_code == 413 and path.endswith("/voices/import"):  # a body that grew past the route's limit
            message = Message("The request is too large: an import may be at most {limit} MiB.", limit=MAX_IMPORT_BYTES // 2**20)
        elif error.status_code == 413:
            message = Message("The request is too large: one clip may be at most {limit} MiB.", limit=MAX_CLIP_BYTES // 2**20)
        elif error.status_code == 404:
            message = Message("There is no {path} on this server; /docs lists the API.", path=path)
        elif error.status_code == 405:
            message = Message("{path} does not take {method} requests; /docs lists the API.", path=path, method=request.method)
        else:
            message = str(error.detail)
        return error_response(error.status_code, render(message, caller_locale(request)))


def invalid_value(problem: dict, field_name: str | None) -> Message:
    """A field that does not parse (pydantic's error `problem`) as a message: the common kinds in our words, which
    are translated; any other kind with pydantic's own (English) words."""
    field_shown = field_name or Message("request")
    kind, context = problem.get("type", ""), problem.get("ctx") or {}
    if kind == "missing":
        return Message("{field} is required", field=field_shown)
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return Message("{field}: must be a whole number.", field=field_shown)
    if kind in ("float_parsing", "float_type"):
        return Message("{field}: must be a number.", field=field_shown)
    if kind in ("bool_parsing", "bool_type"):
        return Message("{field}: must be true or false.", field=field_shown)
    if kind == "string_type":
        return Message("{field}: must be text.", field=field_shown)
    if kind == "string_too_long" and "max_length" in context:
        return Message("{field}: at most {limit} characters.", field=field_shown, limit=context["max_length"])
    if kind in ("literal_error", "enum") and "expected" in context:
        return Message("{field}: must be one of {choices}.", field=field_shown, choices=context["expected"])
    return Message("{field}: {problem}", field=field_shown, problem=problem.get("msg", "invalid value"))


# ----- references ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    audio: str  # a file the server owns: a saved voice's clip or this request's own upload
    text: str
    language: str
    extra: tuple[str, ...] = ()

    @classmethod
    def of_voice(cls, voice: Voice) -> "Reference":
        extra = tuple(str(path) for path in voice.extra_reference_audio)
        return cls(str(voice.reference_audio), voice.reference_text, voice.reference_language, extra)


def saved_voice(voices: VoiceLibrary, value: str, field_name: str, upload_hint: Message) -> Voice:
    """A saved voice by id or name; a server path is refused with what to send instead."""
    try:
        return voices.get(value or "")
    except VoiceNotFound as error:
        if PATH_LIKE.search(value or ""):
            raise ApiError(Message(
                "{field}: this server never reads files from its own disk. Send a saved voice's id or name instead "
                "(GET /v1/audio/voices lists them, POST /v1/audio/voices saves one), or {hint}.",
                field=field_name, hint=upload_hint,
            ), field_name) from None  # fmt: skip
        raise ApiError(Message("{field}: {error}", field=field_name, error=error), field_name, status=404) from None


class RequestFiles:
    """Where one request's uploaded and base64 clips are written: `with service.files() as files:` removes them
    at the end (the engine has read them when `respond` returns, even for a streamed answer)."""

    def __init__(self, voices: VoiceLibrary, root: Path):
        self.voices = voices
        self._root = root
        self._folder: Path | None = None

    def voice(self, value: str, field_name: str, upload_hint: Message) -> Voice:
        return saved_voice(self.voices, value, field_name, upload_hint)

    def clip(self, value: str, field_name: str, upload_hint: Message) -> str:
        """A clip given as a voice id/name, base64 or a data: URL -> a file path the engine may read."""
        if self.is_inline(value):
            return self.write(decode_base64(value, field_name), field_name)
        return str(self.voice(value, field_name, upload_hint).reference_audio)

    def is_inline(self, value: str) -> bool:
        """The clip itself (a data: URL, or base64 far longer than any name), not a voice's id or name."""
        return value.startswith("data:") or (len(value) > 256 and self.voices.find(value) is None)

    def write(self, data: bytes, field_name: str, filename: str = "") -> str:
        if len(data) > MAX_CLIP_BYTES:
            message = Message("{field}: the clip is larger than {limit} MiB.", field=field_name, limit=MAX_CLIP_BYTES // 2**20)
            raise ApiError(message, field_name, 413)
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="request-", dir=self._root))
        suffix = Path(filename).suffix.lower()
        descriptor, path = tempfile.mkstemp(suffix=suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else "", dir=self._folder)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        return path

    def __enter__(self) -> "RequestFiles":
        return self

    def __exit__(self, *exception) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


def decode_base64(value: str, field_name: str) -> bytes:
    payload = value.split(",", 1)[1] if value.startswith("data:") else value
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(Message("{field}: not valid base64 audio.", field=field_name), field_name) from None


# ----- settings -----------------------------------------------------------------------------------------------


def settings_from(values: dict[str, tuple[str, object]]) -> InferenceSettings:
    """setting name -> (the caller's field, value). Each is checked alone first, so the message (the UI's own)
    comes with the caller's field name."""
    for setting, (field_name, value) in values.items():
        try:
            InferenceSettings(**{setting: value})
        except SettingsError as error:
            raise ApiError(error.args[0], field_name) from None
    return InferenceSettings(**{setting: value for setting, (_, value) in values.items()})


LANGUAGE_ALIASES = {"zh-cn": "zh", "zh-tw": "zh", "zh-hans": "zh", "en-us": "en", "en-gb": "en", "cmn": "all_zh"}


def language_mode(value: str, field_name: str) -> str:
    """Our language mode for what a caller sends (our own codes, or the few aliases clients use)."""
    mode = (value or "").strip().lower()
    mode = LANGUAGE_ALIASES.get(mode, mode)
    try:
        validation.check_language_mode(mode)
    except TextError as error:
        raise ApiError(Message("{field}: {error}", field=field_name, error=error), field_name) from None
    return mode


# ----- running ------------------------------------------------------------------------------------------------


@dataclass
class SpeechJob:
    target_text: str
    target_language: str
    reference: Reference
    settings: InferenceSettings
    # Our role -> the caller's field name, for messages: target_text, target_language, reference, reference_text,
    # reference_language.
    fields: dict[str, str] = field(default_factory=dict)

    def field(self, role: str) -> str:
        return self.fields.get(role, role)


class ApiModels:
    """The models API requests use: the server's defaults, or what the operator set with /set_*_weights."""

    def __init__(self, holder: EngineHolder):
        self.holder = holder
        self._names = {"t2s": None, "sovits": None}
        self._lock = threading.Lock()

    def choice(self) -> ModelChoice:
        with self._lock:
            return self.holder.catalog.choice(self._names["t2s"], self._names["sovits"])

    def set(self, kind: str, name: str, field_name: str) -> None:
        try:
            self.holder.catalog.choice(name if kind == "t2s" else None, name if kind == "sovits" else None)
        except WeightsError as error:
            raise ApiError(Message(
                "{field}: {error} Name the file as the web UI's model menus list it.", field=field_name, error=error
            ), field_name) from None  # fmt: skip
        with self._lock:
            self._names[kind] = name


class SpeechService:
    def __init__(self, holder: EngineHolder, voices: VoiceLibrary):
        self.holder = holder
        self.voices = voices
        self.gate = holder.gate  # shared with the UI
        self.models = ApiModels(holder)
        # Each request's clips go in a folder of their own below this one, removed when the request ends; this one
        # goes when the server closes (or the process exits).
        self._uploads = tempfile.TemporaryDirectory(prefix="gpt_sovits_requests_")
        self.upload_root = Path(self._uploads.name)

    def files(self) -> RequestFiles:
        return RequestFiles(self.voices, self.upload_root)

    def close(self) -> None:
        self._uploads.cleanup()

    async def respond(
        self, http_request: Request, job: SpeechJob, format_name: str, stream: bool, target_rate: int | None = None,
        format_field: str = "response_format", subtitles: str | None = None,
    ) -> Response:  # fmt: skip
        """`subtitles` ("srt" or "vtt"): answer JSON with the whole audio and its subtitles (see subtitled_body)."""
        stream = stream and subtitles is None
        try:
            output_format(format_name)
        except FormatError as error:
            raise ApiError(error.args[0], format_field) from None
        client = http_request.client.host if http_request.client else "unknown"
        ticket = self.gate.admit(client)
        cancel = threading.Event()
        watches = []
        handed_over = False
        try:

            async def work():  # a client that gives up while waiting for its turn leaves the queue too
                await ticket.start()
                watches.append(self.holder.time_budget.start(cancel))
                return await self._prepare(job, format_name, target_rate, cancel, watches[0], whole=not stream)

            synthesis, chunks, encoder, first = await until_disconnected(http_request, cancel, work)
            headers = {
                "X-Sample-Rate": str(encoder.sample_rate),
                "X-Seed": str(synthesis.seed),
                "X-Reference-Cached": str(synthesis.reference_cache_hit).lower(),  # a saved voice's work reused
            }
            if synthesis.warnings:  # what the UI shows as warnings (words not spoken, settings ignored), URL-encoded
                locale = caller_locale(http_request)
                headers["X-Warnings"] = quote(" | ".join(render(warning, locale) for warning in synthesis.warnings))
            if subtitles is not None:
                return JSONResponse(subtitled_body(synthesis, encoder, first, subtitles), headers=headers)
            if not stream:
                return Response(first, media_type=encoder.media_type, headers=headers)
            handed_over = True
            return StreamingResponse(
                stream_body(chunks, encoder, first, cancel, ticket, watches[0]), media_type=encoder.media_type,
                headers=headers, background=BackgroundTask(ticket.release),
            )  # fmt: skip
        except ClientGone:
            return Response(status_code=499)  # nobody is listening; a status for the log
        finally:
            if not handed_over:
                cancel.set()
                ticket.release()
                for watch in watches:
                    watch.stop()

    async def _prepare(self, job: SpeechJob, format_name, target_rate, cancel, watch: Watch, whole: bool):
        """Check, let the engine prepare, and make the first chunk (or, for a whole file, all of it)."""
        try:
            engine = self.holder.require()
        except WeightsError as error:
            raise ApiError(error.args[0], status=503) from None
        models = self.models.choice()
        symbol_version = engine.model_info(models).symbol_version
        with about(job.field("target_text")):
            validation.check_target_text(job.target_text)
        with about(job.field("target_language")):
            validation.check_language(job.target_language, symbol_version)
        if job.reference.text.strip():
            with about(job.field("reference_language")):
                validation.check_language(job.reference.language, symbol_version)
        request = SynthesisRequest(
            reference_audio=job.reference.audio, reference_text=job.reference.text,
            reference_language=job.reference.language, target_text=job.target_text,
            target_language=job.target_language, extra_reference_audio=job.reference.extra, settings=job.settings,
            models=models,
        )  # fmt: skip
        with engine_errors(job, watch):
            synthesis = await anyio.to_thread.run_sync(lambda: engine.stream(request, None, cancel), abandon_on_cancel=True)
        encoder = Encoder(format_name, synthesis.sample_rate, target_rate)
        chunks = iter(synthesis)
        body = b""
        with engine_errors(job, watch):
            while (chunk := await anyio.to_thread.run_sync(next, chunks, None, abandon_on_cancel=True)) is not None:
                body += encoder.write(chunk.audio, send_now=not whole)
                if not whole:
                    break
            if whole:
                body += encoder.finish()
        return synthesis, chunks, encoder, body


@contextmanager
def about(field_name: str):
    """Attach the caller's field to a GptSovitsError raised inside (the message stays the UI's own)."""
    try:
        yield
    except ApiError:
        raise
    except GptSovitsError as error:
        raise ApiError(error.args[0], field_name) from None


@contextmanager
def engine_errors(job: SpeechJob, watch: Watch):
    """Errors from the engine, placed on the caller's field they are about; a synthesis the time budget stopped
    as TookTooLong."""
    try:
        yield
    except SynthesisCancelled:
        if watch.expired:
            raise watch.too_long() from None
        raise ClientGone() from None
    except AudioError as error:
        raise ApiError(error.args[0], job.field("reference")) from None
    except TextError as error:
        role = "reference_text" if str(error).startswith("Reference text") else "target_text"
        raise ApiError(error.args[0], job.field(role)) from None


async def until_disconnected(http_request: Request, cancel: threading.Event, work):
    """Run `work()`; if the client goes away first, tell the engine to stop and raise ClientGone."""
    outcome: dict = {}
    async with anyio.create_task_group() as group:

        async def watch():
            while not await http_request.is_disconnected():
                await anyio.sleep(0.25)
            cancel.set()
            group.cancel_scope.cancel()

        async def run():
            try:
                outcome["value"] = await work()
            except BaseException as error:  # re-raised below, outside the task group (no exception groups)
                if not isinstance(error, anyio.get_cancelled_exc_class()):
                    outcome["error"] = error
            group.cancel_scope.cancel()

        group.start_soon(watch)
        group.start_soon(run)
    if "error" in outcome:
        raise outcome["error"]
    if "value" not in outcome:
        raise ClientGone()
    return outcome["value"]


async def stream_body(chunks, encoder: Encoder, first: bytes, cancel: threading.Event, ticket, watch: Watch):
    """The rest of a streamed answer; each chunk is made in a thread, and a dropped client (or the time budget)
    stops the engine; an error cuts the body short."""
    try:
        yield first
        while (chunk := await anyio.to_thread.run_sync(next, chunks, None, abandon_on_cancel=True)) is not None:
            yield encoder.write(chunk.audio)
        yield encoder.finish()
    finally:
        watch.stop()
        cancel.set()
        ticket.release()


def subtitled_body(synthesis, encoder: Encoder, audio: bytes, subtitle_format: str) -> dict:
    """A whole result with its subtitles, for clients that show them: the audio (base64, in the format asked
    for), the subtitles as text in `subtitle_format`, and the same cues as numbers."""
    cues = subtitle_cues(synthesis.sentences)
    return {
        "audio": base64.b64encode(audio).decode("ascii"),
        "media_type": encoder.media_type,
        "sample_rate": encoder.sample_rate,
        "seed": synthesis.seed,
        "subtitles_format": subtitle_format,
        "subtitles": subtitles_text(cues, subtitle_format),
        "cues": [{"start": cue.start_seconds, "end": cue.end_seconds, "text": cue.text} for cue in cues],
    }
