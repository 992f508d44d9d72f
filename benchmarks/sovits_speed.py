"""Seconds per SoVITS decode of 250 semantic tokens (10 s of audio) at the official model sizes.

Weights are random and built in-process (nothing is downloaded or stored): decode time depends only on the
architecture. Targets on 2 CPU threads, float32 (the official implementation's times on the reference machine):
v2 <= 1.61 s, v2ProPlus <= 4.12 s. Almost all of the time is the HiFiGAN decoder's convolutions (about 406 GFLOP
for v2 and 915 GFLOP for v2ProPlus per 250 tokens), so the result is bound by the CPU's float32 throughput.
Side by side on a 2-vCPU AVX-512 dev VM (2026-11): official code 3.06 s / 6.9 s, this one 2.57 s / 5.7 s.

    python benchmarks/sovits_speed.py [--threads 2] [--repeats 3] [--json]
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

import torch

from gpt_sovits.models.sovits import SoVITS, SoVITSConfig

TOKENS = 250
TARGET_PHONES = 120
TARGET_SECONDS = {"v2": 1.61, "v2ProPlus": 4.12}


def official_config(model_version: str) -> SoVITSConfig:
    """The official s2.json / s2v2ProPlus.json model sizes."""
    pro_plus = model_version == "v2ProPlus"
    return SoVITSConfig(
        model_version=model_version,
        symbol_version="v2",
        num_symbols=732,
        sample_rate=32000,
        spectrogram_bins=1025,
        inter_channels=192,
        hidden_channels=192,
        filter_channels=768,
        n_heads=2,
        n_layers=6,
        kernel_size=3,
        gin_channels=1024 if pro_plus else 512,
        upsample_rates=(10, 8, 2, 2, 2),
        upsample_kernel_sizes=(20, 16, 8, 2, 2) if pro_plus else (16, 16, 8, 2, 2),
        upsample_initial_channel=768 if pro_plus else 512,
        resblock_kernel_sizes=(3, 7, 11),
        resblock_dilation_sizes=((1, 3, 5), (1, 3, 5), (1, 3, 5)),
    )


def _random_model(model_version: str) -> SoVITS:
    torch.manual_seed(0)
    return SoVITS(official_config(model_version)).eval().requires_grad_(False)


def time_decode(model: SoVITS, repeats: int) -> float:
    """Best of `repeats` wall-clock seconds for one decode of TOKENS codes (after one warm-up run)."""
    generator = torch.Generator().manual_seed(0)
    codes = torch.randint(0, 1024, (TOKENS,), generator=generator)
    phones = torch.randint(0, 732, (TARGET_PHONES,), generator=generator)
    ge = torch.randn(1, model.config.gin_channels, 1, generator=generator) * 0.1
    model.decode(codes, phones, ge, generator=generator)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.decode(codes, phones, ge, generator=generator)
        best = min(best, time.perf_counter() - start)
    return best


def measure(threads: int = 2, repeats: int = 3) -> dict:
    """{version: {"seconds": best decode time, "target_seconds": official time}} for v2 and v2ProPlus."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        results = {}
        for version, target in TARGET_SECONDS.items():
            seconds = time_decode(_random_model(version), repeats)
            results[version] = {"seconds": round(seconds, 3), "target_seconds": target, "tokens": TOKENS}
        return {"threads": threads, "results": results}
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
    for version, row in report["results"].items():
        verdict = "ok" if row["seconds"] <= row["target_seconds"] else "SLOWER than official"
        print(f"{version:10s} {row['seconds']:.2f} s per decode of {TOKENS} tokens "
              f"(official {row['target_seconds']:.2f} s, {report['threads']} threads) {verdict}")


if __name__ == "__main__":
    main()
