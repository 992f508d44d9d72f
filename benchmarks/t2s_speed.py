"""How fast the T2S model generates at the official size, on CPU, in fp32.

Builds a real-size model (512 dim, 16 heads, 24 layers, 1025 semantic tokens, 732 phones) with RANDOM weights
in this process (nothing is downloaded or stored), then times `generate` for a typical sentence: 60 phones, a
150-token reference prompt, 250 generated tokens (the step cap stops it there, so EOS never cuts it short).

The yardstick is a "bare pass": the same weight matrices applied to one vector with nothing else (no attention,
no cache, no sampling) - the memory-bound floor of one decode step. Upstream's naive CPU path measured 26.0 ms/token.

    python benchmarks/t2s_speed.py [--threads 2] [--json]
"""

import argparse
import json
import time

import torch
import torch.nn.functional as F

from gpt_sovits.checkpoints import T2SConfig
from gpt_sovits.models.t2s import SamplingParams, Text2Semantic

OFFICIAL_SIZE = T2SConfig(
    embedding_dim=512,
    hidden_dim=512,
    num_heads=16,
    num_layers=24,
    vocab_size=1025,
    phoneme_vocab_size=732,
    eos_id=1024,
    early_stop_num=2700,
)
NUM_PHONES, NUM_PROMPT, NUM_GENERATED = 60, 150, 250


def random_model(config: T2SConfig, seed: int = 0) -> Text2Semantic:
    """A model of the given size with small random weights, rounded through fp16 like real checkpoints."""
    model = Text2Semantic(config).eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator) * 0.02
            base = 1.0 if "norm" in name or "alpha" in name else 0.0
            parameter.copy_((base + noise).half().float())
    return model


def bare_pass_ms(model: Text2Semantic, repeats: int) -> float:
    """Milliseconds for one vector through every weight matrix of a decode step (no attention or sampling)."""
    x = torch.randn(1, model.config.hidden_dim)
    with torch.inference_mode():
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            h = x
            for block in model.blocks:
                qkv = F.linear(h, block.qkv.weight, block.qkv.bias)
                h = F.linear(qkv[:, : h.shape[1]], block.attention_out.weight, block.attention_out.bias)
                h = F.linear(F.linear(h, block.ffn_in.weight, block.ffn_in.bias), block.ffn_out.weight, block.ffn_out.bias)
            F.linear(h, model.to_logits.weight)
            best = min(best, time.perf_counter() - start)
    return best * 1000


def generate_seconds(model: Text2Semantic, max_steps: int, seed: int = 0) -> float:
    generator = torch.Generator().manual_seed(seed)
    phone_ids = torch.randint(0, model.config.phoneme_vocab_size, (NUM_PHONES,), generator=generator)
    bert_features = torch.randn(1024, NUM_PHONES, generator=generator)
    prompt_tokens = torch.randint(0, 1024, (NUM_PROMPT,), generator=generator)
    sampling = SamplingParams(max_steps=max_steps, early_stop_num=-1)
    start = time.perf_counter()
    output = model.generate(phone_ids, bert_features, prompt_tokens, sampling, generator)
    elapsed = time.perf_counter() - start
    assert len(output.tokens) >= max_steps - 1, "benchmark model stopped early"
    return elapsed


def measure(threads: int = 2, repeats: int = 3) -> dict:
    """Time the official-size T2S; returns plain numbers (an aggregate benchmark calls this)."""
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model = random_model(OFFICIAL_SIZE)
        generate_seconds(model, 20)  # warm-up: thread pool, allocator, kernels
        prefill_s = min(generate_seconds(model, 1) for _ in range(repeats))
        total_s = min(generate_seconds(model, NUM_GENERATED) for _ in range(repeats))
        decode_ms = (total_s - prefill_s) * 1000 / (NUM_GENERATED - 1)
        bare_ms = bare_pass_ms(model, repeats=20)
    finally:
        torch.set_num_threads(previous_threads)
    return {
        "threads": threads,
        "phones": NUM_PHONES,
        "prompt_tokens": NUM_PROMPT,
        "generated_tokens": NUM_GENERATED,
        "prefill_ms": round(prefill_s * 1000, 2),
        "total_s": round(total_s, 3),
        "ms_per_token": round(total_s * 1000 / NUM_GENERATED, 2),  # everything included, prefill too
        "decode_ms_per_token": round(decode_ms, 2),  # one decode step, prefill excluded
        "bare_pass_ms": round(bare_ms, 2),
        "decode_vs_bare_pass": round(decode_ms / bare_ms, 3),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    result = measure(args.threads)
    if args.json:
        print(json.dumps(result))
        return
    print(f"T2S official size, fp32, {result['threads']} threads: {result['phones']} phones, "
          f"{result['prompt_tokens']}-token prompt, {result['generated_tokens']} tokens")
    print(f"  prefill            {result['prefill_ms']:8.2f} ms")
    print(f"  decode             {result['decode_ms_per_token']:8.2f} ms/token")
    print(f"  overall            {result['ms_per_token']:8.2f} ms/token ({result['total_s']:.2f} s)")
    print(f"  bare weight pass   {result['bare_pass_ms']:8.2f} ms  -> decode is {result['decode_vs_bare_pass']:.2f}x")


if __name__ == "__main__":
    main()
