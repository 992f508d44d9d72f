"""The HTTP API over a real server on 127.0.0.1 (tiny random checkpoints): the openai client, recorded requests of
SillyTavern / Open WebUI / api_v2 clients, every refusal with its status and message, keys, limits, concurrency,
the UI's saved voices and the MCP tools."""

import base64
import io
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
import soundfile
from gradio_client import Client
from openai import OpenAI

from gpt_sovits import weights
from gpt_sovits.server import launch
from gpt_sovits.server.security import AccessError, ApiKey, check_admin_bind, check_bind, is_loopback
from gpt_sovits.service import SynthesisGate, TooBusy
from test_app import REFERENCE_TEXT, arrange_weights, request, speech_like, start

KEY = "test-key-123"
AUTH = {"Authorization": f"Bearer {KEY}"}
FIXTURES = Path(__file__).parent / "data" / "http_fixtures" / "clients.json"
VOICE_COUNT = 8


def wav_bytes(seconds: float, seed: int) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, speech_like(seconds, seed), 32000, format="WAV")
    return buffer.getvalue()


def serve_tiny_weights(tiny_checkpoints, tmp_path_factory, key: str, client_limit: int):
    """A running server over the tiny weights (its API behind `key`): yields (running, url without the slash)."""
    weights_dir = arrange_weights(tiny_checkpoints, tmp_path_factory.mktemp("weights"))
    options = ("--api-key", key, "--client-limit", str(client_limit), "--queue-size", "16")
    ui, running, url = start(weights_dir, tmp_path_factory.mktemp("server"), *options)
    yield running, url.rstrip("/")
    running.close()


def http_client(url: str, key: str):
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def server(tiny_checkpoints, tmp_path_factory):
    yield from serve_tiny_weights(tiny_checkpoints, tmp_path_factory, KEY, VOICE_COUNT)


@pytest.fixture(scope="module")
def http(server):
    yield from http_client(server[1], KEY)


@pytest.fixture(scope="module")
def voices(http) -> list[dict]:
    """Alice (the main test voice) and VOICE_COUNT others, saved over HTTP as a client would."""
    saved = []
    for index in range(VOICE_COUNT):
        name = "Alice" if index == 0 else f"Voice {index}"
        response = http.post(
            "/v1/audio/voices", data={"name": name, "text": REFERENCE_TEXT, "language": "all_zh"},
            files={"audio_sample": (f"{name}.wav", wav_bytes(4.0 + 0.1 * index, seed=10 + index), "audio/wav")},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        saved.append(response.json())
    return saved


def decode(response: httpx.Response) -> tuple[np.ndarray, int]:
    if response.headers["content-type"].startswith("audio/pcm"):
        return np.frombuffer(response.content, dtype="<i2"), int(response.headers["x-sample-rate"])
    if response.headers["content-type"].startswith("audio/aac"):  # libsndfile reads no AAC; FFmpeg (PyAV) does
        with av.open(io.BytesIO(response.content)) as container:
            frames = list(container.decode(audio=0))
        return np.concatenate([frame.to_ndarray()[0] for frame in frames]), frames[0].sample_rate
    return soundfile.read(io.BytesIO(response.content), dtype="int16")


# ----- the openai client -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openai_client(server) -> OpenAI:
    return OpenAI(base_url=server[1] + "/v1", api_key=KEY, max_retries=0)


SHORT, LONG = "你好。", "你好。" * 10


def test_openai_client_speech(openai_client, voices):
    durations = {}
    for text in (SHORT, LONG):
        speech = openai_client.audio.speech.create(
            model="tts-1", voice="Alice", input=text, response_format="wav",
            extra_body={"seed": 3, "language": "all_zh", "cut_method": "cut5"},
        )  # fmt: skip
        samples, rate = soundfile.read(io.BytesIO(speech.content), dtype="int16")
        durations[text] = len(samples) / rate
    print(f"\ndurations: {durations}")
    # Sentence by sentence, the first sentence of the long text is the short text's (same seed); nine more follow,
    # each with at least its 0.3 s pause.
    assert rate == 32000 and 0.3 < durations[SHORT] and durations[LONG] > durations[SHORT] + 9 * 0.3


def test_openai_client_streaming_response(openai_client, voices):
    """A streamed body (pcm: 24 kHz as OpenAI documents it) is exactly the whole file, and comes in pieces."""
    options = dict(model="tts-1", voice={"id": voices[0]["id"]}, input=LONG, response_format="pcm")
    extra = {"seed": 5, "language": "all_zh", "cut_method": "cut5"}
    with openai_client.audio.speech.with_streaming_response.create(**options, extra_body=extra) as response:
        assert response.headers["x-sample-rate"] == "24000"
        pieces = list(response.iter_bytes())
    whole = openai_client.audio.speech.create(**options, extra_body={**extra, "stream": False}).content
    assert b"".join(pieces) == whole and len(whole) / 2 / 24000 > 0.3


# ----- recorded client requests ------------------------------------------------------------------------------


def fill(value, placeholders: dict):
    if isinstance(value, str):
        for name, replacement in placeholders.items():
            value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, dict):
        return {key: fill(item, placeholders) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, placeholders) for item in value]
    return value


RECORDED = json.loads(FIXTURES.read_text(encoding="utf-8"))["requests"]


@pytest.mark.parametrize("recorded", RECORDED, ids=[request["name"] for request in RECORDED])
def test_recorded_client_requests_get_playable_answers(http, voices, server, recorded):
    alice = voices[0]
    clip = (Path(server[0].server.service.voices.get(alice["id"]).reference_audio)).read_bytes()
    placeholders = {
        "voice_id": alice["id"], "voice_name": alice["name"], "voice_text": alice["reference_text"],
        "reference_data_url": "data:audio/wav;base64," + base64.b64encode(clip).decode(),
    }  # fmt: skip
    response = http.request(
        recorded["method"], recorded["path"], params=fill(recorded.get("query"), placeholders),
        json=fill(recorded.get("json"), placeholders), headers=recorded.get("headers"),
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(recorded["expect"])
    if recorded["expect"].startswith("audio/"):
        samples, rate = decode(response)
        assert len(samples) / rate > 0.3 and np.abs(samples).max() > 0  # sound, not an empty or silent file
    elif recorded["path"] == "/speakers":
        assert {"name": "Alice", "voice_id": alice["id"]}.items() <= response.json()[0].items()


# ----- refusals ----------------------------------------------------------------------------------------------

ALICE = "Alice"
SPEECH = {"model": "tts-1", "input": "你好。", "voice": ALICE, "language": "all_zh"}
V2 = {"text": "你好。", "text_lang": "all_zh", "ref_audio_path": ALICE}


@pytest.mark.parametrize(
    "method, path, body, status, field, message",
    [
        ("POST", "/v1/audio/speech", {**SPEECH, "input": "   "}, 400, "input", "text to synthesize is empty"),
        ("POST", "/v1/audio/speech", {**SPEECH, "input": "好" * 1001}, 400, "input", "the limit is 1000"),
        ("POST", "/v1/audio/speech", {**SPEECH, "input": "好" * 4097}, 400, "input", "at most 4096 characters"),
        ("POST", "/v1/audio/speech", {**SPEECH, "speed": 3}, 400, "speed", "'speed' must be between 0.6 and 1.65"),
        ("POST", "/v1/audio/speech", {**SPEECH, "top_k": 0}, 400, "top_k", "'top_k' must be between 1 and 100"),
        ("POST", "/v1/audio/speech", {**SPEECH, "seed": 2**40}, 400, "seed", "'seed' must be a whole number"),
        ("POST", "/v1/audio/speech", {**SPEECH, "voice": "Nobody"}, 404, "voice", "No saved voice"),
        ("POST", "/v1/audio/speech", {**SPEECH, "voice": "/etc/passwd"}, 400, "voice", "never reads files"),
        ("POST", "/v1/audio/speech", {**SPEECH, "response_format": "wma"}, 400, "response_format", "'mp3', 'opus', 'aac'"),
        ("POST", "/v1/audio/speech", {**SPEECH, "model": "whisper-1"}, 400, "model", "unknown model"),
        ("POST", "/v1/audio/speech", {**SPEECH, "language": "fr"}, 400, "language", "Unknown language mode"),
        ("POST", "/v1/audio/speech", {**SPEECH, "stream_format": "sse"}, 400, "stream_format", "'sse' is not offered"),
        ("POST", "/v1/audio/speech", {**SPEECH, "voice": {"audio": "bm90IGF1ZGlv"}}, 400, "voice", "Cannot read audio"),
        ("POST", "/tts_to_audio/", {"text": "hi", "speaker_wav": "nobody"}, 404, "speaker_wav", "No saved voice"),
        ("POST", "/tts_to_audio/", {"text": "hi", "speaker_wav": "female.wav"}, 400, "speaker_wav", "never reads files"),
        ("POST", "/tts_to_audio/", {"text": "hi", "speaker_wav": ALICE, "language": "fr"}, 400, "language", "Unknown language"),
        ("POST", "/set_tts_settings", {"top_k": "0"}, 400, "top_k", "'top_k' must be between 1 and 100"),
        ("POST", "/tts", {**V2, "text": ""}, 400, "text", "text is required"),
        ("POST", "/tts", {**V2, "ref_audio_path": None}, 400, "ref_audio_path", "ref_audio_path is required"),
        ("POST", "/tts", {**V2, "ref_audio_path": "./参考音频/Alice.wav"}, 400, "ref_audio_path", "never reads files"),
        ("POST", "/tts", {**V2, "ref_audio_path": "C:\\voices\\a.wav"}, 400, "ref_audio_path", "or POST multipart"),
        ("POST", "/tts", {**V2, "aux_ref_audio_paths": ["/etc/hosts"]}, 400, "aux_ref_audio_paths", "never reads files"),
        ("POST", "/tts", {**V2, "text_split_method": "cut9"}, 400, "text_split_method", "Unknown cutting method"),
        ("POST", "/tts", {**V2, "streaming_mode": 7}, 400, "streaming_mode", "must be 0, 1, 2, 3(int)"),
        ("POST", "/tts", {**V2, "media_type": "wma"}, 400, "media_type", "wma is not supported"),
        ("POST", "/tts", {**V2, "speed_factor": 9}, 400, "speed_factor", "'speed' must be between"),
        ("POST", "/tts", {**V2, "top_k": "many"}, 400, "top_k", "must be a whole number"),
        ("POST", "/tts", {**V2, "sample_steps": 0}, 400, "sample_steps", "'sample_steps' must be between 1 and 128"),
        ("GET", "/tts", {**V2, "sample_steps": 129}, 400, "sample_steps", "'sample_steps' must be between 1 and 128"),
        ("POST", "/tts", {**V2, "super_sampling": "maybe"}, 400, "super_sampling", "must be true or false"),
        ("POST", "/tts", {**V2, "ref_audio_path": "data:audio/wav;base64,AAAA"}, 400, "prompt_lang", "prompt_lang is required"),
        ("GET", "/set_gpt_weights", {"weights_path": "/etc/passwd"}, 400, "weights_path", "not one of the listed model files"),
        ("GET", "/set_sovits_weights", {}, 400, "weights_path", "sovits weight path is required"),
        ("DELETE", "/v1/audio/voices/nobody", None, 404, None, "No saved voice"),
    ],
)
def test_each_bad_input_gets_its_status_field_and_message(http, voices, method, path, body, status, field, message):
    if method == "GET":
        response = http.get(path, params=body)
    else:
        response = http.request(method, path, json=body)
    assert response.status_code == status, response.text
    answer = response.json()
    assert message in answer["message"] and answer["error"]["message"] == answer["message"]
    assert answer["field"] == field


def test_saving_bad_voices(http, voices):
    def save(name, clip, language="all_zh"):
        return http.post("/v1/audio/voices", data={"name": name, "text": "", "language": language},
                         files={"audio_sample": ("clip.wav", clip, "audio/wav")})  # fmt: skip

    short = save("Short", wav_bytes(2.0, seed=1))
    assert short.status_code == 400 and "at least 3 s" in short.json()["message"]
    assert save("Junk", b"not audio").status_code == 400
    assert save("alice", wav_bytes(4.0, seed=99)).status_code == 409  # names are unique, whatever the case
    assert save("Lang", wav_bytes(4.0, seed=98), language="xx").json()["field"] == "language"
    again = save("Alice copy", http.get(f"/v1/audio/voices/{voices[1]['id']}/audio").content)
    assert again.status_code in (200, 201)


def test_voice_management(http, voices):
    listed = http.get("/v1/audio/voices").json()["data"]
    assert {voice["id"] for voice in voices} <= {voice["id"] for voice in listed}
    assert all("path" not in json.dumps(voice) and "/" not in voice["name"] for voice in listed)
    created = http.post("/v1/audio/voices", data={"name": "Temp", "language": "en"},
                        files={"audio_sample": ("t.flac", wav_bytes(3.5, seed=77), "audio/wav")}).json()  # fmt: skip
    assert http.patch(f"/v1/audio/voices/{created['id']}", json={"name": "Temp 2"}).json()["name"] == "Temp 2"
    archive = http.get("/v1/audio/voices/export", params={"voice": "Temp 2"})
    assert http.delete("/v1/audio/voices/Temp 2").json() == {"id": created["id"], "object": "audio.voice", "deleted": True}
    restored = http.post("/v1/audio/voices/import", files={"file": ("voices.zip", archive.content, "application/zip")})
    assert [voice["id"] for voice in restored.json()["data"]] == [created["id"]]
    http.delete(f"/v1/audio/voices/{created['id']}")


# ----- keys, binds and limits --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/models", "/v1/audio/voices", "/speakers", "/tts?text=a", "/set_gpt_weights"])
def test_requests_without_the_key_are_refused(server, path):
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = httpx.get(server[1] + path, headers=headers)
        assert response.status_code == 401 and "needs its key" in response.json()["message"]
    assert httpx.get(server[1] + "/v1/models", headers={"X-API-Key": KEY}).status_code == 200


def test_no_api_beyond_loopback_without_a_key(tmp_path, monkeypatch):
    """The bind check runs before anything listens (nothing is bound here)."""
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("example.org")
    for host, share in (("0.0.0.0", False), ("192.168.1.5", False), ("127.0.0.1", True)):
        with pytest.raises(SystemExit, match="Refusing to start.*GPT_SOVITS_API_KEY"):
            check_bind(host, share, None)
        check_bind(host, share, "some key")
    check_bind("127.0.0.1", False, None)
    public = ["--host", "0.0.0.0", "--weights-dir", str(tmp_path), "--voices-dir", str(tmp_path)]
    with pytest.raises(SystemExit, match="needs a key"):
        launch.create(launch.parse_args(public))
    monkeypatch.setenv("SPACE_ID", "someone/space")  # a Space must come up: the UI alone, the API off
    space = launch.create(launch.parse_args(public))
    assert space.service is None and "/v1/audio/speech" not in space.app.openapi()["paths"]
    assert not space.ui.voices_editable  # public page, no login: saved voices can be picked, not changed


def test_the_operator_reads_start_up_refusals_in_the_terminals_language(monkeypatch):
    for variable in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    with pytest.raises(SystemExit, match="拒绝启动.*GPT_SOVITS_API_KEY"):
        check_bind("0.0.0.0", False, None)
    with pytest.raises(SystemExit, match="拒绝启动.*--admin"):
        check_admin_bind(True, True, False)


def test_operator_routes_need_a_key_even_on_loopback():
    request = type("Request", (), {"headers": {}})()
    ApiKey(None).check(request)  # loopback without a key: the API is open
    with pytest.raises(AccessError, match="operator only.*GPT_SOVITS_API_KEY") as refused:
        ApiKey(None).check_admin(request)
    assert refused.value.status == 403


def test_oversized_upload_is_refused_before_the_body_is_read(server):
    """A declared 50 MiB body gets 413 at once, with not one byte of it sent; a body without a length gets 413 too."""
    host, port = server[1].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            f"POST /v1/audio/voices HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {KEY}\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 52428800\r\n\r\n".encode()
        )
        answer = connection.recv(4096).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413")  # FastAPI's route body limit, from the Content-Length alone

    def body():  # no Content-Length: the limit counts the bytes as they come, and stops at 10 MiB + the form
        yield b'--x\r\nContent-Disposition: form-data; name="audio_sample"; filename="a.wav"\r\n\r\n'
        for _ in range(50):
            yield b"\0" * 2**20

    headers = {**AUTH, "Content-Type": "multipart/form-data; boundary=x"}
    refused = httpx.post(server[1] + "/v1/audio/voices", content=body(), headers=headers)
    assert refused.status_code == 413 and "at most 10 MiB" in refused.json()["message"]


def test_queue_full_and_per_client_limits(http, voices, server):
    service = server[0].server.service
    gate = SynthesisGate(concurrency=1, queue_size=0, per_client=1)
    with pytest.raises(TooBusy):
        gate.admit("a"), gate.admit("b")
    original, service.gate = service.gate, SynthesisGate(concurrency=1, queue_size=0, per_client=1)
    try:
        held = service.gate.admit("someone else")
        response = http.post("/v1/audio/speech", json=SPEECH)
        assert response.status_code == 429 and response.headers["retry-after"] and "busy" in response.json()["message"]
        held.release()
        assert http.post("/v1/audio/speech", json={**SPEECH, "stream": False}).status_code == 200
    finally:
        service.gate = original


def test_eight_concurrent_clients_get_their_solo_outputs(http, voices):
    def speak(index: int) -> bytes:
        body = {**SPEECH, "voice": voices[index]["id"], "seed": 100 + index, "response_format": "pcm", "stream": False}
        response = http.post("/v1/audio/speech", json=body)
        assert response.status_code == 200, response.text
        return response.content

    solo = [speak(index) for index in range(VOICE_COUNT)]
    assert len(set(solo)) == VOICE_COUNT  # different voices (and seeds) sound different
    with ThreadPoolExecutor(VOICE_COUNT) as pool:
        together = list(pool.map(speak, range(VOICE_COUNT)))
    assert together == solo


def test_a_dropped_client_stops_the_work(server, voices):
    service = server[0].server.service
    long_text = "。".join(["今天天气很好，我们一起去公园散步吧"] * 12) + "。"
    body = {**SPEECH, "input": long_text, "response_format": "pcm", "cut_method": "cut5", "seed": 1}
    with httpx.stream("POST", server[1] + "/v1/audio/speech", json=body, headers=AUTH, timeout=120) as response:
        assert response.status_code == 200
        next(response.iter_raw())  # the first sentence has come; hang up
    deadline = time.monotonic() + 10
    while service.gate.admitted and time.monotonic() < deadline:
        time.sleep(0.05)
    assert service.gate.admitted == 0


def test_api_v2_sample_steps_and_super_sampling_reach_the_settings(http, voices, server, monkeypatch):
    """The v3/v4 settings go to the engine as sample_steps / super_resolution (a v2 model ignores them: same audio)."""
    service = server[0].server.service
    seen, respond = [], service.respond

    async def recording(http_request, job, *arguments, **options):
        seen.append(job.settings)
        return await respond(http_request, job, *arguments, **options)

    monkeypatch.setattr(service, "respond", recording)
    body = {**V2, "seed": 4, "media_type": "raw"}
    plain = http.post("/tts", json=body)
    tuned = http.post("/tts", json={**body, "sample_steps": 8, "super_sampling": True})
    assert plain.status_code == tuned.status_code == 200 and plain.content == tuned.content
    assert (seen[0].sample_steps, seen[0].super_resolution) == (32, False)  # upstream api_v2's defaults
    assert (seen[1].sample_steps, seen[1].super_resolution) == (8, True)


def test_words_the_front_end_drops_are_named_in_a_warning_header(http, voices):
    from urllib.parse import unquote

    answer = http.post("/v1/audio/speech", json={**SPEECH, "input": "你好 naïve café。", "language": "zh", "stream": False})
    assert answer.status_code == 200
    assert "Not spoken: naïve, café." in unquote(answer.headers["x-warnings"])


def test_operator_switches_the_api_models(http, voices):
    """With the key, /set_*_weights pick listed model files for every API caller (here v1 instead of v2)."""
    v2, v1 = weights.OFFICIAL_MODELS[2], weights.OFFICIAL_MODELS[3]
    body = {**SPEECH, "stream": False, "seed": 1, "response_format": "pcm"}
    before = http.post("/v1/audio/speech", json=body).content
    try:
        for route, name in (("/set_gpt_weights", v1.t2s), ("/set_sovits_weights", v1.sovits)):
            assert http.get(route, params={"weights_path": name}).json() == {"message": "success"}
        assert http.post("/v1/audio/speech", json=body).content != before
    finally:
        http.get("/set_gpt_weights", params={"weights_path": v2.t2s})
        http.get("/set_sovits_weights", params={"weights_path": v2.sovits})
    assert http.post("/v1/audio/speech", json=body).content == before


def test_openapi_page_documents_every_route(server):
    paths = httpx.get(server[1] + "/openapi.json").json()["paths"]
    for path in ("/v1/audio/speech", "/v1/models", "/v1/audio/voices", "/speakers", "/tts_to_audio/", "/tts_stream/",
                 "/set_tts_settings", "/tts", "/set_gpt_weights", "/set_sovits_weights"):  # fmt: skip
        assert path in paths
    assert httpx.get(server[1] + "/docs").status_code == 200


# ----- the UI's saved voices and the MCP tools ---------------------------------------------------------------


def test_ui_saves_picks_and_deletes_voices(server, tmp_path):
    ui = server[0].server.ui
    clip = tmp_path / "mine.wav"
    clip.write_bytes(wav_bytes(4.0, seed=55))
    dropdown = ui.save_voice("Mine", str(clip), REFERENCE_TEXT, "all_zh", [])
    voice = ui.voices.get("Mine")
    assert dropdown.value == voice.id and ("Mine", voice.id) in [tuple(choice) for choice in dropdown.choices]
    audio, text, language, extra, name = ui.pick_voice(voice.id)
    assert Path(audio).read_bytes() == clip.read_bytes() and (text, language, extra, name) == (REFERENCE_TEXT, "all_zh", None, "Mine")
    assert ui.delete_voice(voice.id).value is None and ui.voices.find("Mine") is None


def test_mcp_tools(server, voices):
    schema = httpx.get(server[1] + "/gradio_api/mcp/schema").json()
    tools = {tool["name"]: tool for tool in schema}
    assert "saved voices" in tools["speak"]["description"] and "saved voices" in tools["list_voices"]["description"]
    voice = tools["speak"]["inputSchema"]["properties"]["voice"]["description"]
    assert "name or id of a saved voice" in voice and "list_voices" in voice
    client = Client(server[1], verbose=False)
    listed = client.predict(api_name="/list_voices")
    assert {"id": voices[0]["id"], "name": "Alice"}.items() <= listed[0].items()
    audio_path = client.predict("你好。", "Alice", "all_zh", 3, api_name="/speak")
    samples, rate = soundfile.read(audio_path, dtype="int16")
    assert len(samples) / rate > 0.3


def test_mcp_round_trip(server, voices):
    """A real MCP client (streamable HTTP) lists the tools and calls list_voices."""
    import anyio
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async def session_calls():
        async with streamablehttp_client(server[1] + "/gradio_api/mcp/?tools=speak,list_voices") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = await session.list_tools()
                listed = await session.call_tool("list_voices", {})
                return [tool.name for tool in tools.tools], listed

    names, listed = anyio.run(session_calls)
    assert sorted(names) == ["list_voices", "speak"]
    assert not listed.isError and voices[0]["id"] in listed.content[0].text


def test_the_api_speaks_exactly_as_the_ui(server, http, voices):
    """A saved voice over the API gives the UI's WAV for the same clip, text and seed; its prepared work is reused."""
    clip = server[0].server.service.voices.get("Alice").reference_audio
    _, ui_path, *_ = Client(server[1], verbose=False).predict(**request(clip, seed=7), api_name="/synthesize")
    body = {**SPEECH, "input": "你好，世界。", "seed": 7, "response_format": "wav", "stream": False}
    first, second = http.post("/v1/audio/speech", json=body), http.post("/v1/audio/speech", json=body)
    assert second.headers["x-reference-cached"] == "true"
    np.testing.assert_array_equal(decode(first)[0], soundfile.read(ui_path, dtype="int16")[0])
    assert first.content == second.content


def test_browser_pages_of_this_machine_may_call_the_api(server):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    for origin, allowed in (("http://127.0.0.1:8000", True), ("http://localhost:8000", True), ("https://evil.example", False)):
        response = httpx.options(server[1] + "/tts_to_audio/", headers={"Origin": origin, **preflight})
        assert (response.headers.get("access-control-allow-origin") == origin) == allowed


def test_ui_login_from_options_and_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GPT_SOVITS_AUTH", "ann:secret1,bob:secret2")
    options = ["--host", "0.0.0.0", "--api-key", "k", "--weights-dir", str(tmp_path), "--voices-dir", str(tmp_path)]
    built = launch.create(launch.parse_args(options))
    assert built.demo.auth == [("ann", "secret1"), ("bob", "secret2")]
    assert built.ui.voices_editable  # a login: visitors are known, they may change the library
    with pytest.raises(SystemExit, match="USER:PASSWORD"):
        launch.create(launch.parse_args([*options, "--auth", "nopassword"]))


def test_one_off_clips_upload_and_base64_leave_nothing_behind(server, http, voices):
    """api_v2 multipart with the clip uploaded, and OpenAI's one-off {'audio': base64} voice: both speak, and the
    request's copies of the clips are gone afterwards."""
    clip = wav_bytes(4.0, seed=31)
    uploaded = http.post(
        "/tts", data={"text": "你好。", "text_lang": "all_zh", "prompt_text": REFERENCE_TEXT, "prompt_lang": "all_zh"},
        files={"ref_audio": ("mine.wav", clip, "audio/wav"), "aux_ref_audio": ("more.wav", wav_bytes(3.0, seed=32), "audio/wav")},
    )  # fmt: skip
    assert uploaded.status_code == 200, uploaded.text
    one_off = {"audio": base64.b64encode(clip).decode(), "text": REFERENCE_TEXT, "language": "all_zh"}
    spoken = http.post("/v1/audio/speech", json={**SPEECH, "voice": one_off, "response_format": "flac", "stream": False})
    assert spoken.status_code == 200 and len(decode(spoken)[0]) / 32000 > 0.3
    assert list(server[0].server.service.upload_root.iterdir()) == []


# ----- the caller's language ------------------------------------------------------------------------------------


def test_errors_come_back_in_the_callers_language(http, voices):
    """Accept-Language picks the language of every error; the status and field stay the same."""
    nobody = {**SPEECH, "voice": "Nobody"}
    for headers, expected in (
        ({"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}, "voice：没有名称或编号为「Nobody」的已保存音色。"),
        ({"Accept-Language": "en-US,en;q=0.9"}, "voice: No saved voice is called or has the id 'Nobody'."),
        ({}, "voice: No saved voice is called or has the id 'Nobody'."),
    ):
        answer = http.post("/v1/audio/speech", json=nobody, headers=headers)
        assert answer.status_code == 404 and answer.json()["field"] == "voice"
        assert answer.json()["message"].startswith(expected) and answer.json()["error"]["message"] == answer.json()["message"]
    invalid = http.post("/tts", json={**V2, "top_k": "many"}, headers={"Accept-Language": "zh-CN"})
    assert invalid.status_code == 400 and invalid.json()["message"] == "top_k：必须是整数。"
    assert http.post("/tts", json={**V2, "top_k": "many"}).json()["message"] == "top_k: must be a whole number."


def test_a_broken_model_file_is_explained_in_the_callers_language(server, http, voices):
    holder = server[0].server.service.holder
    broken = holder.weights_dir / "broken.ckpt"
    broken.write_bytes(b"PK\x03\x04 cut short by an interrupted download")
    default_t2s = holder.catalog.name(weights.default_models(holder.weights_dir)[0])
    try:
        assert http.get("/set_gpt_weights", params={"weights_path": "broken.ckpt"}).status_code == 200
        chinese = http.post("/v1/audio/speech", json=SPEECH, headers={"Accept-Language": "zh-CN"})
        english = http.post("/v1/audio/speech", json=SPEECH)
    finally:
        http.get("/set_gpt_weights", params={"weights_path": default_t2s})
        broken.unlink()
    assert chinese.status_code == english.status_code == 400
    assert chinese.json()["message"] == "「broken.ckpt」看起来是模型文件，但无法读取：它可能不完整或已损坏（下载或复制被中断）。请重新下载或复制。"
    assert english.json()["message"].startswith("'broken.ckpt' looks like a model file but cannot be read")
    assert str(holder.weights_dir) not in chinese.text + english.text
