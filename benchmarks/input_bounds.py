"""Worst-case cost of untrusted input: resampling odd sample rates, and the text front end on adversarial text.

    python benchmarks/input_bounds.py [--json] [--fuzz 300] [--rates 32001,44100,48001,191999]

Run it with PYTHONPATH pointing at another checkout to measure that code instead (the "before" figures).

Resampling: 10 s of audio at each rate -> 32 kHz through `audio.resample_sinc` (the SoVITS spectrogram path), each
in a fresh subprocess so its peak RSS is its own. A rate whose official filter bank would exceed --max-kernel-gb is
not run (that code would allocate it); its bank size is printed instead.

Front end: `phonemize` on --fuzz seeded texts (pieces glued together, and single pieces repeated up to 600
characters), every language mode; CPU seconds per text as percentiles, and the count over 1 s.
"""

import argparse
import json
import math
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESAMPLE_CHILD = """
import json, math, resource, sys, time
import torch
from gpt_sovits import audio
rate = int(sys.argv[1])
signal = torch.sin(torch.arange(10 * rate) * (2 * math.pi * 220 / rate)).float()
started = time.perf_counter()
audio.resample_sinc(signal, rate, 32000)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

PIECES = ["你好", "世界", "一百二十三", "2024年3月5日", "3.14", "50%", "¥12", "$5", "£3", "Hello", "world", "GPU",
          "iPhone", "don't", "A", "。", "，", "！", "...", "——", "~", "😀", "Ω", "é", "(", "）", "#", "3/4", "-5", "1",
          "22", "x", " ", "\t", "\n", "+", "=", "²", "℃", "km", "m2", "个", ":", "-", ".", ","]  # fmt: skip


def official_kernel_bytes(rate_in: int, rate_out: int = 32000) -> int:
    gcd = math.gcd(rate_in, rate_out)
    rin, rout = rate_in // gcd, rate_out // gcd
    width = math.ceil(6 * rin / (min(rin, rout) * 0.99))
    return 4 * rout * (2 * width + rin)


def measure_resampling(rates, max_kernel_gb):
    results = {}
    for rate in rates:
        kernel_gb = official_kernel_bytes(rate) / 1e9
        try:
            from gpt_sovits import audio

            bounded = hasattr(audio, "MAX_SINC_KERNEL_TAPS")
        except ImportError:
            bounded = False
        if not bounded and kernel_gb > max_kernel_gb:
            results[rate] = {"skipped": f"official filter bank {kernel_gb:.2f} GB"}
            continue
        out = subprocess.run([sys.executable, "-c", RESAMPLE_CHILD, str(rate)], capture_output=True, text=True)
        results[rate] = json.loads(out.stdout) if out.returncode == 0 else {"error": out.stderr[-300:]}
        results[rate]["official_kernel_gb"] = round(kernel_gb, 3)
    return results


def fuzz_texts(count, seed=0):
    rng = random.Random(seed)
    for index in range(count):
        if index % 2:
            yield (rng.choice(PIECES) * 600)[: rng.randint(100, 600)]
        else:
            yield "".join(rng.choices(PIECES, k=rng.randint(1, 60)))


def measure_front_end(count):
    from gpt_sovits.errors import TextError
    from gpt_sovits.text import phonemize

    ZH_EN_MODES = ("all_zh", "zh", "en", "auto")

    for mode in ZH_EN_MODES:
        phonemize("你好 hello 1", mode, "v2")
    times, errors = [], 0
    for text in fuzz_texts(count):
        for mode in ZH_EN_MODES:
            started = time.process_time()
            try:
                phonemize(text, mode, "v2")
            except TextError:
                pass
            except Exception:  # noqa: BLE001 - counted: anything but TextError is a bug
                errors += 1
            times.append(time.process_time() - started)
    times.sort()

    def percentile(p):
        return round(times[min(len(times) - 1, int(p / 100 * len(times)))], 4)

    return {"texts": len(times), "p50_s": percentile(50), "p90_s": percentile(90), "p99_s": percentile(99),
            "max_s": round(times[-1], 3), "over_1s": sum(t > 1 for t in times), "non_text_errors": errors}  # fmt: skip


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--fuzz", type=int, default=300)
    parser.add_argument("--rates", default="32001,44100,48000,48001,191999")
    parser.add_argument("--max-kernel-gb", type=float, default=1.0)
    args = parser.parse_args()
    rates = [int(rate) for rate in args.rates.split(",")]
    report = {"resampling_10s_to_32k": measure_resampling(rates, args.max_kernel_gb)}
    if args.fuzz:
        report["front_end_fuzz"] = measure_front_end(args.fuzz)
    print(json.dumps(report, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
