"""How close our arrays must be to the official implementation's recorded vectors: the one table every test reads.

The rule:
  * integer arrays (codes, tokens, ids, steps) are identical;
  * a float array passes when  max|ours - official| <= relative x max|official| + absolute  (no per-element rtol).

Why scale-aware and not per element: the float error that differs between legitimate builds (MKL's FFT and GEMM
branch, oneDNN's convolution ISA, torch's own vectorised kernels, the thread count) is absolute, of the order of
float32 eps times the largest value of the array, and it lands on small elements as much as on large ones (a
spectrogram bin of 0.01 next to one of 100 carries the same ~1e-5). Relative-to-the-array's-peak is that model. A
real bug (wrong window, layer, order, input) shows as an error of the order of the values themselves, hundreds to
thousands of times these bounds.

Where the numbers come from: `python tests/tolerance_sweep.py` runs every parity stage under each combination of
MKL_CBWR x ONEDNN_MAX_CPU_ISA x ATEN_CPU_CAPABILITY x 1/2 threads that takes a distinct path on the machine, and
prints the worst error per array; each bound below is a 4-10x safety factor over the worst it found (the final
waveform excepted, see there). "Here" is the AMD EPYC (AVX2, no AVX-512) the table was set on: 16 combinations;
MKL ignores MKL_CBWR=AVX2/AVX512 on it, and no variable changes its FFT (bit-exact with the vectors). "Xeon" is
the sweep on an Intel Xeon (AVX-512, where MKL_CBWR does move the FFT) in the project's aesthetics review, section
6 "Tests" (shared research notes, research/aesthetics-review.md), given there as max abs error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    relative: float = 0.0  # times max|official| of the array
    absolute: float = 0.0

    def bound(self, expected: np.ndarray) -> float:
        scale = float(np.max(np.abs(expected))) if np.size(expected) else 0.0
        return self.relative * scale + self.absolute


EXACT = Tolerance()

# Vector array name -> tolerance. "t2s_logits_step<N>" stands for every recorded logits step.
# In the comments: "here" = the worst relative error (max|ours - official| / max|official|) over all public cases and
# all 16 combinations of the sweep on the AMD EPYC (which variable caused it); "Xeon" = the Intel Xeon (AVX-512)
# sweep of the aesthetics review, max abs error, with the array's scale. Where no number from the Xeon exists,
# the bound is nearer 10x than 4x over "here".
TOLERANCES: dict[str, Tolerance] = {
    # reference_audio: resampling (soxr for HuBERT; for the spectrogram path a sinc conv1d, which oneDNN runs)
    # and the STFT (MKL's FFT)
    # here 0; Xeon 0. Allows a few ulp of the peak, for a soxr build with other SIMD
    "hubert_input_wav16k_padded": Tolerance(relative=1e-6),
    "spepc_audio": Tolerance(relative=1e-6),  # here 2.0e-7 (oneDNN SSE4.1); Xeon 0 (MKL paths)
    # here 1.9e-7 (resampler under oneDNN SSE4.1; the FFT itself is bit-exact here); Xeon 1.5e-5..2.3e-5 abs at
    # scale 81..178, <= 2.8e-7 relative (FFT). The two together: ~4.7e-7
    "refer_spec": Tolerance(relative=2e-6),
    # hubert, bert: transformer stacks (GEMM; a conv front end for HuBERT)
    "hubert_last_hidden_state": Tolerance(relative=1e-5),  # here 1.9e-6 (2 threads)
    "t2s_bert": Tolerance(relative=4e-6),  # here 4.0e-7 (MKL COMPATIBLE)
    # t2s: logits (one bound for the same quantity; ranking ties within 2x this are allowed to swap)
    "t2s_logits_step<N>": Tolerance(relative=5e-6),  # here 7.2e-7 (MKL COMPATIBLE)
    "t2s_step_top8_values": Tolerance(relative=5e-6),  # here 4.3e-7
    "t2s_step_eos_logit": Tolerance(relative=5e-6),  # here 8.2e-7 (MKL COMPATIBLE)
    # speaker: Kaldi log-mel fbank (FFT, then log, which magnifies power error near the floor; its scale is the
    # log floor, 15.9) and the ERes2NetV2 embedding (2-D convolutions, ~75)
    "sv_fbank": Tolerance(relative=1e-4),  # here 1.1e-6 (ATen default); Xeon 8.1e-5..1.9e-4 abs = <= 1.2e-5 (MKL AVX2)
    "sv_emb": Tolerance(relative=2e-4),  # here 2.3e-5 (MKL COMPATIBLE + oneDNN SSE4.1); Xeon <= 1.26e-3 abs = 1.7e-5
    # sovits_decode: timbre embedding, text encoder, flow. Fed the recorded inputs they agree to ~1e-6; the bounds
    # are set by end_to_end, where our own speaker embedding (above) feeds them, so they move with it
    "ge_ref_enc": Tolerance(relative=5e-6),  # here 5.2e-7 (all three libraries off their native path)
    "sv_emb_proj": Tolerance(relative=5e-5),  # here 9.9e-6 (end_to_end)
    "ge_after_prelu": Tolerance(relative=5e-5),  # here 1.1e-5 (end_to_end)
    "ge_512": Tolerance(relative=5e-5),  # here 8.0e-6 (end_to_end)
    "enc_p_ge_in": Tolerance(relative=5e-5),  # here 8.0e-6 (end_to_end)
    "enc_p_m_p": Tolerance(relative=5e-5),  # here 6.2e-6 (end_to_end)
    "enc_p_logs_p": Tolerance(relative=5e-5),  # here 6.5e-6 (end_to_end)
    "enc_p_y_mask": EXACT,  # ones and zeros
    "flow_g": Tolerance(relative=5e-5),  # here 1.1e-5 (end_to_end)
    "flow_z": Tolerance(relative=1e-4),  # here 1.3e-5 (end_to_end)
    # The seeded noise draw (end_to_end, test_sovits): bit-identical wherever torch runs its AVX2 kernels; its
    # scalar normal-distribution kernel (ATEN_CPU_CAPABILITY=default, a CPU without AVX2) rounds the last bit
    # differently: here 4.6e-7. A wrong seed or draw order is an O(1) difference.
    "decode_noise": Tolerance(relative=2e-6),
    # The product, the waveform (peak <= 1), stays tight in absolute terms, by decision rather than by the 4-10x
    # rule: here 4.8e-6 with the recorded inputs (sovits_decode) and 6.2e-5 end to end (oneDNN SSE4.1, v2ProPlus,
    # where the speaker embedding's error reaches it); Xeon 1.4e-6..5.0e-5
    "decode_out_max_abs": Tolerance(absolute=1e-4),  # here 1.8e-6
    "output_wav_float": Tolerance(absolute=1e-4),
    # ---- v3 / v4 (tests/test_v34.py): "here" = worst relative error of the native path and the second path
    # of .ci/run (MKL COMPATIBLE, oneDNN SSE4.1, ATen default), on this machine
    # reference: the mel front end. MKL's FFT noise is large relative to near-silent bins, and the log shows it.
    "mel_ref_audio": Tolerance(relative=1e-6),  # here 0, second path 2.1e-7
    "mel_ref_log": Tolerance(relative=5e-4),  # here 6.5e-5, second path 6.7e-5
    "cfm0_prompt": Tolerance(relative=1e-3),  # here 1.2e-4 (v4 at 22 kHz: the prompt is near-silent above 11 kHz)
    "ge": Tolerance(relative=1e-5),  # here 6.2e-7 (both paths)
    # features (decode_encp): text encoder, bridge, wns1
    "encp_ref_enc_p_x": Tolerance(relative=1e-5),  # here 1.1e-6
    "encp_tgt_enc_p_x": Tolerance(relative=1e-5),  # here 1.3e-6 (second path)
    "encp_ref_fea": Tolerance(relative=2e-5),  # here 1.8e-6 (second path)
    "encp_tgt_fea": Tolerance(relative=2e-5),  # here 1.6e-6
    # dit: one DiT evaluation (sin of 1000 t near t = 1 carries the rounding of a ~1000 rad angle)
    "cfm0_dit_text_embed_probe": Tolerance(relative=1e-5),  # here 7.2e-7 (second path)
    "cfm0_dit_time_embed_step0": Tolerance(relative=1e-5),  # here 4.6e-7
    "cfm0_dit_time_embed_steplast": Tolerance(relative=5e-5),  # here 6.2e-6
    "cfm0_dit_dt_embed": Tolerance(relative=1e-5),  # here 1.0e-6
    "cfm0_step0_input_embed_probe": Tolerance(relative=1e-5),  # here 9.2e-7
    "cfm0_step0_block_out_probe": Tolerance(relative=2e-5),  # here 1.3e-6
    "cfm0_vpred_step0": Tolerance(relative=2e-5),  # here 2.1e-6 (second path)
    # chunking / cfm: the seeded noise (the normal draw's rounding, as decode_noise), the chunks' inputs (slices of
    # recorded arrays: exact), each chunk's mel after sample_steps Euler steps
    "cfm<k>_noise": Tolerance(relative=2e-6),  # here 0, second path 4.4e-7
    "cfm<k>_condition": EXACT,
    "cfm<k>_prompt": EXACT,
    "chunked_mel": EXACT,  # the (recorded) chunk outputs joined
    "cfm<k>_gen": Tolerance(relative=2e-5),  # here 1.2e-6 (8 to 32 steps; slow run, native path only)
    # vocoder (v4 HiFiGAN; the tiny v3 BigVGAN is chaotic, see test_v34.CHAOTIC)
    "vocoder_out": Tolerance(absolute=1e-4),  # here 1.7e-6
    "vocoder_out_max_abs": Tolerance(absolute=1e-4),  # here 6e-8
    # super_res: the narrow-band spectrum as complex numbers (a near-zero bin's phase is noise), the AP-BWE model
    # on the recorded inputs over the frames they decide (phase compared on the circle, in radians)
    "sr_nb_spectrum": Tolerance(relative=1e-5),  # here 2.7e-7
    "sr_mag_wb_probe": Tolerance(relative=1e-5),  # here 1.0e-7
    "sr_pha_wb_probe": Tolerance(absolute=1e-3),  # here 1.1e-5 rad (second path)
}

# Comparisons named differently from the vector array they compare against.
SAME_AS = {"decode_output": "output_wav_float"}  # the decoder's waveform = the recorded output without its pause


def table_key(name: str) -> str:
    """The row of the table an array name falls under: "t2s_logits_step12" -> "t2s_logits_step<N>", "cfm1_gen" ->
    "cfm<k>_gen" (rows of their own, like "cfm0_prompt", stay), "sr_mag_wb_probe[frames 0-22]" -> "sr_mag_wb_probe"."""
    name = name.split("[")[0]
    if re.fullmatch(r"t2s_logits_step\d+", name):
        return "t2s_logits_step<N>"
    return name if name in TOLERANCES else re.sub(r"^cfm\d+_", "cfm<k>_", name)


def tolerance_for(name: str) -> Tolerance:
    """The tolerance of vector array `name` (KeyError naming this file when a float array has none)."""
    name = table_key(SAME_AS.get(name, name))
    if name not in TOLERANCES:
        raise KeyError(f"no tolerance for the float array {name!r}: add it to tests/tolerances.py")
    return TOLERANCES[name]


def allowed_error(name: str, expected) -> float:
    """Largest max abs difference allowed between ours and the official `expected` array `name` (0: identical)."""
    expected = np.asarray(expected)
    if expected.dtype.kind in "iub":
        return 0.0
    return tolerance_for(name).bound(expected)


def max_abs_error(actual, expected) -> float:
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    return float(np.max(np.abs(actual - expected))) if expected.size else 0.0


def assert_matches_official(name: str, actual, expected) -> None:
    """For module tests: `actual` (array or tensor) equals the official `name` array within the table."""
    actual = actual.detach().cpu().numpy() if hasattr(actual, "detach") else np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} != official {expected.shape}"
    if expected.dtype.kind in "iub":
        mismatches = int(np.count_nonzero(actual != expected))
        assert mismatches == 0, f"{name}: {mismatches} of {expected.size} values differ from the official ones"
        return
    error, allowed = max_abs_error(actual, expected), allowed_error(name, expected)
    assert error <= allowed, f"{name}: max abs error {error:.3e} > allowed {allowed:.3e} ({tolerance_for(name)})"
