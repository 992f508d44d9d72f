"""The web app end to end: a real server on 127.0.0.1, driven through gradio_client like any API user.

The engine runs the tiny random checkpoints (official file formats, laid out as in weights/README.md), so the
audio is noise, but every path a user takes is real: upload, validation messages, the reference cache, each
visitor's own model choice, stopping a run, and the no-models start.
"""

import socket
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from gradio_client import Client, handle_file

from gpt_sovits import weights
from gpt_sovits.server import launch
from gpt_sovits.service import EngineHolder
from gpt_sovits.ui import VoiceCloningUI
from gpt_sovits.ui.layout import ASSETS_DIR

RATE = 32000
REFERENCE_TEXT = "今天天气很好，我们一起去公园散步吧。"


def arrange_weights(tiny_checkpoints: Path, root: Path, versions=("v2", "v1")) -> Path:
    """Link the tiny set into the official layout, as a download would leave it.

    v2 and v1 by default: they need no speaker encoder, whose full-size network takes seconds per clip on a CPU.
    """
    official = {model.version: model for model in weights.OFFICIAL_MODELS}
    links = {
        weights.HUBERT_DIR: "hubert",
        weights.BERT_DIR: "bert",
        weights.SPEAKER_ENCODER: "sv/pretrained_eres2netv2w24s4ep4.ckpt",
    }
    for version in versions:
        links[official[version].t2s] = f"{version}/t2s.ckpt"
        links[official[version].sovits] = f"{version}/sovits.pth"
    for name, source in links.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(tiny_checkpoints / source)
    return root


def speech_like(seconds: float, seed: int, rate: int = RATE) -> np.ndarray:
    """Noise shaped into syllable-like bursts (4 per second): enough for the checks and the tiny models."""
    rng = np.random.default_rng(seed)
    time_axis = np.arange(int(seconds * rate)) / rate
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * time_axis)
    return (0.2 * envelope * rng.standard_normal(len(time_axis))).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    soundfile.write(path, samples, rate)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(weights_dir: Path, scratch: Path, *options: str):
    """Create the server (UI + API, voices under `scratch`) and serve it on 127.0.0.1 in a thread of this process.

    Returns (the UI's handlers, the running server: `.close()` stops it, its URL)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADIO_EXAMPLES_CACHE", str(scratch / "examples"))
        patch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
        arguments = ["--weights-dir", str(weights_dir), "--voices-dir", str(scratch / "voices"), "--concurrency", "2"]
        server = launch.create(launch.parse_args([*arguments, *options]))
        running = launch.Running(server, "127.0.0.1", free_port())
    return server.ui, running, running.url


@pytest.fixture(scope="module")
def weights_dir(tiny_checkpoints, tmp_path_factory) -> Path:
    return arrange_weights(tiny_checkpoints, tmp_path_factory.mktemp("weights"))


@pytest.fixture(scope="module")
def server(weights_dir, tmp_path_factory):
    app, demo, url = start(weights_dir, tmp_path_factory.mktemp("examples"))
    yield app, url
    demo.close()


@pytest.fixture(scope="module")
def client(server) -> Client:
    return Client(server[1], verbose=False)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    unreadable = folder / "not_audio.wav"
    unreadable.write_text("this is not a wav file")
    return {
        "reference": write_wav(folder / "reference.wav", speech_like(4.0, seed=1)),
        "other_reference": write_wav(folder / "other.wav", speech_like(4.5, seed=2)),
        "short": write_wav(folder / "short.wav", speech_like(2.0, seed=3)),
        "silent": write_wav(folder / "silent.wav", np.zeros(4 * RATE, dtype=np.float32)),
        "unreadable": unreadable,
    }


def request(reference: Path, **changes) -> dict:
    arguments = dict(
        reference_audio=handle_file(str(reference)),
        reference_text=REFERENCE_TEXT,
        reference_language="all_zh",
        reference_free=False,
        extra_reference_audio=[],
        target_text="你好，世界。",
        target_language="all_zh",
        cut_method="cut1",
        top_k=15,
        top_p=1.0,
        temperature=1.0,
        repetition_penalty=1.35,
        speed=1.0,
        pause_seconds=0.3,
        seed=7,
        streaming="sentence",
        t2s_model=None,  # the engine's default models
        sovits_model=None,
    )
    arguments.update(changes)
    return arguments


def synthesize(client: Client, reference: Path, **changes) -> tuple[np.ndarray, int, str, float]:
    started = time.perf_counter()
    _, audio_path, status, *_ = client.predict(**request(reference, **changes), api_name="/synthesize")
    elapsed = time.perf_counter() - started
    samples, sample_rate = soundfile.read(audio_path, dtype="int16")
    return samples, sample_rate, status, elapsed


def test_speaks_and_reuses_the_reference(client, clips):
    first, rate, first_status, first_seconds = synthesize(client, clips["reference"])
    second, _, second_status, second_seconds = synthesize(client, clips["reference"])
    print(f"\nfirst request {first_seconds:.2f} s, cached request {second_seconds:.2f} s")
    print(f"first status: {first_status}\nsecond status: {second_status}")

    assert rate == 32000
    assert 0.3 < len(first) / rate < 65  # at least the 0.3 s pause, at most the 1500-token cap
    assert "seed 7" in first_status and "reference computed" in first_status
    assert "reference reused from cache" in second_status
    np.testing.assert_array_equal(first, second)  # fixed seed: the same audio


def test_different_references_never_share_cached_work(client, clips):
    synthesize(client, clips["reference"])
    _, _, other_status, _ = synthesize(client, clips["other_reference"])
    assert "reference computed" in other_status
    _, _, new_text_status, _ = synthesize(client, clips["reference"], reference_text="今天天气很好。我们去散步。")
    assert "reference computed" in new_text_status  # same clip, other text: other prompt phones
    extra_clip = [handle_file(str(clips["other_reference"]))]
    _, _, extra_status, _ = synthesize(client, clips["reference"], extra_reference_audio=extra_clip)
    assert "reference computed" in extra_status  # same clip and text, other timbre clips


def test_concurrent_requests_do_not_mix_voices(client, clips):
    """Two voices at once (the queue runs 2 in parallel) give exactly what each gives alone."""
    alone = {name: synthesize(client, clips[name])[0] for name in ("reference", "other_reference")}
    jobs = {name: client.submit(**request(clips[name]), api_name="/synthesize") for name in alone}
    for name, job in jobs.items():
        _, audio_path, *_ = job.result(timeout=120)
        np.testing.assert_array_equal(soundfile.read(audio_path, dtype="int16")[0], alone[name])


@pytest.mark.parametrize(
    "clip, changes, message",
    [
        ("short", {}, "at least 3 s"),
        ("silent", {}, "silent"),
        ("unreadable", {}, "Cannot read audio file"),
        ("reference", {"target_text": "   "}, "text to synthesize is empty"),
        ("reference", {"target_text": "好" * 1001}, "limit is 1000"),
        ("reference", {"top_k": 0}, "less than minimum value 1"),  # the slider's own bound check
        ("reference", {"seed": 10**20}, "'seed' must be a whole number from 0 to"),
    ],
)
def test_each_mistake_gets_its_message(client, clips, clip, changes, message):
    with pytest.raises(Exception, match=message):
        client.predict(**request(clips[clip], **changes), api_name="/synthesize")


def test_implausible_reference_text_is_a_warning_not_an_error(client, clips):
    _, _, status, _ = synthesize(client, clips["reference"], reference_text="你好")
    assert "too short" in status


def test_empty_reference_text_means_reference_free(client, clips):
    samples, rate, status, _ = synthesize(client, clips["reference"], reference_text="")
    assert len(samples) / rate > 0.3
    assert "reference-free" in status


def test_each_visitor_uses_their_own_models(server, clips):
    """Two visitors at once, one on v1 and one on the default v2: each hears their own model, the status says which,
    and neither choice changes what the other (or a third, later visitor) gets."""
    _, url = server
    v1 = weights.OFFICIAL_MODELS[3]
    visitor_v1, visitor_v2 = Client(url, verbose=False), Client(url, verbose=False)
    alone_v2 = synthesize(visitor_v2, clips["reference"])[0]
    jobs = [
        visitor_v1.submit(**request(clips["reference"], t2s_model=v1.t2s, sovits_model=v1.sovits), api_name="/synthesize"),
        visitor_v2.submit(**request(clips["reference"]), api_name="/synthesize"),
    ]
    (_, v1_path, v1_status, *_), (_, v2_path, v2_status, *_) = [job.result(timeout=120) for job in jobs]
    assert "models v1 (" in v1_status and "models v2 (" in v2_status
    np.testing.assert_array_equal(soundfile.read(v2_path, dtype="int16")[0], alone_v2)
    assert not np.array_equal(soundfile.read(v1_path, dtype="int16")[0], alone_v2)
    later, _, later_status, _ = synthesize(Client(url, verbose=False), clips["reference"])
    assert "models v2 (" in later_status
    np.testing.assert_array_equal(later, alone_v2)


def test_model_choice_describes_the_pair(client):
    v1 = weights.OFFICIAL_MODELS[3]
    t2s_update, sovits_update, summary, *_ = client.predict(None, None, api_name="/refresh_models")
    assert "Using **v2**" in summary and sovits_update["value"] == weights.OFFICIAL_MODELS[2].sovits
    assert v1.t2s in [name for _, name in t2s_update["choices"]]


def test_only_listed_model_files_can_be_used(client, clips):
    with pytest.raises(Exception, match="not one of the listed model files"):
        client.predict(**request(clips["reference"], sovits_model="/etc/passwd"), api_name="/synthesize")


def test_stop_ends_the_run_and_frees_the_cpu(server, clips):
    """A long text is stopped after its first sentence plays: the run ends within a moment, no more sentences."""
    _, url = server
    visitor = Client(url, verbose=False)
    long_text = "。".join(["今天天气很好，我们一起去公园散步吧"] * 12) + "。"
    job = visitor.submit(**request(clips["reference"], target_text=long_text, cut_method="cut5"), api_name="/synthesize")
    while "Playing sentence" not in str(job.outputs()[-1] if job.outputs() else ""):
        time.sleep(0.05)
        assert not job.done(), job.outputs()
    stopped = time.perf_counter()
    job.cancel()
    while not job.done():
        time.sleep(0.02)
    assert time.perf_counter() - stopped < 2.0


def test_an_unusable_device_stops_the_start_with_the_reason(tmp_path):
    with pytest.raises(SystemExit, match="Unknown device 'tpu': use auto, cpu, cuda or cuda:N"):
        launch.create(launch.parse_args(["--weights-dir", str(tmp_path), "--device", "tpu"]))


def test_offline_download_is_a_clear_error(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("Network is unreachable")

    monkeypatch.setattr("huggingface_hub.snapshot_download", offline)
    ui = VoiceCloningUI(EngineHolder(tmp_path / "empty"))
    assert ui.holder.engine is None and "model files are missing" in ui.no_models_summary()
    with pytest.raises(Exception, match="Could not download s1v3.ckpt.*cannot be reached"):
        ui.download("v2ProPlus", None, None)


def test_starts_without_models_then_downloads_them(tmp_path, tiny_checkpoints, monkeypatch):
    """No models: the app still serves, says which files go where; the Download button fills the folder."""
    tiny_layout = arrange_weights(tiny_checkpoints, tmp_path / "hub", versions=("v2",))

    def fake_snapshot_download(repo_id, allow_patterns, local_dir):  # the Hub, offline: copy links from tiny_layout
        name = allow_patterns[0].rstrip("*").rstrip("/")
        (Path(local_dir) / name).parent.mkdir(parents=True, exist_ok=True)
        (Path(local_dir) / name).symlink_to((tiny_layout / name).resolve())

    monkeypatch.setattr("huggingface_hub.snapshot_download", fake_snapshot_download)
    ui, demo, url = start(tmp_path / "empty", tmp_path / "examples")
    try:
        assert ui.holder.engine is None
        client = Client(url, verbose=False)
        reference = ASSETS_DIR / "reference_zh.wav"
        missing = r"(?s)Model files are missing.*v2Pro/s2Gv2ProPlus\.pth.*chinese-hubert-base/"
        with pytest.raises(Exception, match=missing):
            client.predict(**request(reference), api_name="/synthesize")

        t2s_update, sovits_update, summary, *_ = client.predict("v2", None, None, api_name="/download_models")
        assert "Using **v2**" in summary
        v2 = weights.OFFICIAL_MODELS[2]
        assert (t2s_update["value"], sovits_update["value"]) == (v2.t2s, v2.sovits)
        _, _, status, *_ = client.predict(**request(reference), api_name="/synthesize")
        assert "Spoke 1 segment" in status
    finally:
        demo.close()


def test_result_is_named_and_encoded_as_asked(client, clips):
    _, audio_path, status, seed_used, *_ = client.predict(
        **request(clips["reference"], output_format="flac"), api_name="/synthesize"
    )
    assert Path(audio_path).name == "reference_你好_世界_seed7.flac" and seed_used == 7
    assert soundfile.info(audio_path).format == "FLAC"
