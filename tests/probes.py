"""Intermediates of the models under the parity vectors' names, collected from the outside.

Production code carries no tracing: these helpers call the models' stage methods one by one and read the outputs
of inner modules with forward hooks, so the parity tests can compare every recorded stage.
"""

from contextlib import contextmanager

import torch


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
