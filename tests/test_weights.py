"""The weights folder: listing, readable labels, default choice, missing-file messages, download (hub mocked)."""

from pathlib import Path

import pytest

from gpt_sovits import weights
from gpt_sovits.messages import render
from gpt_sovits.weights import WeightsError


def touch(root: Path, name: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def official_layout(root: Path, version: str = "v2ProPlus") -> Path:
    for name in weights.files_for_version(version):
        if name.endswith("/"):
            touch(root, name + "config.json")
        else:
            touch(root, name)
    return root


def test_listing_labels_official_files_readably_and_own_files_by_path(tmp_path):
    official_layout(tmp_path, "v2ProPlus")
    official_layout(tmp_path, "v2")
    touch(tmp_path, "my_voice/my_voice-e15.ckpt")
    touch(tmp_path, "my_voice/my_voice_e8_s200.pth")
    touch(tmp_path, "v2Pro/s2Dv2ProPlus.pth")  # discriminator: training only
    touch(tmp_path, ".cache/huggingface/download/s1v3.ckpt")  # hub download cache

    t2s_labels = [model.label for model in weights.list_t2s_models(tmp_path)]
    sovits_labels = [model.label for model in weights.list_sovits_models(tmp_path)]

    assert t2s_labels == [
        "Official GPT for v2Pro / v2ProPlus / v3 / v4 (s1v3.ckpt)",
        "Official GPT v2 (s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt)",
        "my_voice/my_voice-e15.ckpt",
    ]  # the speaker encoder (sv/*.ckpt) is not a GPT model
    assert sovits_labels == [
        "Official SoVITS v2ProPlus (s2Gv2ProPlus.pth)",
        "Official SoVITS v2 (s2G2333k.pth)",
        "my_voice/my_voice_e8_s200.pth",
    ]
    assert render(t2s_labels[1], "zh") == "官方 GPT v2（s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt）"
    assert render(t2s_labels[2], "zh") == "my_voice/my_voice-e15.ckpt"  # a file name is shown as it is


def test_default_is_newest_complete_official_pair(tmp_path):
    official_layout(tmp_path, "v2")
    touch(tmp_path, "s1v3.ckpt")  # v2ProPlus GPT without its SoVITS: incomplete
    assert weights.default_models(tmp_path) == (
        tmp_path / weights.OFFICIAL_MODELS[2].t2s,
        tmp_path / weights.OFFICIAL_MODELS[2].sovits,
    )
    official_layout(tmp_path, "v2ProPlus")
    assert weights.default_models(tmp_path) == (tmp_path / "s1v3.ckpt", tmp_path / "v2Pro/s2Gv2ProPlus.pth")


def test_default_falls_back_to_own_models(tmp_path):
    t2s = touch(tmp_path, "mine/a.ckpt")
    sovits = touch(tmp_path, "mine/a.pth")
    assert weights.default_models(tmp_path) == (t2s, sovits)


def test_resolve_gives_every_path_and_accepts_relative_names(tmp_path):
    official_layout(tmp_path, "v2ProPlus")
    own = touch(tmp_path, "mine/voice.pth")
    resolved = weights.resolve_weights(tmp_path, sovits=Path("mine/voice.pth"))
    assert resolved.t2s == tmp_path / "s1v3.ckpt"
    assert resolved.sovits == own
    assert resolved.hubert_dir == tmp_path / "chinese-hubert-base"
    assert resolved.bert_dir == tmp_path / "chinese-roberta-wwm-ext-large"
    assert resolved.speaker_encoder == tmp_path / weights.SPEAKER_ENCODER


def test_empty_folder_says_what_to_put_where(tmp_path):
    with pytest.raises(WeightsError) as error:
        weights.resolve_weights(tmp_path)
    message = str(error.value)
    assert "GPT model" in message and "SoVITS model" in message and "chinese-hubert-base/" in message
    assert "python -m gpt_sovits download" in message
    assert str(tmp_path / "v2Pro/s2Gv2ProPlus.pth") in message


def test_named_file_that_does_not_exist(tmp_path):
    official_layout(tmp_path)
    with pytest.raises(WeightsError, match="nope.pth does not exist"):
        weights.resolve_weights(tmp_path, sovits=Path("nope.pth"))


def test_named_folder_is_not_called_missing(tmp_path):
    official_layout(tmp_path)
    (tmp_path / "voices").mkdir()
    with pytest.raises(WeightsError, match="voices is a folder, not a model file"):
        weights.resolve_weights(tmp_path, sovits=Path("voices"))


def test_download_fetches_each_file_into_place(tmp_path, monkeypatch):
    requested = []

    def fake_snapshot_download(repo_id, allow_patterns, local_dir):
        assert repo_id == "lj1995/GPT-SoVITS"
        (pattern,) = allow_patterns
        requested.append(pattern)
        official_path = pattern.rstrip("*")
        touch(Path(local_dir), official_path + "config.json" if official_path.endswith("/") else official_path)
        return str(local_dir)

    monkeypatch.setattr("huggingface_hub.snapshot_download", fake_snapshot_download)
    messages = []
    resolved = weights.download("v2ProPlus", tmp_path, progress=lambda *message: messages.append(message))

    assert requested == [
        "s1v3.ckpt",
        "v2Pro/s2Gv2ProPlus.pth",
        "chinese-hubert-base/*",
        "chinese-roberta-wwm-ext-large/*",
        "sv/pretrained_eres2netv2w24s4ep4.ckpt",
    ]
    assert resolved.sovits == tmp_path / "v2Pro/s2Gv2ProPlus.pth"
    assert resolved.speaker_encoder == tmp_path / weights.SPEAKER_ENCODER
    assert messages[0][0] == 0.0 and messages[-1][0] == 1.0
    assert [fraction for fraction, _ in messages] == sorted(fraction for fraction, _ in messages)


def test_download_offline_is_a_clear_error(tmp_path, monkeypatch):
    from huggingface_hub.errors import LocalEntryNotFoundError

    def offline(*args, **kwargs):
        raise LocalEntryNotFoundError("Connection error, and the file is not in the local cache.")

    monkeypatch.setattr("huggingface_hub.snapshot_download", offline)
    with pytest.raises(WeightsError) as error:
        weights.download("v2", tmp_path)
    assert "Could not download" in str(error.value) and "network" in str(error.value)
    assert "s2G2333k.pth" in str(error.value)


def test_unknown_version(tmp_path):
    with pytest.raises(WeightsError, match="v2ProPlus, v2Pro, v2, v1"):
        weights.download("v9", tmp_path)


def test_v3_v4_downloads_bring_their_vocoders(tmp_path, monkeypatch):
    assert weights.files_for_version("v3") == [
        "s1v3.ckpt", "s2Gv3.pth", "chinese-hubert-base/", "chinese-roberta-wwm-ext-large/",
        "models--nvidia--bigvgan_v2_24khz_100band_256x/",
    ]
    assert weights.files_for_version("v4")[1:2] + weights.files_for_version("v4")[-1:] == [
        "gsv-v4-pretrained/s2Gv4.pth", "gsv-v4-pretrained/vocoder.pth",
    ]
    official_layout(tmp_path, "v2ProPlus")
    official_layout(tmp_path, "v4")
    # v2ProPlus stays the default when both are there; the v4 vocoder is not listed as a SoVITS model.
    assert weights.default_models(tmp_path)[1] == tmp_path / "v2Pro/s2Gv2ProPlus.pth"
    assert [model.label for model in weights.list_sovits_models(tmp_path)] == [
        "Official SoVITS v2ProPlus (s2Gv2ProPlus.pth)", "Official SoVITS v4 (s2Gv4.pth)",
    ]


def test_v3_v4_companions_and_lora_bases(tmp_path):
    assert weights.lora_base_paths(tmp_path) == {
        "v3": tmp_path / "s2Gv3.pth", "v4": tmp_path / "gsv-v4-pretrained/s2Gv4.pth",
    }
    with pytest.raises(weights.MissingCompanionError) as error:
        weights.v3_v4_companions(tmp_path, "v3")
    assert "models--nvidia--bigvgan_v2_24khz_100band_256x/" in str(error.value)
    assert "download --version v3" in str(error.value)
    official_layout(tmp_path, "v3")
    touch(tmp_path, "models--nvidia--bigvgan_v2_24khz_100band_256x/bigvgan_generator.pt")
    assert weights.v3_v4_companions(tmp_path, "v3") == (tmp_path / weights.BIGVGAN_DIR, None)
    for name in weights.SUPER_RESOLUTION_FILES:
        touch(tmp_path, f"{weights.SUPER_RESOLUTION_DIR}/{name}")
    assert weights.v3_v4_companions(tmp_path, "v3").super_resolution == tmp_path / weights.SUPER_RESOLUTION_DIR
    with pytest.raises(weights.MissingCompanionError, match="gsv-v4-pretrained/vocoder.pth"):
        weights.v3_v4_companions(tmp_path, "v4")


def test_download_that_fetches_nothing_says_the_hub_was_not_reached(tmp_path, monkeypatch):
    """Offline, huggingface_hub can return an existing folder (weights/ ships a README) without fetching anything."""
    (tmp_path / "README.md").write_text("put models here")
    monkeypatch.setattr("huggingface_hub.snapshot_download", lambda repo_id, allow_patterns, local_dir: str(local_dir))
    with pytest.raises(WeightsError) as error:
        weights.download("v2", tmp_path)
    message = str(error.value)
    assert "cannot be reached" in message and "gsv-v2final-pretrained/s2G2333k.pth" in message
    assert "Download button" not in message and str(tmp_path.parent) not in message
