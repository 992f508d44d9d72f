"""Every stage of one synthesis at official model sizes, and the end-to-end real-time factor.

    python benchmarks/engine_speed.py [--threads 2] [--json]

Weights are random, built in this process at the official sizes (never stored, nothing downloaded), so the figures
measure compute, not quality. The workload is the issue's: a 6 s reference, 150 prompt tokens + 60 phones into
T2S, 250 generated tokens (10 s of speech) decoded by SoVITS, BERT on 30 characters.

End-to-end real-time factor = (HuBERT + 2 x BERT (reference and target) + T2S for 250 tokens + SoVITS decode +
speaker encoder for v2ProPlus) / 10 s of audio. Lower is better; below 1 is faster than real time.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import features_speed  # noqa: E402
import sovits_speed  # noqa: E402
import t2s_speed  # noqa: E402

AUDIO_SECONDS = 250 / 25  # 250 semantic tokens at 25 Hz
OFFICIAL = {"t2s_ms_per_token": 26.0, "sovits_v2_s": 1.61, "sovits_v2ProPlus_s": 4.12, "hubert_s": 0.49, "bert_s": 0.23}


def measure(threads: int = 2) -> dict:
    t2s = t2s_speed.measure(threads=threads, batches=(1,))
    sovits = sovits_speed.measure(threads=threads)["results"]
    features = features_speed.measure(threads=threads)
    t2s_seconds = t2s["batch1_total_s"]
    shared = features["hubert_s"] + 2 * features["bert_s"] + t2s_seconds
    rtf_v2 = (shared + sovits["v2"]["seconds"]) / AUDIO_SECONDS
    rtf_pro_plus = (shared + sovits["v2ProPlus"]["seconds"] + features["speaker_s"]) / AUDIO_SECONDS
    return {
        "threads": threads,
        "t2s_ms_per_token": t2s["batch1_ms_per_token_per_sentence_with_prefill"],
        "t2s_decode_ms_per_token": t2s["batch1_ms_per_token"],
        "t2s_bare_pass_ms": t2s["bare_pass_with_kv_ms"],
        "t2s_decode_vs_bare_pass": t2s["batch1_vs_bare_pass"],
        "sovits_v2_s": sovits["v2"]["seconds"],
        "sovits_v2ProPlus_s": sovits["v2ProPlus"]["seconds"],
        "hubert_s": round(features["hubert_s"], 3),
        "bert_s": round(features["bert_s"], 3),
        "speaker_s": round(features["speaker_s"], 3),
        "rtf_v2": round(rtf_v2, 3),
        "rtf_v2ProPlus": round(rtf_pro_plus, 3),
        "official": OFFICIAL,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    results = measure(args.threads)
    if args.json:
        print(json.dumps(results))
        return
    for name, value in results.items():
        if name != "official":
            reference = OFFICIAL.get(name)
            print(f"{name:28s} {value}" + (f"   (official: {reference})" if reference is not None else ""))


if __name__ == "__main__":
    main()
