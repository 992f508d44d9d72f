"""CPU time of one 10 s sentence through the v3 / v4 synthesizers at official sizes, beside v2ProPlus.

    python benchmarks/v34_speed.py [--threads 2] [--repeats 3] [--json]

Weights are random, built in this process at the official sizes (nothing is downloaded or stored): time depends
only on the architecture. The workload: a 6 s reference (150 prompt codes), 250 target codes (10 s of speech),
120 target phones, the official web UI's default steps (v3: 32, v4: 8), no super-resolution.

What the synthesizer does for it (upstream's chunking): v3 cuts the 10 s of mel (937 frames at 93.75 Hz) into CFM
calls of 934 + 934 + 473 frames (prompt of 468 included); v4 into 1000 + 1000 (100 Hz, prompt 500). Each call runs
the 337 M-parameter DiT once per step (about 0.6 TFLOP at 934 frames). The DiT evaluations are timed once per
distinct chunk length (best of --repeats) and multiplied by their count, rather than running the 96 (v3) / 16 (v4)
evaluations in full; the text encoder, the vocoders (BigVGAN at 1536 channels, the v4 HiFiGAN) and the v2ProPlus
decode (`sovits_speed`) run in full. The CPU's float32 matrix throughput decides all of it: report the machine
load beside the figures (`load_average` in the JSON).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

import torch  # noqa: E402

import sovits_speed  # noqa: E402
from gpt_sovits.models.bigvgan import BigVGAN, BigVGANConfig  # noqa: E402
from gpt_sovits.models.cfm import DiT, draw_noise  # noqa: E402
from gpt_sovits.models.sovits_v3 import SoVITSV3, SoVITSV3Config  # noqa: E402
from gpt_sovits.models.synthesizer_v3v4 import CHUNK_FRAMES, DEFAULT_SAMPLE_STEPS, PROMPT_FRAMES  # noqa: E402
from gpt_sovits.models.vocoder_v4 import v4_vocoder  # noqa: E402

PROMPT_CODES = 150  # a 6 s reference
TARGET_CODES = 250  # 10 s of speech at 25 codes / s
TARGET_PHONES = 120
AUDIO_SECONDS = TARGET_CODES / 25
# bigvgan_v2_24khz_100band_256x/config.json (the official v3 vocoder)
BIGVGAN_OFFICIAL = BigVGANConfig(
    num_mels=100, sampling_rate=24000, hop_size=256, upsample_rates=(4, 4, 2, 2, 2, 2),
    upsample_kernel_sizes=(8, 8, 4, 4, 4, 4), upsample_initial_channel=1536, resblock_kernel_sizes=(3, 7, 11),
    resblock_dilation_sizes=((1, 3, 5), (1, 3, 5), (1, 3, 5)), use_tanh_at_final=False, use_bias_at_final=False,
)


def official_sovits(model_version: str) -> SoVITSV3:
    """The official s2 config's text encoder and the hard-wired rest, with random weights."""
    torch.manual_seed(0)
    config = SoVITSV3Config(
        model_version=model_version, num_symbols=732, inter_channels=192, hidden_channels=192, filter_channels=768,
        n_heads=2, n_layers=6, kernel_size=3, gin_channels=512,
    )
    model = SoVITSV3(config)
    model.dit = DiT()  # SoVITSV3 leaves the DiT unallocated until a checkpoint is assigned; here: random weights
    return model.eval().requires_grad_(False)


def best_seconds(run, repeats: int, warm_up: bool = True) -> float:
    if warm_up:
        run()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def chunk_lengths(model_version: str, target_frames: int) -> list[int]:
    """Frames of each CFM call (prompt included) for a 6 s reference, as V3V4Synthesizer.generate_mel cuts them."""
    prompt = PROMPT_FRAMES[model_version]  # a 6 s reference is longer than the prompt limit in both versions
    step = CHUNK_FRAMES[model_version] - prompt
    return [prompt + min(step, target_frames - start) for start in range(0, target_frames, step)]


def measure_version(model_version: str, repeats: int) -> dict:
    model = official_sovits(model_version)
    generator = torch.Generator().manual_seed(0)
    codes = torch.randint(0, 1024, (TARGET_CODES,), generator=generator)
    phones = torch.randint(0, 732, (TARGET_PHONES,), generator=generator)
    ge = torch.randn(1, 512, 1, generator=generator) * 0.1

    features_seconds = best_seconds(lambda: model.condition_features(codes, phones, ge), repeats)
    target_frames = model.condition_features(codes, phones, ge).shape[-1]
    steps = DEFAULT_SAMPLE_STEPS[model_version]
    evaluations = {}
    with torch.inference_mode():
        for frames in sorted(set(chunk_lengths(model_version, target_frames))):
            condition = torch.randn(1, frames, 512, generator=generator)
            x = draw_noise(generator, frames, like=condition).transpose(1, 2)
            prompt = torch.zeros_like(x)

            def evaluate():
                model.dit(x, prompt, model.dit.embed_condition(condition), model.dit.embed_step(0.0, 1 / steps, like=x))

            evaluations[frames] = best_seconds(evaluate, repeats)
    cfm_seconds = sum(steps * evaluations[frames] for frames in chunk_lengths(model_version, target_frames))

    mel = torch.randn(1, 100, target_frames, generator=generator) - 6
    vocoder = BigVGAN(BIGVGAN_OFFICIAL) if model_version == "v3" else v4_vocoder()
    vocoder = vocoder.eval().requires_grad_(False)
    with torch.inference_mode():
        vocoder_seconds = best_seconds(lambda: vocoder(mel), 1, warm_up=False)  # minutes for BigVGAN: run once
    total = features_seconds + cfm_seconds + vocoder_seconds
    return {
        "sample_steps": steps,
        "chunk_frames": chunk_lengths(model_version, target_frames),
        "dit_evaluation_s": {str(frames): round(seconds, 3) for frames, seconds in evaluations.items()},
        "dit_evaluations": steps * len(chunk_lengths(model_version, target_frames)),
        "features_s": round(features_seconds, 3),
        "cfm_s": round(cfm_seconds, 2),
        "vocoder_s": round(vocoder_seconds, 2),
        "decode_s": round(total, 2),
        "decode_rtf": round(total / AUDIO_SECONDS, 2),
    }


def measure(threads: int = 2, repeats: int = 3) -> dict:
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        load_before = os.getloadavg()

        def pro_plus_decode() -> float:
            return sovits_speed.measure(threads=threads, repeats=repeats)["results"]["v2ProPlus"]["seconds"]

        # v2ProPlus before and after: on a shared machine the spread shows how much the load moved meanwhile.
        pro_plus = [pro_plus_decode()]
        results = {version: measure_version(version, repeats) for version in ("v4", "v3")}
        pro_plus.append(pro_plus_decode())
        for row in results.values():
            row["vs_v2ProPlus_decode"] = round(row["decode_s"] / (sum(pro_plus) / 2), 1)
        return {
            "threads": threads,
            "audio_seconds": AUDIO_SECONDS,
            "v2ProPlus_decode_s": pro_plus,
            "results": results,
            "load_average": [round(x, 2) for x in load_before + os.getloadavg()],  # 1/5/15 min, before and after
        }
    finally:
        torch.set_num_threads(previous)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    report = measure(args.threads, args.repeats)
    if args.json:
        print(json.dumps(report, indent=1))
        return
    before, after = report["v2ProPlus_decode_s"]
    print(f"10 s sentence, {report['threads']} threads; v2ProPlus decode {before:.2f} s before, {after:.2f} s after")
    for version, row in report["results"].items():
        print(
            f"{version}: decode {row['decode_s']:.1f} s (RTF {row['decode_rtf']}, {row['vs_v2ProPlus_decode']}x v2ProPlus)"
            f" = features {row['features_s']:.2f} s + CFM {row['cfm_s']:.1f} s ({row['dit_evaluations']} DiT evaluations,"
            f" {row['sample_steps']} steps) + vocoder {row['vocoder_s']:.1f} s"
        )
    print(f"load average (1/5/15 min, before, after): {report['load_average']}")


if __name__ == "__main__":
    main()
