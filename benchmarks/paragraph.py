"""A 10-sentence Chinese paragraph end to end at the official model sizes on a CPU: batch 1 against batched.

    python benchmarks/paragraph.py [--threads 2] [--versions v2,v2ProPlus] [--batch-sizes 1,4,8] [--json]

Real-size engine with random weights (real_size.py: T2S forced to about 4.5 tokens per character, as a real model
speaks). Sentence streaming, cut at every sentence (cut5), the voice cached first. For each batch size: wall time,
real-time factor (wall / seconds of audio), time to the first audio chunk, the engine's per-stage seconds (T2S and
SoVITS overlap: T2S runs ahead in a thread, so the stages add up to more than the wall time), and the process's
peak RSS so far. Report the machine's load (`uptime`) beside the figures.
"""

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_size  # noqa: E402

from gpt_sovits.engine import SynthesisRequest  # noqa: E402
from gpt_sovits.settings import InferenceSettings  # noqa: E402

PARAGRAPH = (
    "春天来了，公园里的花都开了。小朋友们在草地上放风筝，笑声传得很远。湖边的柳树长出了嫩绿的新芽。"
    "老人们坐在长椅上聊天，晒着温暖的太阳。一只小狗追着蝴蝶跑来跑去。远处传来了卖冰淇淋的叫卖声。"
    "妈妈给孩子买了一个草莓味的冰淇淋。天空很蓝，白云慢慢地飘过。傍晚的时候，大家都依依不舍地回家了。"
    "这真是美好的一天。"
)


def run(engine, reference: Path, batch_size: int) -> dict:
    request = SynthesisRequest(
        reference_audio=str(reference), reference_text=real_size.REFERENCE_TEXT, reference_language="all_zh",
        target_text=PARAGRAPH, target_language="all_zh",
        settings=InferenceSettings(seed=7, cut_method="cut5", batch_size=batch_size),
    )  # fmt: skip
    started = time.perf_counter()
    stream = engine.stream(request)
    first_audio = None
    for _ in stream:
        first_audio = first_audio or time.perf_counter() - started
    result = stream.result()
    wall = time.perf_counter() - started
    return {
        "sentences": len(result.sentences),
        "audio_s": round(result.duration_seconds, 2),
        "wall_s": round(wall, 2),
        "rtf": round(wall / result.duration_seconds, 3),
        "first_audio_s": round(first_audio, 2),
        "stages_s": {stage: round(seconds, 2) for stage, seconds in result.timings.items()},
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }


def measure(threads: int, versions: list[str], batch_sizes: list[int]) -> dict:
    torch.set_num_threads(threads)
    results = {"threads": threads}
    with tempfile.TemporaryDirectory() as folder:
        reference = real_size.speech_like_reference(Path(folder))
        for version in versions:
            engine = real_size.random_engine(version)
            engine.warm_up()
            run(engine, reference, batch_sizes[-1])  # caches the voice, warms every path
            results[version] = {f"batch{size}": run(engine, reference, size) for size in batch_sizes}
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--versions", default="v2,v2ProPlus")
    parser.add_argument("--batch-sizes", default="1,4,8")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = measure(args.threads, args.versions.split(","), [int(size) for size in args.batch_sizes.split(",")])
    print(json.dumps(results) if args.json else json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
