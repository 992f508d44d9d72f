"""Intermediates of the models under the parity vectors' names, collected from the outside.

Production code carries no tracing: these helpers call the models' stage methods one by one and read the outputs
of inner modules with forward hooks, so the parity tests can compare every recorded stage.
"""

from contextlib import contextmanager

import torch

from gpt_sovits.models.t2s import SamplingParams, T2SInput, T2SOutput, Text2Semantic


@contextmanager
def module_outputs(**modules):
    """Record the output of each named module's forward while the block runs: `with module_outputs(x=m) as seen:`."""
    seen: dict[str, torch.Tensor] = {}
    handles = [
        module.register_forward_hook(lambda _module, _inputs, output, name=name: seen.__setitem__(name, output.detach().clone()))
        for name, module in modules.items()
        if module is not None
    ]
    try:
        yield seen
    finally:
        for handle in handles:
            handle.remove()


def sovits_stages(sovits, spectrogram, speaker_embedding, codes, phone_ids, speed, noise_scale, noise) -> dict:
    """Every SoVITS stage from its recorded inputs, keyed like the vectors; `noise` is the recorded decode noise."""
    pro = sovits.config.is_pro
    probes = dict(ge_ref_enc=sovits.ref_enc)
    if pro:
        probes.update(sv_emb_proj=sovits.sv_emb, ge_after_prelu=sovits.prelu, ge_512=sovits.ge_to512)
    with torch.inference_mode(), module_outputs(**probes) as seen:
        ge = sovits.timbre_embedding(spectrogram, speaker_embedding)
        text_condition = sovits.text_condition(ge)
        m, logs = sovits.prior(codes, phone_ids, ge, speed)
        z = sovits.flow.reverse(m + noise * torch.exp(logs) * noise_scale, ge)
        waveform = sovits.dec(z, ge)[0, 0]
    return {
        **seen,
        "enc_p_ge_in": text_condition[0],
        "enc_p_m_p": m[0],
        "enc_p_logs_p": logs[0],
        "enc_p_y_mask": torch.ones(1, m.shape[-1]),
        "flow_g": ge[0],
        "flow_z": z[0],
        "decode_output": waveform,
        "decode_out_max_abs": waveform.abs().max(),
    }


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
