"""The device path on a GPU: parity of float16 against float32, T2S tokens per second, and the paragraph's RTF.

    python benchmarks/gpu.py [--device cuda] [--dtype float16] [--json]

Needs a CUDA machine (none is in CI; run it where one is lent). Checks, at the official model sizes with random
weights (real_size.py):
* the same request in float32 and in `--dtype` on the device: the waveforms (same seed, same tokens forced) must
  agree within 1e-2 max abs (issue 11's bound), and the float32 device run against the CPU within 1e-3;
* T2S decode speed at batch 1 (target >= 300 tokens/s) and batch 8;
* the 10-sentence paragraph's real-time factor (target <= 0.05).
`--device cpu --dtype bfloat16` runs the same checks on a CPU (slowly), which is how this script is tested.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import paragraph  # noqa: E402
import real_size  # noqa: E402
import t2s_speed  # noqa: E402

from gpt_sovits.engine import SynthesisRequest  # noqa: E402
from gpt_sovits.engine.model_set import Placement  # noqa: E402
from gpt_sovits.settings import InferenceSettings  # noqa: E402

SENTENCE = "春天来了，公园里的花都开了，小朋友们在草地上放风筝。"


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


def t2s_tokens_per_second(placement: Placement, batch: int, tokens: int = 200) -> float:
    model = placement.apply(t2s_speed.random_model(t2s_speed.OFFICIAL_SIZE))
    inputs = [t2s_speed.sentence(t2s_speed.OFFICIAL_SIZE, index, tokens) for index in range(batch)]
    for _ in model.stream(inputs[:1], t2s_speed.SAMPLING):  # warm-up
        break
    if placement.device.startswith("cuda"):
        torch.cuda.synchronize()
    started = time.perf_counter()
    generated = sum(len(step.tokens) for step in model.stream(inputs, t2s_speed.SAMPLING))
    if placement.device.startswith("cuda"):
        torch.cuda.synchronize()
    return generated / (time.perf_counter() - started)


def measure(device: str, dtype: torch.dtype) -> dict:
    results = {"device": device, "dtype": str(dtype).removeprefix("torch.")}
    with tempfile.TemporaryDirectory() as folder:
        reference = real_size.speech_like_reference(Path(folder))
        cpu = waveform(placed_engine("v2", Placement("cpu")), reference)
        full = waveform(placed_engine("v2", Placement(device)), reference)
        half = waveform(placed_engine("v2", Placement(device, dtype)), reference)
        n = min(len(cpu), len(full), len(half))
        results["fp32_device_vs_cpu_max_abs"] = float(np.abs(full[:n] - cpu[:n]).max())
        results["reduced_vs_fp32_max_abs"] = float(np.abs(half[:n] - full[:n]).max())
        for batch in (1, 8):
            results[f"t2s_tokens_per_s_batch{batch}"] = round(t2s_tokens_per_second(Placement(device, dtype), batch), 1)
        engine = placed_engine("v2", Placement(device, dtype))
        paragraph.synthesize(engine, str(reference), 8)  # warm-up; the voice is cached from here on
        results["paragraph_v2_batch8"] = paragraph.synthesize(engine, str(reference), 8)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", default="float16", choices=["float16", "bfloat16", "float32"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = measure(args.device, getattr(torch, args.dtype))
    print(json.dumps(results) if args.json else json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
