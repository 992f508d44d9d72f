"""A 10-sentence Chinese paragraph end to end at the official model sizes on a CPU: our engine at batch 1 and batched
and, given an installed official checkout, the official `get_tts_wav` on the same paragraph, clip and files.

    python benchmarks/paragraph.py [--threads 2] [--versions v2,v2ProPlus] [--batch-sizes 1,8] [--repeats 2]
        [--cut-method cut5] [--checkpoints DIR] [--official CHECKOUT [--official-python PYTHON]] [--json]

Models: random weights at the official sizes. By default our engine builds them in memory (real_size.py);
`--checkpoints DIR` loads files instead, in export_checkpoints.py's layout (that script writes them; the vectors'
checkpoint generator writes the same layout). `--official` needs files for both sides: without `--checkpoints`
they are exported into a temporary folder first (about 2.5 GB, a few minutes).

The official side: CHECKOUT is a GPT-SoVITS work tree (tested with commit 48b1a016), run by PYTHON (default: this
interpreter), an environment with what its inference imports; official_worker.py lists it, and the stand-ins it uses
for what would be downloaded (language splitter, G2PW) or plays no part here (the gradio UI). Nothing of it is
installed or shipped by this project. A setup that works (CPU torch, as used for the figures in issue 11):

    git clone https://github.com/RVC-Boss/GPT-SoVITS CHECKOUT && git -C CHECKOUT checkout 48b1a016
    python -m venv VENV && VENV/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
    VENV/bin/pip install "numpy<2" librosa "transformers<5" pytorch-lightning peft x_transformers einops jieba \
        jieba_fast pypinyin cn2an psutil PyYAML soundfile matplotlib torchaudio  # then rm VENV/.../torchaudio/lib/*.so
    python benchmarks/export_checkpoints.py --out DIR
    python benchmarks/paragraph.py --checkpoints DIR --official CHECKOUT --official-python VENV/bin/python

reference_speed.py drives the same checkout for the reference stages alone.

Both sides speak the same sentences for the same number of tokens: random weights never stop sensibly, so each
sentence is held to real_size.forced_tokens(its phones) decoded tokens, about 4.5 per character as a real model
says them (ours through the per-row cap, theirs through early_stop_num; neither may sample EOS). The figures
include a check that both gave T2S the same phones and decoded the same tokens, sentence by sentence.

Each side runs in its own process (workers.py: separate peak RSS), loaded and warmed up once (on the paragraph's
first two sentences), then the runs interleave: ours at each batch size, each followed by theirs, `--repeats`
rounds. Every run gets a reference clip never heard before, so no side gains from a cache (ours keeps prepared
voices; the official code recomputes the reference in every call): ours' `stages_s.reference` says how much a cached
voice would save. Our engine runs as shipped, sentence streaming, T2S ahead of SoVITS in a thread; `first_audio_s`
is the first chunk's arrival (the official get_tts_wav yields once, at the end). Per run: wall time, real-time
factor (wall / seconds of audio), time to first audio, stage seconds (ours overlap: they add up to more than the
wall time), the process's peak RSS so far; per side the medians; the official / ours time ratios (of the medians,
and the median of each run's ratio to the official run right after it). Then ours alone, each run stopped at its
first chunk, `--repeats` times: `first_audio_s` for a new voice, the same voice again (from the reference cache),
and a new voice with token streaming (first_audio_cases). Both processes get the app's OpenMP waiting
(gpt_sovits/openmp.py, unless set): on a shared machine unboundedly spinning OpenMP threads slow every side. Report the load (`uptime`, printed before
and after).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import export_checkpoints  # noqa: E402
import real_size  # noqa: E402
import workers  # noqa: E402

from gpt_sovits import openmp  # noqa: E402
from gpt_sovits.engine import Engine, SynthesisRequest  # noqa: E402
from gpt_sovits.i18n import CHINESE as OFFICIAL_CUT_LABELS  # noqa: E402  (our Chinese labels are the web UI's)
from gpt_sovits.settings import InferenceSettings  # noqa: E402

PARAGRAPH = (
    "春天来了，公园里的花都开了。小朋友们在草地上放风筝，笑声传得很远。湖边的柳树长出了嫩绿的新芽。"
    "老人们坐在长椅上聊天，晒着温暖的太阳。一只小狗追着蝴蝶跑来跑去。远处传来了卖冰淇淋的叫卖声。"
    "妈妈给孩子买了一个草莓味的冰淇淋。天空很蓝，白云慢慢地飘过。傍晚的时候，大家都依依不舍地回家了。"
    "这真是美好的一天。"
)
WARM_UP_TEXT = PARAGRAPH[: PARAGRAPH.index("湖边")]  # its first two sentences: every code path, in less time
OFFICIAL_WORKER = Path(__file__).resolve().parent / "official_worker.py"


# ----- our side (a worker process) -------------------------------------------------------------------------------


def ours_worker(version: str, checkpoints: Path | None, threads: int) -> None:
    replies = workers.claim_stdout()
    torch.set_num_threads(threads)
    started = time.perf_counter()
    if checkpoints is None:
        engine = real_size.random_engine(version)
    else:
        engine = Engine(export_checkpoints.model_paths(checkpoints, version))
        real_size.force_lengths(engine.model_set().t2s, real_size.reference_phone_count())
    engine.warm_up()
    ready = {"side": "ours", "version": engine.model_info().model_version,
             "load_s": round(time.perf_counter() - started, 1)}  # fmt: skip
    workers.serve(lambda request: synthesize(engine, request["reference"], request["batch_size"],
                                             request["cut_method"], request["text"], request.get("streaming", "sentence"),
                                             request.get("first_audio_only", False)), ready, replies)  # fmt: skip


def synthesize(engine: Engine, reference: str, batch_size: int, cut_method: str = "cut5", text: str = PARAGRAPH,
               streaming: str = "sentence", first_audio_only: bool = False) -> dict:  # fmt: skip
    """`text` spoken in `reference`'s voice, timed (benchmarks/gpu.py calls this in its own process).
    `first_audio_only`: stop at the first chunk, as a listener who leaves then (only first_audio_s is timed)."""
    request = SynthesisRequest(
        reference_audio=reference, reference_text=real_size.REFERENCE_TEXT, reference_language="all_zh",
        target_text=text, target_language="all_zh",
        settings=InferenceSettings(seed=7, cut_method=cut_method, batch_size=batch_size, streaming=streaming),
    )  # fmt: skip
    started = time.perf_counter()
    stream = engine.stream(request)
    first_audio = None
    for _ in stream:
        first_audio = first_audio or time.perf_counter() - started
        if first_audio_only:
            break
    if first_audio_only:
        return {"first_audio_s": round(first_audio, 2), "reference_cache_hit": stream.reference_cache_hit}
    result = stream.result()
    wall = time.perf_counter() - started
    return {
        "sentences": len(result.sentences),
        "audio_s": round(result.duration_seconds, 2),
        "wall_s": round(wall, 2),
        "rtf": round(wall / result.duration_seconds, 3),
        "first_audio_s": round(first_audio, 2),
        "stages_s": {stage: round(seconds, 2) for stage, seconds in result.timings.items()},
        "tokens": [len(sentence.tokens) for sentence in result.sentences],
        "reference_cache_hit": result.reference_cache_hit,
    }


# ----- the driver --------------------------------------------------------------------------------------------------


def machine_load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def summarize(runs: list[dict]) -> dict:
    return {
        "runs": len(runs),
        "wall_s": round(statistics.median(run["wall_s"] for run in runs), 2),
        "rtf": round(statistics.median(run["rtf"] for run in runs), 3),
        "first_audio_s": round(statistics.median(run["first_audio_s"] for run in runs), 2),
        "peak_rss_gb": max(run["peak_rss_gb"] for run in runs),
    }


def first_audio_cases(ours: workers.Worker, paragraph: dict, clip, batch_size: int, repeats: int) -> dict:
    """Time to first audio in the cases a listener meets, each run stopped at its first chunk (medians of
    `repeats`): a voice never heard before (as in the paragraph runs), the same voice again (a saved voice, or a
    second Generate: the prepared reference comes from the cache), and a new voice with token streaming (the
    first audio after about 16 tokens of the first sentence, not its end; the audio is not the exact mode's)."""
    def first_audio(reference: str, streaming: str, cached: bool) -> float:
        reply = ours.request(**paragraph, reference=reference, batch_size=batch_size, streaming=streaming,
                             first_audio_only=True)  # fmt: skip
        assert reply["reference_cache_hit"] == cached, reply
        return reply["first_audio_s"]

    cases: dict[str, list[float]] = {"new_voice": [], "cached_voice": [], "token_streaming_new_voice": []}
    for _ in range(repeats):
        reference = clip()
        cases["new_voice"].append(first_audio(reference, "sentence", cached=False))
        cases["cached_voice"].append(first_audio(reference, "sentence", cached=True))
        cases["token_streaming_new_voice"].append(first_audio(clip(), "token", cached=False))
    return {case: round(statistics.median(times), 2) for case, times in cases.items()}


def check_lengths(plan: list[dict], reference_phones: int, runs: dict[str, list[dict]]) -> dict:
    """Did every run speak every sentence for its held token count, and did the official one see our phones?"""
    tokens = [sentence["tokens"] for sentence in plan]
    phones = [reference_phones + sentence["target_phones"] for sentence in plan]
    return {
        "sentences": len(plan),
        "tokens_as_held": all(run["tokens"] == tokens for side in runs.values() for run in side),
        "official_phones_equal_ours": all(run["phones"] == phones for run in runs.get("official", [])),
    }


def measure(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="paragraph-") as folder:
        return measure_in(args, Path(folder))


def measure_in(args, folder: Path) -> dict:
    """Everything `measure` does; the exported checkpoints and the clips go into `folder`."""
    log = Path(tempfile.mkstemp(prefix="paragraph-workers-", suffix=".log")[1])
    env = openmp.wait_briefly(dict(os.environ))
    env.setdefault("HF_HUB_OFFLINE", "1")
    checkpoints = args.checkpoints
    if args.official and checkpoints is None:
        checkpoints = folder / "checkpoints"
        export_checkpoints.write_checkpoints(checkpoints, args.versions)
    plan = real_size.paragraph_plan(PARAGRAPH, args.cut_method)
    reference_phones = real_size.reference_phone_count()

    def speech(text: str) -> dict:
        tokens = [sentence["tokens"] for sentence in real_size.paragraph_plan(text, args.cut_method)]
        return {"reference_text": real_size.REFERENCE_TEXT, "text": text, "cut_method": args.cut_method,
                "how_to_cut": OFFICIAL_CUT_LABELS[args.cut_method], "tokens": tokens}  # fmt: skip

    paragraph, warm_up_text = speech(PARAGRAPH), speech(WARM_UP_TEXT)
    clips = iter(range(10**6))  # a new reference clip for every request

    def clip() -> str:
        return str(real_size.speech_like_reference(folder, next(clips)))

    results = {"threads": args.threads, "cut_method": args.cut_method, "checkpoints": str(checkpoints or "in memory"),
               "official": str(args.official or "not run"), "openmp_waiting": {name: env[name] for name in openmp.WAITING},
               "worker_log": str(log), "load_before": machine_load()}  # fmt: skip
    for version in args.versions:
        ours_command = [sys.executable, __file__, "--worker", version, "--threads", str(args.threads)]
        if checkpoints is not None:
            ours_command += ["--checkpoints", str(checkpoints)]
        sides = {"ours": workers.Worker(ours_command, log, env)}
        if args.official:
            sides["official"] = workers.Worker(
                [args.official_python, str(OFFICIAL_WORKER), "--official", str(args.official), "--checkpoints",
                 str(checkpoints), "--version", version, "--threads", str(args.threads)], log, env)  # fmt: skip
        try:
            largest = max(args.batch_sizes)
            warm_up = {"ours": sides["ours"].request(**warm_up_text, reference=clip(), batch_size=largest)}
            if "official" in sides:
                warm_up["official"] = sides["official"].request(**warm_up_text, reference=clip())
            runs: dict[str, list[dict]] = {f"ours_batch{size}": [] for size in args.batch_sizes}
            pair_ratios: dict[str, list[float]] = {f"ours_batch{size}": [] for size in args.batch_sizes}
            for _ in range(args.repeats):
                for size in args.batch_sizes:
                    reference, load = clip(), os.getloadavg()[0]
                    ours = {**sides["ours"].request(**paragraph, reference=reference, batch_size=size), "load": load}
                    runs[f"ours_batch{size}"].append(ours)
                    if "official" in sides:
                        load = os.getloadavg()[0]
                        official = {**sides["official"].request(**paragraph, reference=reference), "load": load}
                        runs.setdefault("official", []).append(official)
                        pair_ratios[f"ours_batch{size}"].append(official["wall_s"] / ours["wall_s"])
            first_audio = first_audio_cases(sides["ours"], paragraph, clip, largest, args.repeats)
        finally:
            for side in sides.values():
                side.close()
        figures = {
            "ready": {side: worker.ready for side, worker in sides.items()},
            "lengths": check_lengths(plan, reference_phones, runs),
            "median": {name: summarize(side_runs) for name, side_runs in runs.items()},
            "first_audio_s": first_audio,
            "runs": runs,
            "warm_up": warm_up,
        }
        if "official" in runs:
            official_wall = figures["median"]["official"]["wall_s"]
            figures["official_over_ours"] = {
                name: {"of_medians": round(official_wall / figures["median"][name]["wall_s"], 2),
                       "median_of_pairs": round(statistics.median(pair_ratios[name]), 2)}
                for name in pair_ratios
            }  # fmt: skip
        results[version] = figures
    results["load_after"] = machine_load()
    return results


def print_table(results: dict) -> None:
    print(f"load before: {results['load_before']}\nload after:  {results['load_after']}")
    for version in (key for key in results if isinstance(results[key], dict) and "median" in results[key]):
        figures = results[version]
        print(f"\n{version}: {figures['lengths']}")
        for name, row in figures["median"].items():
            ratio = figures.get("official_over_ours", {}).get(name, {}).get("of_medians")
            print(f"  {name:12s} wall {row['wall_s']:6.2f} s  RTF {row['rtf']:.3f}  first audio "
                  f"{row['first_audio_s']:5.2f} s  peak RSS {row['peak_rss_gb']:.2f} GB"
                  + (f"  official/ours {ratio:.2f}x" if ratio else ""))  # fmt: skip
        print("  first audio (ours, stopped there): "
              + ", ".join(f"{case} {seconds:.2f} s" for case, seconds in figures["first_audio_s"].items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--versions", default="v2,v2ProPlus", type=lambda value: value.split(","))
    parser.add_argument("--batch-sizes", default="1,8", type=lambda value: [int(size) for size in value.split(",")])
    parser.add_argument("--repeats", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--cut-method", default="cut5", help="cut5: at every punctuation mark (15 pieces here)")
    parser.add_argument("--checkpoints", type=Path, help="load these files (export_checkpoints.py's layout)")
    parser.add_argument("--official", type=Path, help="an official GPT-SoVITS checkout to time beside ours")
    parser.add_argument("--official-python", default=sys.executable, help="the interpreter to run it with")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: serve our engine for this version
    args = parser.parse_args()
    if args.worker:
        ours_worker(args.worker, args.checkpoints, args.threads)
        return
    results = measure(args)
    if args.json:
        print(json.dumps(results))
    else:
        print(json.dumps(results, indent=1))
        print_table(results)


if __name__ == "__main__":
    main()
