"""A server as it runs in public (bound beyond loopback, an API key, no --admin), over HTTP on 127.0.0.1: no
administrative endpoint exists, nothing a visitor can read names the server's folders, and the monitoring route is
off. Then what --admin and the time budget change."""

import httpx
import pytest
from gradio_client import Client

from gpt_sovits.server import launch
from gpt_sovits.service import TimeBudget
from test_app import REFERENCE_TEXT, arrange_weights, start
from test_server import wav_bytes

KEY = "public-key-456"
AUTH = {"Authorization": f"Bearer {KEY}"}
PUBLIC = ("--host", "0.0.0.0", "--api-key", KEY)  # start() serves on 127.0.0.1 whatever --host says
ADMIN_ENDPOINTS = ("download_models", "refresh_models")


@pytest.fixture(scope="module")
def public(tiny_checkpoints, tmp_path_factory):
    weights_dir = arrange_weights(tiny_checkpoints, tmp_path_factory.mktemp("public-weights"))
    ui, running, url = start(weights_dir, tmp_path_factory.mktemp("public"), *PUBLIC)
    yield running, url.rstrip("/"), weights_dir
    running.close()


@pytest.fixture(scope="module")
def empty_public(tmp_path_factory):
    """A public server whose weights folder is still empty: its errors are about that folder."""
    weights_dir = tmp_path_factory.mktemp("empty-weights")
    ui, running, url = start(weights_dir, tmp_path_factory.mktemp("empty-public"), *PUBLIC)
    yield running, url.rstrip("/"), weights_dir
    running.close()


def test_no_administrative_endpoint_on_a_public_server(public):
    running, url, _ = public
    assert not running.server.admin
    named = httpx.get(url + "/gradio_api/info").json()["named_endpoints"]
    assert "/synthesize" in named and not any(f"/{name}" in named for name in ADMIN_ENDPOINTS)
    for name in ADMIN_ENDPOINTS:
        assert httpx.post(f"{url}/gradio_api/call/{name}", json={"data": ["v2", None, None]}).status_code >= 400
        with pytest.raises(ValueError):
            Client(url, verbose=False).predict("v2", None, None, api_name=f"/{name}")
    tools = [tool["name"] for tool in httpx.get(url + "/gradio_api/mcp/schema").json()]
    assert "speak" in tools and not set(tools) & set(ADMIN_ENDPOINTS)
    refused = httpx.get(url + "/set_gpt_weights", params={"weights_path": "x.ckpt"}, headers=AUTH)
    assert refused.status_code == 403 and "--admin" in refused.json()["message"]


def test_visitors_still_pick_their_own_models(public):
    named = httpx.get(public[1] + "/gradio_api/info").json()["named_endpoints"]
    parameters = [parameter["parameter_name"] for parameter in named["/synthesize"]["parameters"]]
    assert "t2s_model" in parameters and "sovits_model" in parameters


@pytest.mark.parametrize("fixture", ["public", "empty_public"])
def test_nothing_a_visitor_reads_names_a_server_folder(fixture, request):
    running, url, weights_dir = request.getfixturevalue(fixture)
    folders = {str(weights_dir), str(weights_dir.resolve()), str(running.server.service.upload_root)}
    answers = [
        httpx.get(url + "/config"),
        httpx.get(url + "/gradio_api/info"),
        httpx.post(url + "/v1/audio/speech", headers=AUTH, json={"input": "你好。", "voice": "nobody", "language": "all_zh"}),
        httpx.post(url + "/tts", headers=AUTH, json={"text": "你好。", "text_lang": "all_zh", "ref_audio_path": "/etc/passwd"}),
        httpx.post(
            url + "/tts", headers=AUTH,
            data={"text": "你好。", "text_lang": "all_zh", "prompt_text": REFERENCE_TEXT, "prompt_lang": "all_zh"},
            files={"ref_audio": ("mine.wav", b"RIFF not really a wav", "audio/wav")},
        ),  # fmt: skip
        httpx.post(
            url + "/tts", headers=AUTH,
            data={"text": "你好。", "text_lang": "all_zh", "prompt_text": REFERENCE_TEXT, "prompt_lang": "all_zh"},
            files={"ref_audio": ("mine.wav", wav_bytes(4.0, seed=3), "audio/wav")},
        ),  # fmt: skip
    ]
    for answer in answers:
        for folder in folders:
            assert folder not in answer.text, (answer.request.url, answer.text[:300])
    if fixture == "empty_public":  # the missing models are named within the folder, by its own name
        assert answers[-1].status_code == 503 and f"{weights_dir.name}/" in answers[-1].json()["message"]
        summary = running.server.ui.no_models_summary()
        assert str(weights_dir) not in summary


def test_the_monitoring_route_is_off(public, capfd):
    capfd.readouterr()
    for path in ("/monitoring", "/monitoring/summary"):
        assert httpx.get(public[1] + path).status_code in (403, 404)
    assert "monitoring" not in capfd.readouterr().out.lower()


def test_admin_on_a_public_server_needs_a_login(tmp_path):
    options = [*PUBLIC, "--weights-dir", str(tmp_path), "--voices-dir", str(tmp_path / "voices"), "--admin"]
    with pytest.raises(SystemExit, match="--admin on a public server"):
        launch.create(launch.parse_args(options))
    with_login = launch.create(launch.parse_args([*options, "--auth", "op:secret"]))
    assert with_login.admin
    endpoints = [dependency.api_name for dependency in with_login.demo.fns.values()]
    assert set(ADMIN_ENDPOINTS) <= set(endpoints)
    with_login.close()
    loopback = launch.create(launch.parse_args(["--weights-dir", str(tmp_path), "--voices-dir", str(tmp_path / "v")]))
    assert loopback.admin  # on this machine only, the operator is whoever runs it
    loopback.close()


def test_a_synthesis_past_the_time_budget_is_stopped_with_a_message(public):
    running, url, _ = public
    holder = running.server.service.holder
    original, holder.time_budget = holder.time_budget, TimeBudget(0.001)
    try:
        body = {
            "text": "你好。", "text_lang": "all_zh", "prompt_text": REFERENCE_TEXT, "prompt_lang": "all_zh",
        }  # fmt: skip
        answer = httpx.post(url + "/tts", headers=AUTH, data=body,
                            files={"ref_audio": ("mine.wav", wav_bytes(4.0, seed=4), "audio/wav")}, timeout=60)  # fmt: skip
        assert answer.status_code == 504 and "took longer than the 0.001 s" in answer.json()["message"]
        assert running.server.service.gate.admitted == 0
    finally:
        holder.time_budget = original
