"""The official GPT-SoVITS `get_tts_wav` (GPT_SoVITS/inference_webui.py) as a benchmark worker (workers.py), so
paragraph.py can time it beside our engine on the same paragraph, reference clip and checkpoint files.

    OFFICIAL_PYTHON benchmarks/official_worker.py --official CHECKOUT --checkpoints DIR --version v2 [--threads 2]

Nothing of the official code is copied here: it is imported from CHECKOUT, a GPT-SoVITS work tree the user
installed (tested with commit 48b1a016), run by OFFICIAL_PYTHON, an interpreter with what its inference imports:
torch (CPU), numpy<2, librosa, transformers<5, pytorch-lightning, peft, x_transformers, einops, jieba, jieba_fast,
pypinyin, cn2an, psutil, PyYAML, soundfile, and torchaudio (its pure-Python part is enough: Resample; without a
matching C extension, delete torchaudio/lib/*.so). The stand-ins below replace what inference would download or
what plays no part in a Chinese paragraph:

* `gradio`: an inert module (the web UI is built at import time; only gr.Warning is called on this path).
* `text.LangSegmenter`: the language splitter needs a fastText model download. For text without Latin letters and
  language "all_zh" it returns the whole text as one Chinese segment, which is what the real splitter ends with
  (every segment relabelled zh, merged); other text is refused.
* `text.g2pw`: the G2PW polyphone model is a download too. A stand-in lets `text.chinese2` import, and its
  `is_g2pw` is turned off, so Chinese goes through its pypinyin branch: the branch our front end reproduces.
* `torchaudio.load`: read with soundfile (recent torchaudio needs torchcodec); the same float32 samples for PCM WAV.
* `sv.sv_path`: the speaker-encoder file from DIR instead of the checkout's pretrained_models folder.
* Lengths: random weights never stop sensibly, so the T2S decoder is held to the token counts the driver sends, one
  per sentence: EOS is never sampled (its logit is -inf, by a forward hook on `ar_predict_layer`) and
  `early_stop_num` is that count, so the decoder generates one token more and SoVITS decodes exactly the count
  (upstream's `y[:, -idx:]`). Our engine is held the same way (real_size.force_lengths).

A request with "kind": "reference" (reference_speed.py) times the reference stages instead (`reference_stages`).

The worker runs in a scratch working directory (the web UI writes weight.json into its working directory) and
reports, per paragraph: wall time, time to the first audio (get_tts_wav yields once, at the end), seconds of audio,
the phones each sentence gave T2S and the tokens SoVITS decoded, and the seconds spent in T2S and SoVITS.
"""

import argparse
import math
import os
import sys
import tempfile
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workers  # noqa: E402


class _Inert:
    """Accepts any construction, call, attribute or `with`: stands in for the web UI's gradio objects."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Inert()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Inert()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def install_stand_ins(checkout: Path, checkpoints: Path) -> None:
    source = checkout / "GPT_SoVITS"
    sys.path[:0] = [str(source), str(checkout)]
    sys.path.append(str(source / "eres2net"))

    gradio = types.ModuleType("gradio")

    def any_component(name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Inert()

    gradio.__getattr__ = any_component
    gradio.Warning = gradio.Info = lambda message, *args, **kwargs: print("[gradio]", message, file=sys.stderr)
    sys.modules["gradio"] = gradio

    import text  # the official package; only two of its submodules are replaced

    segmenter = types.ModuleType("text.LangSegmenter")

    class LangSegmenter:
        @staticmethod
        def getTexts(value, default_lang=""):
            if default_lang != "zh" or any("a" <= c.lower() <= "z" for c in value):
                raise NotImplementedError("the benchmark's language splitter only takes Chinese text as all_zh")
            return [{"lang": "zh", "text": value}]

    segmenter.LangSegmenter = LangSegmenter
    sys.modules["text.LangSegmenter"] = text.LangSegmenter = segmenter

    g2pw = types.ModuleType("text.g2pw")
    g2pw.G2PWPinyin = lambda *args, **kwargs: None
    g2pw.correct_pronunciation = lambda word, pinyins: pinyins
    sys.modules["text.g2pw"] = text.g2pw = g2pw
    import text.chinese2

    text.chinese2.is_g2pw = False

    import numpy as np
    import soundfile
    import torch
    import torchaudio

    def load(path, *args, **kwargs):
        samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
        return torch.from_numpy(np.ascontiguousarray(samples.T)), rate

    torchaudio.load = load

    import sv

    sv.sv_path = str(checkpoints / "sv" / "pretrained_eres2netv2w24s4ep4.ckpt")


class HeldLengths:
    """Holds the official T2S decoder to given token counts (see the module docstring) and times T2S and SoVITS."""

    def __init__(self, webui):
        self.webui = webui
        self.tokens: list[int] = []  # what the current paragraph's sentences must decode, in order
        self.phones: list[int] = []
        self.decoded: list[int] = []
        self.seconds = {"t2s": 0.0, "sovits": 0.0}
        decoder = webui.t2s_model.model
        eos = decoder.EOS

        def without_eos(module, inputs, logits):
            logits[..., eos] = -math.inf
            return logits

        decoder.ar_predict_layer.register_forward_hook(without_eos)
        infer_panel, decode = decoder.infer_panel, webui.vq_model.decode

        def held_infer_panel(x, x_lens, prompts, bert_feature, **kwargs):
            kwargs["early_stop_num"] = self.tokens[len(self.phones)]
            self.phones.append(int(x.shape[-1]))
            started = time.perf_counter()
            y, idx = infer_panel(x, x_lens, prompts, bert_feature, **kwargs)
            self.seconds["t2s"] += time.perf_counter() - started
            self.decoded.append(int(idx) if prompts is not None else int(y.shape[-1]))
            return y, idx

        def timed_decode(*args, **kwargs):
            started = time.perf_counter()
            audio = decode(*args, **kwargs)
            self.seconds["sovits"] += time.perf_counter() - started
            return audio

        decoder.infer_panel = held_infer_panel
        webui.vq_model.decode = timed_decode

    def start(self, tokens: list[int]) -> None:
        self.tokens, self.phones, self.decoded = list(tokens), [], []
        self.seconds = dict.fromkeys(self.seconds, 0.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--official", type=Path, required=True, help="the official GPT-SoVITS checkout")
    parser.add_argument("--checkpoints", type=Path, required=True, help="export_checkpoints.py's layout")
    parser.add_argument("--version", required=True, help="v2 | v2ProPlus")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    replies = workers.claim_stdout()  # the official code prints on stdout
    checkout, checkpoints = args.official.resolve(), args.checkpoints.resolve()

    os.environ.update(
        version="v2", is_half="False", gpt_path=str(checkpoints / args.version / "t2s.ckpt"),
        sovits_path=str(checkpoints / args.version / "sovits.pth"),
        cnhubert_base_path=str(checkpoints / "hubert"), bert_path=str(checkpoints / "bert"),
    )  # fmt: skip
    os.chdir(tempfile.mkdtemp(prefix="official-webui-"))
    started = time.perf_counter()
    import torch

    torch.set_num_threads(args.threads)
    install_stand_ins(checkout, checkpoints)
    import inference_webui as webui

    lengths = HeldLengths(webui)
    load_seconds = time.perf_counter() - started

    def synthesize(request: dict) -> dict:
        lengths.start(request["tokens"])
        chinese = webui.i18n("中文")
        started = time.perf_counter()
        rate, audio = next(webui.get_tts_wav(
            request["reference"], request["reference_text"], chinese, request["text"], chinese,
            how_to_cut=webui.i18n(request["how_to_cut"]), top_k=15, top_p=1, temperature=1,
        ))  # fmt: skip
        wall = time.perf_counter() - started
        return {
            "sentences": len(lengths.decoded), "audio_s": round(len(audio) / rate, 2), "wall_s": round(wall, 2),
            "rtf": round(wall / (len(audio) / rate), 3), "first_audio_s": round(wall, 2),
            "stages_s": {stage: round(seconds, 2) for stage, seconds in lengths.seconds.items()},
            "phones": lengths.phones, "tokens": lengths.decoded,
        }  # fmt: skip

    def handle(request: dict) -> dict:
        return reference_stages(webui, request) if request.get("kind") == "reference" else synthesize(request)

    workers.serve(handle, {"side": "official", "version": webui.model_version, "load_s": round(load_seconds, 1)},
                  replies)  # fmt: skip


def reference_stages(webui, request: dict) -> dict:
    """reference_speed.py's request: each reference stage of get_tts_wav timed once on `request["reference"]`, the
    way get_tts_wav calls it (fp32, CPU); the speaker embedding saved to `request["embedding_out"]` (.npy)."""
    import kaldi  # GPT_SoVITS/eres2net/kaldi.py, what sv.SV uses
    import librosa
    import numpy as np
    import torch

    path, hps = request["reference"], webui.hps
    _, word2ph, normalized_text = webui.clean_text_inf(request["reference_text"], "all_zh", "v2")
    spectrogram_inputs = webui.get_spepc(hps, path, torch.float32, "cpu", is_v2pro=True)
    audio_16k = spectrogram_inputs[1]  # [1, N]: the peak-limited 32 kHz signal resampled to 16 kHz
    fbank = kaldi.fbank(audio_16k[0].unsqueeze(0), num_mel_bins=80, sample_frequency=16000, dither=0)

    def hubert():
        wav16k, _ = librosa.load(path, sr=16000)
        silence = torch.zeros(int(hps.data.sampling_rate * 0.3))  # get_tts_wav's zero_wav
        webui.ssl_model.model(torch.cat([torch.from_numpy(wav16k), silence]).unsqueeze(0))

    sv = webui.sv_cn_model
    with torch.no_grad():
        stages = {
            "hubert": workers.seconds(hubert),
            "bert": workers.seconds(lambda: webui.get_bert_feature(normalized_text, word2ph)),
            "spectrogram": workers.seconds(lambda: webui.get_spepc(hps, path, torch.float32, "cpu", is_v2pro=True)),
            "fbank": workers.seconds(
                lambda: kaldi.fbank(audio_16k[0].unsqueeze(0), num_mel_bins=80, sample_frequency=16000, dither=0)),
            "speaker_network": workers.seconds(lambda: sv.embedding_model.forward3(fbank[None])),
            "speaker": workers.seconds(lambda: sv.compute_embedding3(audio_16k)),
        }  # fmt: skip
        np.save(request["embedding_out"], sv.compute_embedding3(audio_16k)[0].numpy())
    return {"stages_s": stages}


if __name__ == "__main__":
    main()
