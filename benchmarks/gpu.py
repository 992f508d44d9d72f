"""The device path on a GPU: parity of float16 against float32, T2S tokens per second, and the paragraph's RTF.

    python benchmarks/gpu.py [--device cuda] [--dtype float16] [--out results.json] [--profile profile.txt] [--json]

Needs a CUDA machine (none is in CI; run it where one is lent). At the official model sizes with random weights
(real_size.py), each check on its own (one that fails reports its error and the others still run):
* t2s: decode speed at batch 1 (issue 11's target: >= 300 tokens/s) and batch 8, in `--dtype` and float32, each
  with the decode step replayed as a CUDA graph (the engine's way) and launched kernel by kernel; and greedy
  parity: the tokens and logits of the graphed and the eager step in float32 against the CPU's;
* waveform: the same request on the CPU in float32, on the device in float32, `--dtype` and bfloat16 (same seed,
  same tokens forced): float32 device against the CPU, and the others against float32 on the device (issue 11's
  bound: 1e-2 max abs);
* paragraph: the 10-sentence paragraph's real-time factor (target <= 0.05) and first audio, for a new voice and the
  same voice again, v2 at batch 8 and 1 and v2ProPlus at batch 8; the stage times; the device's peak memory.
`--profile FILE` writes torch.profiler tables of a few graphed and eager batch-1 decode steps.
`--device cpu --dtype bfloat16` runs the same checks on a CPU (slowly), which is how this script is tested.
"""

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import paragraph  # noqa: E402
import real_size  # noqa: E402
import t2s_speed  # noqa: E402

from gpt_sovits.engine import SynthesisRequest  # noqa: E402
from gpt_sovits.engine.model_set import Placement  # noqa: E402
from gpt_sovits.models.t2s import SamplingParams  # noqa: E402
from gpt_sovits.settings import InferenceSettings  # noqa: E402

SENTENCE = "春天来了，公园里的花都开了，小朋友们在草地上放风筝。"
GREEDY = SamplingParams(top_k=1, early_stop_num=-1)


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def placed_engine(version: str, placement: Placement):
    engine = real_size.random_engine(version)
    model_set = engine.model_set()
    synthesizer = model_set.synthesizer
    for module in (model_set.t2s, synthesizer.sovits, model_set.features.hubert.model, model_set.features.bert.bert):
        placement.apply(module)
    if synthesizer.speaker is not None:
        placement.apply(synthesizer.speaker.model)
    return engine


def waveform(engine, reference: Path) -> np.ndarray:
    request = SynthesisRequest(
        reference_audio=str(reference), reference_text=real_size.REFERENCE_TEXT, reference_language="all_zh",
        target_text=SENTENCE, target_language="all_zh", settings=InferenceSettings(seed=3, top_k=1),
    )  # fmt: skip
    return engine.synthesize(request).audio


# ----- T2S ----------------------------------------------------------------------------------------------------------


def t2s_model(placement: Placement, graphs: bool):
    model = placement.apply(t2s_speed.random_model(t2s_speed.OFFICIAL_SIZE))
    model.cuda_graphs = graphs
    return model


def tokens_per_second(model, device: str, batch: int, tokens: int = 200) -> float:
    inputs = [t2s_speed.sentence(t2s_speed.OFFICIAL_SIZE, index, tokens) for index in range(batch)]
    for _ in model.stream(inputs, t2s_speed.SAMPLING):  # warm-up: the same shapes, graphs captured once
        pass
    synchronize(device)
    started = time.perf_counter()
    generated = sum(len(step.tokens) for step in model.stream(inputs, t2s_speed.SAMPLING))
    synchronize(device)
    return round(generated / (time.perf_counter() - started), 1)


def greedy_run(model, tokens: int = 100) -> tuple[list[int], torch.Tensor]:
    row = t2s_speed.sentence(t2s_speed.OFFICIAL_SIZE, 0, tokens)
    generated, logits = [], []
    for step in model.stream([row], GREEDY):
        generated += step.tokens.values()
        logits.append(step.logits[0].float().cpu())
    return generated, torch.stack(logits)


def agreement(tokens: list[int], logits: torch.Tensor, reference_tokens: list[int], reference_logits: torch.Tensor):
    """How far two greedy runs agree: leading tokens equal, and the logits' largest difference over those steps
    relative to the largest logit (after a differing token the inputs differ, so the logits do too)."""
    same = next((index for index, (a, b) in enumerate(zip(tokens, reference_tokens)) if a != b), len(tokens))
    steps = min(same + 1, len(logits), len(reference_logits))
    scale = float(reference_logits[:steps].abs().max())
    difference = float((logits[:steps] - reference_logits[:steps]).abs().max())
    return {"equal_leading_tokens": same, "of": len(reference_tokens), "logits_max_rel": difference / scale}


def check_t2s(device: str, dtype: torch.dtype) -> dict:
    results = {}
    for precision in dict.fromkeys([dtype, torch.float32]):
        name = str(precision).removeprefix("torch.")
        for graphs in (True, False):
            model = t2s_model(Placement(device, precision), graphs)
            for batch in (1, 8):
                key = f"{name}_{'graphs' if graphs else 'eager'}_batch{batch}_tokens_per_s"
                results[key] = tokens_per_second(model, device, batch)
            del model
    cpu = greedy_run(t2s_model(Placement("cpu"), graphs=False))
    for graphs in (True, False):
        run = greedy_run(t2s_model(Placement(device), graphs))
        results[f"greedy_float32_{'graphs' if graphs else 'eager'}_vs_cpu"] = agreement(*run, *cpu)
    reduced = greedy_run(t2s_model(Placement(device, dtype), graphs=True))
    results[f"greedy_{str(dtype).removeprefix('torch.')}_graphs_vs_cpu_float32"] = agreement(*reduced, *cpu)
    return results


def profile_t2s(device: str, dtype: torch.dtype, path: Path) -> dict:
    """torch.profiler tables of 60 batch-1 decode steps, graphed and eager."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.startswith("cuda") else [])
    tables = []
    for graphs in (True, False):
        model = t2s_model(Placement(device, dtype), graphs)
        row = [t2s_speed.sentence(t2s_speed.OFFICIAL_SIZE, 0, 60)]
        for _ in model.stream(row, t2s_speed.SAMPLING):
            pass
        with profile(activities=activities) as profiler:
            for _ in model.stream(row, t2s_speed.SAMPLING):
                pass
            synchronize(device)
        for sort in ("self_cpu_time_total", "self_device_time_total" if len(activities) > 1 else "cpu_time_total"):
            table = profiler.key_averages().table(sort_by=sort, row_limit=25)
            tables.append(f"== graphs={graphs}, by {sort}\n{table}")
    path.write_text("\n\n".join(tables), encoding="utf-8")
    return {"written": str(path)}


# ----- the engine ---------------------------------------------------------------------------------------------------


def check_waveform(device: str, dtype: torch.dtype, reference: Path) -> dict:
    cpu = waveform(placed_engine("v2", Placement("cpu")), reference)
    full = waveform(placed_engine("v2", Placement(device)), reference)
    results = {"samples": len(full), "fp32_device_vs_cpu_max_abs": float(np.abs(full - cpu).max())
               if len(full) == len(cpu) else f"lengths differ: {len(full)} against {len(cpu)}"}  # fmt: skip
    for precision in dict.fromkeys([dtype, torch.bfloat16]):
        reduced = waveform(placed_engine("v2", Placement(device, precision)), reference)
        name = str(precision).removeprefix("torch.")
        results[f"{name}_vs_fp32_max_abs"] = (float(np.abs(reduced - full).max()) if len(reduced) == len(full)
                                              else f"lengths differ: {len(reduced)} against {len(full)}")  # fmt: skip
        results[f"{name}_finite"] = bool(np.isfinite(reduced).all())
    return results


def check_paragraph(device: str, dtype: torch.dtype, folder: Path) -> dict:
    results, voices = {}, iter(range(1, 100))
    for version, batch_size in (("v2", 8), ("v2", 1), ("v2ProPlus", 8)):
        engine = placed_engine(version, Placement(device, dtype))
        paragraph.synthesize(engine, str(real_size.speech_like_reference(folder, next(voices))), batch_size)  # warm-up
        new_voice = real_size.speech_like_reference(folder, next(voices))
        runs = {"new_voice": paragraph.synthesize(engine, str(new_voice), batch_size),
                "cached_voice": paragraph.synthesize(engine, str(new_voice), batch_size)}  # fmt: skip
        results[f"{version}_batch{batch_size}"] = runs
        del engine
    if device.startswith("cuda"):
        results["peak_device_memory_gb"] = round(torch.cuda.max_memory_allocated() / 1e9, 2)
    return results


def environment(device: str) -> dict:
    facts = {"torch": torch.__version__, "cpu_threads": torch.get_num_threads()}
    if device.startswith("cuda"):
        facts |= {"cuda": torch.version.cuda, "gpu": torch.cuda.get_device_name(device),
                  "capability": torch.cuda.get_device_capability(device)}  # fmt: skip
    return facts


def measure(device: str, dtype: torch.dtype, out: Path | None, profile: Path | None) -> dict:
    results = {"device": device, "dtype": str(dtype).removeprefix("torch.")}
    with tempfile.TemporaryDirectory() as folder:
        reference = real_size.speech_like_reference(Path(folder))
        checks = {
            "environment": lambda: environment(device),
            "t2s": lambda: check_t2s(device, dtype),
            "waveform": lambda: check_waveform(device, dtype, reference),
            "paragraph": lambda: check_paragraph(device, dtype, Path(folder)),
        }
        if profile is not None:
            checks["profile"] = lambda: profile_t2s(device, dtype, profile)
        for name, check in checks.items():
            started = time.perf_counter()
            try:
                results[name] = check()
            except Exception:  # report it and go on: one device run has to bring back every figure it can
                results[name] = {"error": traceback.format_exc()}
            results[name]["check_s"] = round(time.perf_counter() - started, 1)
            print(f"{name}: {json.dumps(results[name])}", flush=True)
            if out is not None:
                out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", default="float16", choices=["float16", "bfloat16", "float32"])
    parser.add_argument("--out", type=Path, help="write the results here as they come")
    parser.add_argument("--profile", type=Path, help="write profiler tables of the T2S decode step here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = measure(args.device, getattr(torch, args.dtype), args.out, args.profile)
    print(json.dumps(results) if args.json else json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
