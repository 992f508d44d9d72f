"""Time to the first audio chunk, sentence and token streaming, at the official model sizes on a CPU.

    python benchmarks/streaming.py [--threads 2] [--versions v2,v2ProPlus] [--repeats 3] [--json]

Real-size engine with random weights (real_size.py; T2S forced to real-speech lengths). The voice is cached first
(a real user's second request), then each run times `engine.stream(request)` up to its first chunk, for a target
whose first clause has 10 characters, cut at punctuation (cut5) so sentence streaming can hand out that clause
alone. Targets (issue 8): sentence <= 2.0 s, token <= 1.0 s. Also reported: how far token-streamed audio is from
the exact audio of the same seed (SNR over the whole output), with the decode noise on (default 0.5: the noise is
drawn per frame in streaming, so this mostly measures a different noise draw) and off (the seams alone). And how
long a stopped stream keeps the CPU busy: the sentence stream is closed at its first chunk, while the T2S thread
prepares the next sentences (their BERT features and prefill), and this process's CPU time is watched until it
stays idle for half a second.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_size  # noqa: E402

from gpt_sovits.engine import SynthesisRequest  # noqa: E402
from gpt_sovits.settings import InferenceSettings  # noqa: E402

TARGET_TEXT = "春天的花园里开满了花，我们一起去散步吧。然后回家吃一顿饭。"  # first clause: 10 characters


def request(reference: Path, **settings) -> SynthesisRequest:
    return SynthesisRequest(
        reference_audio=str(reference), reference_text=real_size.REFERENCE_TEXT, reference_language="all_zh",
        target_text=TARGET_TEXT, target_language="all_zh",
        settings=InferenceSettings(seed=5, cut_method="cut5", **settings),
    )  # fmt: skip


def first_chunk_seconds(engine, reference: Path, streaming: str) -> float:
    started = time.perf_counter()
    stream = engine.stream(request(reference, streaming=streaming))
    next(iter(stream))
    seconds = time.perf_counter() - started
    stream.close()
    return seconds


def busy_after_stop_seconds(engine, reference: Path) -> float:
    """Seconds this process kept using CPU after a sentence stream was closed at its first chunk."""
    stream = engine.stream(request(reference))
    next(iter(stream))
    stream.close()
    stopped = last_busy = time.perf_counter()
    cpu = time.process_time()
    while time.perf_counter() - last_busy < 0.5:
        time.sleep(0.05)
        now = time.process_time()
        if now - cpu > 0.01:  # more than 20% of one core over the last 50 ms
            last_busy = time.perf_counter()
        cpu = now
    return last_busy - stopped


def snr_db(exact: np.ndarray, streamed: np.ndarray) -> float:
    n = min(len(exact), len(streamed))
    return float(10 * np.log10(np.sum(exact[:n] ** 2) / max(np.sum((exact[:n] - streamed[:n]) ** 2), 1e-20)))


def measure(threads: int, versions: list[str], repeats: int) -> dict:
    torch.set_num_threads(threads)
    results = {"threads": threads}
    with tempfile.TemporaryDirectory() as folder:
        reference = real_size.speech_like_reference(Path(folder))
        for version in versions:
            engine = real_size.random_engine(version, stop_reason="eos")  # token streaming decodes every token
            engine.warm_up()
            engine.synthesize(request(reference))  # fills the reference cache
            figures = {}
            for streaming in ("sentence", "token"):
                times = [first_chunk_seconds(engine, reference, streaming) for _ in range(repeats)]
                figures[f"first_chunk_{streaming}_s"] = round(statistics.median(times), 3)
            stops = [busy_after_stop_seconds(engine, reference) for _ in range(repeats)]
            figures["cpu_busy_after_stop_s"] = round(statistics.median(stops), 2)
            for noise_scale in (0.5, 0.0):
                exact = engine.synthesize(request(reference, noise_scale=noise_scale)).audio
                streamed = engine.synthesize(request(reference, noise_scale=noise_scale, streaming="token")).audio
                figures[f"token_vs_exact_snr_db_noise{noise_scale}"] = round(snr_db(exact, streamed), 1)
            results[version] = figures
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--versions", default="v2,v2ProPlus")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = measure(args.threads, args.versions.split(","), args.repeats)
    print(json.dumps(results) if args.json else json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
