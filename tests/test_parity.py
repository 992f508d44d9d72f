"""Stage-by-stage parity with the official GPT-SoVITS implementation.

Each vector case (tests/data/vectors, plus $GPT_SOVITS_EXTRA_VECTORS) is a recorded run of the official web UI on
tiny random checkpoints, with every intermediate array kept. Every stage is run in isolation from the recorded
inputs of that stage, so a failure names the first module that disagrees:

    reference_audio  the reference WAV file              -> HuBERT input (soxr, 16 kHz, padded), spectrogram,
                                                            16 kHz speaker-encoder audio (v2Pro*)
    hubert           reference audio at 16 kHz (padded)  -> HuBERT last hidden state
    prompt_codes     HuBERT features                     -> SoVITS quantizer codes (the prompt tokens)
    bert             segment texts + word2ph             -> BERT token ids and the [1024, phones] features for T2S
    t2s              phone ids, BERT features, prompt    -> greedy tokens, stop step, logits
    speaker          16 kHz reference audio              -> Kaldi fbank and ERes2NetV2 embedding (v2Pro*)
    sovits_decode    spectrogram, speaker emb, codes     -> timbre embedding, encoder, flow, waveform (recorded noise)
    end_to_end       a WAV file + phones                 -> the engine's final waveform (its own noise from the seed)

Tolerances: integer arrays (codes, tokens, ids, steps) must be identical; float arrays within the bound that
tests/tolerances.py gives each (scale-aware: a fraction of the array's largest value; see tolerance_sweep.py).
The run is single-threaded, as the vectors were recorded. Results are collected in the `parity_results` fixture
(see conftest.py) and written as JSON when $GPT_SOVITS_PARITY_REPORT is set.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from conftest import load_case, sampling_args, tiny_checkpoints_for, v34_vector_cases, vector_cases
from probes import sovits_stages
from tolerances import allowed_error, max_abs_error, tolerance_for

OUTPUT_RATE = 32000
PAUSE_SECONDS = 0.3  # all cases: pause_second = 0.3, appended as zeros to the output
HUBERT_PADDING = 9600  # zeros upstream appends to the 16 kHz HuBERT input (int(32000 * 0.3))
NOISE_SCALE = 0.5

# stage -> the vector array whose presence says the stage applies to a case (e.g. no HuBERT when reference-free)
STAGE_MARKER_ARRAY = {
    "reference_audio": "refer_spec",
    "hubert": "hubert_last_hidden_state",
    "prompt_codes": "extract_latent_codes",
    "bert": "t2s_bert",
    "t2s": "t2s_y",
    "speaker": "sv_emb",
    "sovits_decode": "flow_z",
    "end_to_end": "output_wav_float",
}

# Vector arrays the SoVITS stage must reproduce through its trace (those present in the case).
SOVITS_TRACE_ARRAYS = (
    "ge_ref_enc",
    "sv_emb_proj",
    "ge_after_prelu",
    "ge_512",
    "enc_p_ge_in",
    "enc_p_m_p",
    "enc_p_logs_p",
    "enc_p_y_mask",
    "flow_g",
    "flow_z",
)


def _sidecar_arrays(case) -> set[str]:
    return set(json.loads(case.sidecar_path.read_text(encoding="utf-8"))["arrays"])


# The stages v3/v4 cases share with the others (their own stages are in test_v34.py).
SHARED_WITH_V3_V4 = ("hubert", "t2s")


def _parameters():
    params = []
    for case in vector_cases() + v34_vector_cases():
        present = _sidecar_arrays(case)
        for stage, marker in STAGE_MARKER_ARRAY.items():
            if marker in present and (not case.is_v3_v4 or stage in SHARED_WITH_V3_V4):
                params.append(pytest.param(case, stage, id=f"{case.name}/{stage}"))
    return params


# ----------------------------------------------------------------------------------------------------------------
# Comparing arrays


def _to_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


class StageCheck:
    """Compares arrays of one stage against the vector, records every comparison, and fails at the end."""

    def __init__(self, record: dict):
        self.record = record  # the stage's entry in the parity report
        self.record.setdefault("arrays", {})
        self.problems: list[str] = []

    def compare(self, name: str, actual, expected) -> None:
        actual, expected = _to_numpy(actual), np.asarray(expected)
        entry = {"shape": list(expected.shape)}
        self.record["arrays"][name] = entry
        if actual.shape != expected.shape:
            # A batch dimension of 1 more or less is a convention, not an error; anything else is.
            if actual.size == expected.size and np.squeeze(actual).shape == np.squeeze(expected).shape:
                actual = actual.reshape(expected.shape)
            else:
                entry.update(ok=False, actual_shape=list(actual.shape), max_abs_error=None)
                self.problems.append(f"{name}: shape {list(actual.shape)} != expected {list(expected.shape)}")
                return
        if expected.dtype.kind in "iub":
            if actual.size and actual.dtype.kind not in "iub":
                entry.update(ok=False, integer=True, equal=False, mismatches=int(actual.size))
                self.problems.append(f"{name}: {actual.dtype} values where the official ones are integers")
                return
            equal = bool(np.array_equal(actual, expected))
            mismatches = int(np.count_nonzero(actual != expected))
            entry.update(ok=equal, integer=True, equal=equal, mismatches=mismatches)
            if not equal:
                first = int(np.flatnonzero(actual.reshape(-1) != expected.reshape(-1))[0])
                self.problems.append(f"{name}: {mismatches} integer mismatches, first at flat index {first}")
            return
        error, allowed = max_abs_error(actual, expected), allowed_error(name, expected)
        ok = bool(np.isfinite(error) and error <= allowed)
        scale = float(np.max(np.abs(expected))) if expected.size else 0.0
        entry.update(ok=ok, integer=False, max_abs_error=error, max_abs_expected=scale, allowed_error=allowed)
        if not ok:
            self.problems.append(f"{name}: max abs error {error:.3e} > allowed {allowed:.3e} "
                                 f"({tolerance_for(name)}, values up to {scale:.3g})")

    def compare_value(self, name: str, actual, expected) -> None:
        """A non-array fact (e.g. the stop reason) that must be equal."""
        ok = actual == expected
        self.record["arrays"][name] = {"ok": ok, "actual": actual, "expected": expected}
        if not ok:
            self.problems.append(f"{name}: {actual!r} != expected {expected!r}")

    def compare_top_ids(self, name: str, actual_ids, expected_ids, expected_values) -> None:
        """Top-k ids must match wherever the ranking is decided by more than the values' tolerance (near-ties may
        legitimately swap)."""
        actual_ids, expected_ids = _to_numpy(actual_ids), np.asarray(expected_ids)
        values = np.asarray(expected_values, dtype=np.float64)
        if actual_ids.shape != expected_ids.shape:
            self.record["arrays"][name] = {"ok": False, "actual_shape": list(actual_ids.shape)}
            self.problems.append(f"{name}: shape {list(actual_ids.shape)} != expected {list(expected_ids.shape)}")
            return
        gap_before = np.full(values.shape, np.inf)
        gap_before[:, 1:] = values[:, :-1] - values[:, 1:]
        gap_after = np.full(values.shape, np.inf)
        gap_after[:, :-1] = values[:, :-1] - values[:, 1:]
        decided = np.minimum(gap_before, gap_after) > 2 * allowed_error("t2s_step_top8_values", values)
        mismatches = int(np.count_nonzero((actual_ids != expected_ids) & decided))
        self.record["arrays"][name] = {"ok": mismatches == 0, "integer": True, "mismatches": mismatches,
                                       "compared": int(decided.sum())}
        if mismatches:
            self.problems.append(f"{name}: {mismatches} clearly-ranked ids differ")

    def require_traced(self, trace: dict, names) -> None:
        missing = [name for name in names if name not in trace]
        if missing:
            self.record["missing_from_trace"] = missing
            self.problems.append(f"not recorded in trace: {', '.join(missing)}")

    def finish(self) -> None:
        compared = self.record["arrays"].values()
        float_errors = [a["max_abs_error"] for a in compared if a.get("max_abs_error") is not None]
        self.record["max_abs_error"] = max(float_errors) if float_errors else None  # worst float array of the stage
        self.record["integers_equal"] = all(a["ok"] for a in compared if a.get("integer"))
        self.record["status"] = "failed" if self.problems else "passed"
        self.record["problems"] = self.problems
        assert not self.problems, "\n".join(self.problems)


# ----------------------------------------------------------------------------------------------------------------
# Models, loaded once per checkpoint directory


def _version_dir(case, sidecar) -> Path:
    return tiny_checkpoints_for(case) / sidecar["model_version"]


@lru_cache(maxsize=None)
def _hubert(model_dir: Path):
    from gpt_sovits.models.features import HubertEncoder

    return HubertEncoder.from_dir(model_dir)


@lru_cache(maxsize=None)
def _bert(model_dir: Path):
    from gpt_sovits.models.features import BertEncoder

    return BertEncoder.from_dir(model_dir)


@lru_cache(maxsize=None)
def _t2s(path: Path):
    from gpt_sovits.checkpoints import load_t2s_checkpoint
    from gpt_sovits.models.t2s import Text2Semantic

    return Text2Semantic.from_checkpoint(load_t2s_checkpoint(path))


@lru_cache(maxsize=None)
def _sovits(path: Path):
    from gpt_sovits.checkpoints import load_sovits_checkpoint
    from gpt_sovits.models.sovits import SoVITS

    return SoVITS.from_checkpoint(load_sovits_checkpoint(path))


@lru_cache(maxsize=None)
def _speaker(path: Path):
    from gpt_sovits.models.speaker import SpeakerEncoder

    return SpeakerEncoder.from_file(path)


@lru_cache(maxsize=2)
def _engine(version_dir: Path, tiny_dir: Path):
    from gpt_sovits.engine import Engine, ModelPaths

    speaker_file = tiny_dir / "sv" / "pretrained_eres2netv2w24s4ep4.ckpt"
    return Engine(
        ModelPaths(
            t2s=version_dir / "t2s.ckpt",
            sovits=version_dir / "sovits.pth",
            hubert_dir=tiny_dir / "hubert",
            bert_dir=tiny_dir / "bert",
            speaker_encoder=speaker_file if version_dir.name.startswith("v2Pro") else None,
        )
    )


# ----------------------------------------------------------------------------------------------------------------
# Case inputs


def _reference_audio_float(arrays) -> np.ndarray:
    """The reference WAV as float32 [samples, channels], as a PCM16 reader gives it."""
    return arrays["ref_wav_int16"].astype(np.float32) / 32768.0


def _hubert_input(arrays) -> np.ndarray:
    """The recorded 16 kHz padded HuBERT input; not stored when the file already was 16 kHz mono (then derived)."""
    if "hubert_input_wav16k_padded" in arrays:
        return arrays["hubert_input_wav16k_padded"]
    reference = _reference_audio_float(arrays)
    assert int(arrays["ref_sr"]) == 16000 and reference.shape[1] == 1, "HuBERT input not stored and not derivable"
    return np.concatenate([reference[:, 0], np.zeros(HUBERT_PADDING, dtype=np.float32)])


def _speaker_audio(arrays) -> np.ndarray:
    """16 kHz speaker-encoder input of a v2Pro* case (recorded as `spepc_audio`)."""
    return arrays["spepc_audio"]


def _text_runs(segments, symbol_version: str):
    from gpt_sovits.text.symbols import phones_to_ids
    from gpt_sovits.text.types import TextRun

    return [
        TextRun(
            language=segment["lang"],
            normalized_text=segment["norm_text"],
            phones=tuple(segment["phones"]),
            phone_ids=phones_to_ids(segment["phones"], symbol_version),
            word2ph=tuple(segment["word2ph"]) if segment.get("word2ph") else None,
        )
        for segment in segments
    ]


def _ref_free(sidecar) -> bool:
    """v3/v4 sidecars keep it with the other get_tts_wav arguments (always False: upstream forces it)."""
    return sidecar["ref_free"] if "ref_free" in sidecar else sidecar["get_tts_wav_args"]["ref_free"]


def _expected_steps(sidecar, arrays) -> np.ndarray:
    """Upstream's `idx`, the loop index at which generation stopped. Reference-free, upstream returns 0 instead
    (a sentinel its caller relies on); the true last step is then the number of traced steps minus one."""
    if _ref_free(sidecar):
        return np.array(len(arrays["t2s_step_eos_logit"]) - 1)
    return arrays["t2s_idx"]


def _bert_segments(sidecar) -> list[dict]:
    """Segments in the order upstream calls BERT: prompt first (unless reference-free), then target."""
    prompt = [] if _ref_free(sidecar) else sidecar["prompt_segments"]
    return list(prompt) + list(sidecar["target_segments"])


# ----------------------------------------------------------------------------------------------------------------
# Stages


def _write_reference_wav(arrays, tmp_path) -> Path:
    """The case's reference clip as the PCM16 WAV file the official run read."""
    path = tmp_path / "reference.wav"
    soundfile.write(path, arrays["ref_wav_int16"], int(arrays["ref_sr"]), subtype="PCM_16")
    return path


def stage_reference_audio(case, sidecar, arrays, check: StageCheck, tmp_path):
    from gpt_sovits import audio

    clip = audio.load_audio(_write_reference_wav(arrays, tmp_path))
    if not _ref_free(sidecar):  # reference-free runs never hear the clip through HuBERT
        padded = np.concatenate([audio.hubert_input(clip), np.zeros(HUBERT_PADDING, dtype=np.float32)])
        check.compare("hubert_input_wav16k_padded", padded, _hubert_input(arrays))
    is_pro = sidecar["model_version"].startswith("v2Pro")
    inputs = audio.reference_spectrogram_inputs(clip, with_speaker_audio=is_pro)
    check.compare("refer_spec", inputs.spectrogram, arrays["refer_spec"])
    if is_pro:
        check.compare("spepc_audio", inputs.audio_16k, arrays["spepc_audio"])


def stage_hubert(case, sidecar, arrays, check: StageCheck, tmp_path):
    tiny = tiny_checkpoints_for(case)
    features = _hubert(tiny / "hubert")(torch.from_numpy(_hubert_input(arrays)))
    check.compare("hubert_last_hidden_state", features, arrays["hubert_last_hidden_state"])


def stage_prompt_codes(case, sidecar, arrays, check: StageCheck, tmp_path):
    sovits = _sovits(_version_dir(case, sidecar) / "sovits.pth")
    codes = sovits.extract_prompt_codes(torch.from_numpy(arrays["hubert_last_hidden_state"]))  # [F, 768] in
    check.compare("extract_latent_codes", codes, arrays["extract_latent_codes"])


def stage_bert(case, sidecar, arrays, check: StageCheck, tmp_path):
    bert = _bert(tiny_checkpoints_for(case) / "bert")
    features, call_index = [], 0
    for segment in _bert_segments(sidecar):
        if segment["lang"] == "zh":
            check.compare(f"bert_input_ids_{call_index}", bert.token_ids(segment["norm_text"]),
                          arrays[f"bert_input_ids_{call_index}"])
            call_index += 1
            features.append(bert.encode(segment["norm_text"], list(segment["word2ph"])))
        else:  # upstream gives non-Chinese phones zero features
            features.append(torch.zeros(len(segment["phones"]), 1024))
    check.compare("t2s_bert", torch.cat(features).T, arrays["t2s_bert"])  # the vectors keep [1024, phones]


def stage_t2s(case, sidecar, arrays, check: StageCheck, tmp_path):
    from gpt_sovits.models.t2s import SamplingParams, T2SInput
    from probes import decode_with_trace

    t2s = _t2s(_version_dir(case, sidecar) / "t2s.ckpt")
    prompt = torch.from_numpy(arrays["t2s_prompt"][0])
    sampling = SamplingParams(**sampling_args(sidecar), early_stop_num=t2s.config.early_stop_num)
    t2s_input = T2SInput(
        torch.from_numpy(arrays["t2s_all_phoneme_ids"]),
        torch.from_numpy(arrays["t2s_bert"]).T,  # the vectors store [1024, phones]
        prompt if prompt.numel() else None,
        # upstream draws from torch's global RNG right after torch.manual_seed(<this>); a fresh generator with the
        # same seed gives the same draws (irrelevant for greedy cases, exact for sampled ones)
        seed=int(sidecar["torch_manual_seed_before_get_tts_wav"]),
    )
    output, trace = decode_with_trace(t2s, t2s_input, sampling)
    check.compare("t2s_y", torch.cat([prompt, output.tokens]), arrays["t2s_y"])
    check.compare("t2s_idx", torch.tensor(output.steps), _expected_steps(sidecar, arrays))
    expected_stop = {"EOS": "eos", "early_stop_num": "early_stop"}[sidecar["t2s"]["stopped_by"]]
    check.compare_value("stop_reason", output.stop_reason, expected_stop)

    logit_names = sorted(name for name in arrays if name.startswith("t2s_logits_step"))
    check.require_traced(trace, logit_names + ["t2s_step_top8_values", "t2s_step_eos_logit"])
    for name in logit_names + ["t2s_step_top8_values", "t2s_step_eos_logit"]:
        if name in trace:
            check.compare(name, trace[name], arrays[name])
    if "t2s_step_top8_ids" in trace:
        check.compare_top_ids("t2s_step_top8_ids", trace["t2s_step_top8_ids"], arrays["t2s_step_top8_ids"],
                              arrays["t2s_step_top8_values"])


def stage_speaker(case, sidecar, arrays, check: StageCheck, tmp_path):
    from gpt_sovits.models.speaker import kaldi_fbank

    speaker = _speaker(tiny_checkpoints_for(case) / "sv" / "pretrained_eres2netv2w24s4ep4.ckpt")
    wav16k = torch.from_numpy(_speaker_audio(arrays))
    check.compare("sv_fbank", kaldi_fbank(wav16k), arrays["sv_fbank"])
    check.compare("sv_emb", speaker(wav16k), arrays["sv_emb"])


def stage_sovits_decode(case, sidecar, arrays, check: StageCheck, tmp_path):
    sovits = _sovits(_version_dir(case, sidecar) / "sovits.pth")
    stages = sovits_stages(
        sovits,
        torch.from_numpy(arrays["refer_spec"])[None],
        torch.from_numpy(arrays["sv_emb"]) if "sv_emb" in arrays else None,
        codes=torch.from_numpy(arrays["decode_codes"][0, 0]),
        phone_ids=torch.from_numpy(arrays["decode_text"]),
        speed=float(sidecar["get_tts_wav_args"]["speed"]),
        noise_scale=NOISE_SCALE,
        noise=torch.from_numpy(arrays["decode_noise"])[None],  # the noise upstream drew, so only math is compared
    )
    expected_names = [name for name in SOVITS_TRACE_ARRAYS if name in arrays]
    check.require_traced(stages, expected_names)
    for name in expected_names:
        if name in stages:
            check.compare(name, stages[name], arrays[name])
    pause = int(OUTPUT_RATE * PAUSE_SECONDS)
    check.compare("decode_output", stages["decode_output"].reshape(-1), arrays["output_wav_float"][:-pause])
    check.compare("decode_out_max_abs", stages["decode_out_max_abs"], arrays["decode_out_max_abs"])


def stage_end_to_end(case, sidecar, arrays, check: StageCheck, tmp_path):
    """The engine's own path from a WAV file and phones: its tokens and its final waveform (noise from the seed)."""
    from gpt_sovits.settings import InferenceSettings

    tiny = tiny_checkpoints_for(case)
    engine = _engine(_version_dir(case, sidecar), tiny)
    reference_path = _write_reference_wav(arrays, tmp_path)
    symbol_version = sidecar["symbol_version"]
    settings = InferenceSettings(
        **sampling_args(sidecar),
        speed=float(sidecar["get_tts_wav_args"]["speed"]),
        pause_seconds=PAUSE_SECONDS,
        # the engine samples T2S from `seed` and draws the SoVITS noise from `seed + 1`
        seed=int(sidecar["sovits_decode"]["noise_seed"]) - 1,
        cut_method="cut0",
    )
    result = engine.synthesize_phonemized(
        reference_audio=reference_path,
        reference_runs=None if _ref_free(sidecar) else _text_runs(sidecar["prompt_segments"], symbol_version),
        target_runs=_text_runs(sidecar["target_segments"], symbol_version),
        settings=settings,
    )
    assert result.sample_rate == OUTPUT_RATE
    check.compare("decode_codes", result.sentences[0].tokens, arrays["decode_codes"])
    check.compare("output_wav_float", result.audio, arrays["output_wav_float"])


STAGES = {
    "reference_audio": stage_reference_audio,
    "hubert": stage_hubert,
    "prompt_codes": stage_prompt_codes,
    "bert": stage_bert,
    "t2s": stage_t2s,
    "speaker": stage_speaker,
    "sovits_decode": stage_sovits_decode,
    "end_to_end": stage_end_to_end,
}



@pytest.mark.parametrize("case, stage", _parameters())
def test_parity(case, stage, parity_results, single_thread, tmp_path):
    sidecar, arrays = load_case(case)
    record = parity_results.setdefault(case.name, {}).setdefault(stage, {"status": "error", "arrays": {}})
    record["source"] = case.source
    check = StageCheck(record)
    try:
        with torch.inference_mode():
            STAGES[stage](case, sidecar, arrays, check, tmp_path)
    except Exception as error:
        record["status"] = "error"
        record["error"] = f"{type(error).__name__}: {error}"
        raise
    check.finish()
