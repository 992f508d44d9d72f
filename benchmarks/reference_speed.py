"""The reference path of a v2ProPlus request, stage by stage, ours and (given an installed checkout) the official
code's, on the same clip, text and checkpoint files:

    hubert           16 kHz clip + 0.3 s of silence -> HuBERT features (the resampling included)
    bert             the reference text's BERT features (its phones and word2ph worked out beforehand)
    spectrogram      resample to 32 kHz, peak limit, linear spectrogram, and the 16 kHz speaker audio
    fbank            Kaldi log-mel filter bank of the 16 kHz speaker audio
    speaker_network  ERes2NetV2 on that filter bank
    speaker          fbank + network: the speaker embedding as the pipeline asks for it

    python benchmarks/reference_speed.py [--checkpoints DIR] [--official CHECKOUT [--official-python PYTHON]]
        [--threads 2] [--repeats 7] [--json]

Models: the files in DIR (export_checkpoints.py's layout; without `--checkpoints` they are exported into a
temporary folder first, a few minutes). The clip is real_size.speech_like_reference (6 s at 32 kHz), the text
real_size.REFERENCE_TEXT. Each side runs in its own process (workers.py; the official one is official_worker.py,
set up as paragraph.py's docstring says), warmed up by one round, then the rounds interleave: ours, theirs,
`--repeats` times; per stage the median seconds per side and official / ours. The two speaker embeddings are
compared too (largest difference, relative to the largest value). Report the load (`uptime`, printed before and
after) beside the figures.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import export_checkpoints  # noqa: E402
import real_size  # noqa: E402
import workers  # noqa: E402

from gpt_sovits import audio, openmp  # noqa: E402
from gpt_sovits.engine import Engine  # noqa: E402
from gpt_sovits.engine.reference import load_reference_clips, phonemize_reference_text  # noqa: E402
from gpt_sovits.models.speaker import kaldi_fbank  # noqa: E402

VERSION = "v2ProPlus"
OFFICIAL_WORKER = Path(__file__).resolve().parent / "official_worker.py"


def ours_worker(checkpoints: Path, threads: int) -> None:
    replies = workers.claim_stdout()
    torch.set_num_threads(threads)
    models = Engine(export_checkpoints.model_paths(checkpoints, VERSION)).model_set()
    features, speaker = models.features, models.synthesizer.speaker

    @torch.inference_mode()
    def reference_stages(request: dict) -> dict:
        clip = load_reference_clips(request["reference"], ()).main
        runs = phonemize_reference_text(request["reference_text"], "all_zh", models.info.symbol_version)
        audio_16k = audio.reference_spectrogram_inputs(clip, with_speaker_audio=True).audio_16k
        fbank = kaldi_fbank(audio_16k)
        stages = {
            "hubert": workers.seconds(lambda: features.hubert_features(audio.hubert_input(clip))),
            "bert": workers.seconds(lambda: features.bert_features(runs)),
            "spectrogram": workers.seconds(lambda: audio.reference_spectrogram_inputs(clip, with_speaker_audio=True)),
            "fbank": workers.seconds(lambda: kaldi_fbank(audio_16k)),
            "speaker_network": workers.seconds(lambda: speaker.model(fbank[None])),
            "speaker": workers.seconds(lambda: speaker(audio_16k)),
        }
        np.save(request["embedding_out"], speaker(audio_16k).numpy())
        return {"stages_s": stages}

    workers.serve(reference_stages, {"side": "ours"}, replies)


def machine_load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def measure(args, folder: Path) -> dict:
    checkpoints = args.checkpoints
    if checkpoints is None:
        checkpoints = folder / "checkpoints"
        export_checkpoints.write_checkpoints(checkpoints, [VERSION])
    env = openmp.wait_briefly({**os.environ, "HF_HUB_OFFLINE": "1"})
    log = Path(tempfile.mkstemp(prefix="reference-speed-workers-", suffix=".log")[1])
    sides = {"ours": [sys.executable, __file__, "--worker", "--checkpoints", str(checkpoints),
                      "--threads", str(args.threads)]}  # fmt: skip
    if args.official:
        sides["official"] = [args.official_python, str(OFFICIAL_WORKER), "--official", str(args.official),
                             "--checkpoints", str(checkpoints), "--version", VERSION,
                             "--threads", str(args.threads)]  # fmt: skip
    request = {"kind": "reference", "reference": str(real_size.speech_like_reference(folder)),
               "reference_text": real_size.REFERENCE_TEXT}  # fmt: skip
    results = {"threads": args.threads, "rounds": args.repeats, "worker_log": str(log), "load_before": machine_load()}
    running = {name: workers.Worker(command, log, env) for name, command in sides.items()}
    try:
        rounds = {name: [] for name in running}
        for round_index in range(args.repeats + 1):  # round 0 warms up
            for name, worker in running.items():
                reply = worker.request(**request, embedding_out=str(folder / f"{name}.npy"))
                if round_index:
                    rounds[name].append(reply["stages_s"])
    finally:
        for worker in running.values():
            worker.close()
    medians = {
        name: {stage: round(statistics.median(r[stage] for r in side_rounds), 3) for stage in side_rounds[0]}
        for name, side_rounds in rounds.items()
    }
    results["median_s"] = medians
    if "official" in medians:
        results["official_over_ours"] = {
            stage: round(medians["official"][stage] / medians["ours"][stage], 2) for stage in medians["ours"]
        }
        ours, official = np.load(folder / "ours.npy"), np.load(folder / "official.npy")
        results["speaker_embedding_difference"] = float(np.abs(ours - official).max() / np.abs(official).max())
    results["load_after"] = machine_load()
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", type=Path, help="export_checkpoints.py's layout")
    parser.add_argument("--official", type=Path, help="an official GPT-SoVITS checkout to time beside ours")
    parser.add_argument("--official-python", default=sys.executable, help="the interpreter to run it with")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds after the warm-up round")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # internal: serve our side
    args = parser.parse_args()
    if args.worker:
        ours_worker(args.checkpoints, args.threads)
        return
    with tempfile.TemporaryDirectory(prefix="reference-speed-") as folder:
        results = measure(args, Path(folder))
    print(json.dumps(results) if args.json else json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
