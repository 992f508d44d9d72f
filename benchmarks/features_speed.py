"""How fast the three feature models run at their official sizes, on CPU, in fp32.

Builds each model with RANDOM weights in this process from its published configuration (nothing is downloaded
or stored) and times one typical call:

    HuBERT   chinese-hubert-base (768, 12 layers) on 6 s of 16 kHz audio + 0.6 s of padding
    BERT     chinese-roberta-wwm-ext-large (1024, 24 layers, 16 heads, 4096 FFN, vocab 21128) on 30 characters
             (32 token ids with [CLS]/[SEP]; the tokenizer itself takes well under a millisecond)
    speaker  ERes2NetV2 (w24 s4 ep4) on 6 s of 16 kHz audio, Kaldi fbank included

The upstream way of calling each transformer is timed too, next to ours: for BERT the whole masked-LM model with
every hidden state (`hidden_states[-3]` kept) against ours without the head and the last two layers; for HuBERT
the positional conv's weight norm recomputed on every call against ours, folded once at load. Upstream figures
measured on the development machine: HuBERT 0.49 s, BERT 0.23 s. Each number is the best of several runs after a
warm-up; the CPU seconds and the matmul rate beside them tell how busy the machine was.

    python benchmarks/features_speed.py [--threads 2] [--repeats 5] [--json]
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

import torch
from transformers import BertConfig, BertForMaskedLM, HubertConfig, HubertModel

from gpt_sovits.models.features import bert_up_to_third_last_layer, hubert_for_inference
from gpt_sovits.models.speaker import ERes2NetV2, kaldi_fbank

SAMPLE_RATE = 16000
AUDIO_SECONDS = 6.0
HUBERT_PADDING = 9600  # the 0.6 s of zeros upstream appends to the reference before HuBERT
NUM_CHARACTERS = 30

# chinese-hubert-base: the base HuBERT layout (7 conv layers of 512 channels, 12 transformer layers of 768).
HUBERT_BASE = HubertConfig(
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    conv_dim=(512,) * 7,
    conv_kernel=(10, 3, 3, 3, 3, 2, 2),
    conv_stride=(5, 2, 2, 2, 2, 2, 2),
    conv_bias=False,
    feat_extract_norm="group",
    num_conv_pos_embeddings=128,
    num_conv_pos_embedding_groups=16,
    do_stable_layer_norm=False,
    attn_implementation="sdpa",  # as HubertEncoder pins it
)

# chinese-roberta-wwm-ext-large
BERT_LARGE = BertConfig(
    hidden_size=1024,
    num_hidden_layers=24,
    num_attention_heads=16,
    intermediate_size=4096,
    vocab_size=21128,
    max_position_embeddings=512,
    type_vocab_size=2,
    attn_implementation="sdpa",  # as BertEncoder pins it
)


def _best_seconds(call, repeats: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of `repeats` calls. The CPU time (all threads together) is what to
    compare when other programs share the machine: the wall time then also counts the waiting."""
    call()  # warm-up: first calls allocate buffers and pick kernels
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu


def _time(results: dict, name: str, call, repeats: int):
    results[f"{name}_s"], results[f"{name}_cpu_s"] = _best_seconds(call, repeats)


def _random_audio(seconds: float, generator: torch.Generator) -> torch.Tensor:
    return 0.1 * torch.randn(int(seconds * SAMPLE_RATE), generator=generator)


def measure(threads: int = 2, repeats: int = 5) -> dict:
    """Seconds per call for each model (best of `repeats`), with `threads` CPU threads."""
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(0)
    results = {"threads": threads, "repeats": repeats}
    try:
        with torch.inference_mode():
            # Calibration: what this machine's matrix multiply gives right now (other programs may share it).
            a, b = torch.randn(2048, 2048, generator=generator), torch.randn(2048, 2048, generator=generator)
            _time(results, "matmul_2048", lambda: a @ b, repeats)
            results["matmul_gflops"] = 2 * 2048**3 / results["matmul_2048_s"] / 1e9

            hubert = HubertModel(HUBERT_BASE).eval()
            reference_wav = torch.cat([_random_audio(AUDIO_SECONDS, generator), torch.zeros(HUBERT_PADDING)])
            hubert_call = lambda: hubert(reference_wav[None]).last_hidden_state  # noqa: E731
            _time(results, "hubert_upstream_style", hubert_call, repeats)  # weight norm recomputed every call
            hubert_for_inference(hubert)
            _time(results, "hubert", hubert_call, repeats)
            del hubert

            masked_lm = BertForMaskedLM(BERT_LARGE).eval()
            token_ids = torch.randint(100, BERT_LARGE.vocab_size, (1, NUM_CHARACTERS + 2), generator=generator)
            attention_mask = torch.ones_like(token_ids)
            upstream_call = lambda: masked_lm(  # noqa: E731 - every hidden state, then keep one
                input_ids=token_ids, attention_mask=attention_mask, output_hidden_states=True
            ).hidden_states[-3]
            _time(results, "bert_upstream_style", upstream_call, repeats)
            bert = bert_up_to_third_last_layer(masked_lm)
            _time(results, "bert", lambda: bert(input_ids=token_ids).last_hidden_state, repeats)
            del masked_lm, bert

            speaker = ERes2NetV2().eval()
            speaker_wav = _random_audio(AUDIO_SECONDS, generator)
            _time(results, "speaker_fbank", lambda: kaldi_fbank(speaker_wav), repeats)
            _time(results, "speaker", lambda: speaker(kaldi_fbank(speaker_wav)[None]), repeats)
    finally:
        torch.set_num_threads(previous_threads)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    args = parser.parse_args()
    results = measure(args.threads, args.repeats)
    if args.json:
        print(json.dumps(results))
        return
    print(f"{args.threads} threads, fp32, best of {args.repeats}: wall seconds (CPU seconds, all threads)")
    rows = [
        ("HuBERT base, 6.6 s audio (ours)", "hubert", "upstream 0.49 s"),
        ("HuBERT base, upstream call", "hubert_upstream_style", ""),
        ("BERT large, 30 chars (ours, 22 layers)", "bert", "upstream 0.23 s"),
        ("BERT large, upstream call (24 layers)", "bert_upstream_style", ""),
        ("ERes2NetV2, 6 s audio (with fbank)", "speaker", ""),
        ("  Kaldi fbank alone", "speaker_fbank", ""),
    ]
    print(f"(machine check: a 2048x2048 matmul runs at {results['matmul_gflops']:.0f} GFLOP/s)")
    for label, key, note in rows:
        print(f"{label:40s} {results[key + '_s']:7.3f} s ({results[key + '_cpu_s']:7.3f} s)  {note}")

if __name__ == "__main__":
    main()
