"""The T2S intermediates the parity vectors record, collected from what the token iterator yields."""

import torch

from gpt_sovits.models.t2s import SamplingParams, T2SInput, T2SOutput, Text2Semantic


def decode_with_trace(model: Text2Semantic, row: T2SInput, sampling: SamplingParams) -> tuple[T2SOutput, dict]:
    """Decode one sentence; also return its logits under the vectors' names: t2s_logits_step<k> (every step),
    t2s_logits_step_last, and per step the top-8 non-EOS logits (values, ids) and the EOS logit."""
    logits = []
    for step in model.stream([row], sampling):
        logits.append(step.logits[0])
        if step.finished:
            output = step.finished[0]
    logits = torch.stack(logits)  # [steps, vocab]
    eos = model.config.eos_id
    top8 = torch.topk(logits[:, :eos], 8, dim=-1)
    trace = {f"t2s_logits_step{step}": step_logits for step, step_logits in enumerate(logits)}
    trace |= {
        "t2s_logits_step_last": logits[-1],
        "t2s_step_top8_values": top8.values,
        "t2s_step_top8_ids": top8.indices,
        "t2s_step_eos_logit": logits[:, eos],
    }
    return output, trace
