"""Loaded models: the feature encoders every request shares, and a small pool of T2S + SoVITS pairs.

Each request names the T2S / SoVITS files it wants (or takes the engine's defaults), so one visitor choosing
another voice model never changes what another visitor hears. Pairs are loaded on first use and kept in a
least-recently-used pool keyed by the files' identity (path, size, modification time): a file replaced on disk is a
new model. A `ModelSet` is never mutated after it is built, so a request keeps the set it started with even if the
pool evicts it meanwhile.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gpt_sovits import weights
from gpt_sovits.checkpoints import check_compatible, load_sovits_checkpoint, load_t2s_checkpoint
from gpt_sovits.engine.synthesizers import CfmSynthesizer, VitsSynthesizer
from gpt_sovits.engine.types import ModelChoice, ModelInfo, ModelPaths
from gpt_sovits.errors import CheckpointError, DeviceError
from gpt_sovits.messages import Message
from gpt_sovits.models.features import BertEncoder, HubertEncoder
from gpt_sovits.models.sovits import SoVITS
from gpt_sovits.models.speaker import SpeakerEncoder
from gpt_sovits.models.synthesizer_v3v4 import V3V4Synthesizer
from gpt_sovits.models.t2s import Text2Semantic
from gpt_sovits.text.languages import uses_bert
from gpt_sovits.text.types import TextRun

BERT_DIM = 1024
# Zeros appended to the 16 kHz reference before HuBERT: int(32000 * 0.3) samples, i.e. 0.6 s. Upstream computes
# the count at the 32 kHz model rate and applies it at 16 kHz; the models were used this way, so we keep it.
HUBERT_PADDING_SAMPLES = 9600


@dataclass(frozen=True)
class Placement:
    """Where the models run and in which precision. CPU float32 is what the parity tests pin down (exact mode);
    float16 / bfloat16 on CUDA, or bfloat16 on a CPU that has it, are faster modes that change the numbers.

    Kept in float32 whatever the choice (where upstream keeps it, or where half precision loses too much): the
    spectrogram and the speaker encoder's fbank (computed on the CPU), the T2S sampler, the timbre encoder's mean
    over time, and the decode noise (drawn on the CPU, so a seed gives the same noise on every device).
    """

    device: str = "cpu"
    dtype: torch.dtype = torch.float32

    def apply(self, module: torch.nn.Module) -> torch.nn.Module:
        try:
            return module.to(device=self.device, dtype=self.dtype)
        except torch.OutOfMemoryError:
            raise DeviceError(Message(
                "The models do not fit in the memory of {device}: close what else uses it, or run with --device cpu.",
                device=self.device,
            )) from None

    @property
    def is_exact(self) -> bool:
        """Float32 on the CPU: the mode whose output the parity tests pin to the official code's."""
        return self.device == "cpu" and self.dtype == torch.float32


DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def choose_placement(device: str = "auto", dtype: str = "auto") -> Placement:
    """The placement a user asked for by name (the app's and the CLI's --device / --dtype), checked on this machine.

    device: "auto" (the first CUDA GPU if this PyTorch build can run on it, else the CPU), "cpu", "cuda" or "cuda:N".
    dtype: "auto" (float16 on a GPU, as the official code runs there; float32 on a CPU: exact mode), "float32",
    "float16" (GPUs only) or "bfloat16". Raises DeviceError with what to use instead.
    """
    device, dtype = device.strip().lower(), dtype.strip().lower()
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() and gpu_supported(0) else "cpu"
    try:
        parsed = torch.device(device)
    except RuntimeError:
        parsed = None
    if parsed is None or parsed.type not in ("cpu", "cuda"):
        raise DeviceError(Message("Unknown device '{device}': use auto, cpu, cuda or cuda:N.", device=device))
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(Message(
                "No CUDA GPU can be used here (no GPU is visible, or this PyTorch build has no CUDA): run with "
                "--device cpu, or install a CUDA build of PyTorch."
            ))
        index, count = parsed.index or 0, torch.cuda.device_count()
        if index >= count:
            raise DeviceError(Message(
                "There is no GPU {index}: this machine has {count} (numbered from 0).", index=index, count=count,
            ))
        if not gpu_supported(index):
            raise DeviceError(Message(
                "This PyTorch build cannot run on GPU {index} ({name}, compute capability {capability}): install a "
                "PyTorch build that supports it, or run with --device cpu.",
                index=index, name=torch.cuda.get_device_name(index),
                capability=".".join(map(str, torch.cuda.get_device_capability(index))),
            ))  # fmt: skip
    if dtype == "auto":
        dtype = "float16" if parsed.type == "cuda" else "float32"
    if dtype not in DTYPES:
        raise DeviceError(Message("Unknown precision '{dtype}': use auto, float32, float16 or bfloat16.", dtype=dtype))
    if parsed.type == "cpu" and dtype == "float16":
        raise DeviceError(Message(
            "float16 is for GPUs: on a CPU use float32 (exact, the default) or bfloat16 (faster on CPUs with "
            "bfloat16 instructions)."
        ))
    return Placement(str(parsed), DTYPES[dtype])


def gpu_supported(index: int) -> bool:
    """Whether this PyTorch build has kernels for CUDA GPU `index`: compiled for its architecture (sm_XY), or as
    PTX for an older one that the driver compiles for it (compute_XY). Recent builds leave out older GPUs, which
    would otherwise fail at the first operation with "no kernel image is available"."""
    major, minor = torch.cuda.get_device_capability(index)
    built = torch.cuda.get_arch_list()
    if not built:  # a build that does not say: let the first operation tell
        return True
    capability = major * 10 + minor
    for arch in built:
        kind, _, number = arch.partition("_")
        number = int("".join(filter(str.isdigit, number)) or 0)
        # A binary for sm_XY runs on major X with minor >= Y; PTX for compute_XY on any later GPU.
        if kind == "sm" and number // 10 == major and number % 10 <= minor:
            return True
        if kind == "compute" and number <= capability:
            return True
    return False


def placement_note(placement: Placement) -> Message | None:
    """What to tell the operator at start-up about a placement that is not exact mode, or None."""
    if placement.is_exact:
        return None
    dtype = str(placement.dtype).removeprefix("torch.")
    if placement.device == "cpu" and not torch.cpu._is_avx512_bf16_supported():
        return Message(
            "Running in {dtype} on a CPU without bfloat16 instructions (AVX512-BF16 or AMX): this is likely slower "
            "than float32, and not bit-exact with the official output.", dtype=dtype,
        )  # fmt: skip
    return Message("Running on {device} in {dtype}: faster, but not bit-exact with the official float32 output.",
                   device=placement.device, dtype=dtype)  # fmt: skip


def file_identity(path: Path) -> str:
    """Path, size and modification time: changes whenever the file does."""
    path = Path(path)
    if not path.is_file():
        # The file's name only: the folders are the server's, of no use (and no business) to a visitor.
        raise CheckpointError(Message("Model file '{name}' does not exist or is not a file.", name=path.name))
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


class FeatureModels:
    """HuBERT, BERT and (loaded when a v2Pro model first needs it) the speaker encoder: shared by every model set."""

    def __init__(self, hubert: HubertEncoder, bert: BertEncoder, speaker_path: Path | None, identity: str,
                 placement: "Placement | None" = None):  # fmt: skip
        self.placement = placement or Placement()
        self.hubert, self.bert = hubert, bert
        self._speaker_path = speaker_path
        self._speaker: SpeakerEncoder | None = None
        self._lock = threading.Lock()
        self.identity = identity  # the reference cache keys on this too: prompt tokens and timbre depend on it

    @classmethod
    def from_paths(cls, paths: ModelPaths, placement: "Placement") -> "FeatureModels":
        identity = f"{Path(paths.hubert_dir).resolve()}|{Path(paths.bert_dir).resolve()}|{paths.speaker_encoder}"
        hubert, bert = HubertEncoder.from_dir(paths.hubert_dir), BertEncoder.from_dir(paths.bert_dir)
        placement.apply(hubert.model)
        placement.apply(bert.bert)
        return cls(hubert, bert, paths.speaker_encoder, identity, placement)

    def hubert_features(self, wav16k: np.ndarray) -> torch.Tensor:
        """The reference at 16 kHz -> HuBERT's last hidden state [F, 768] (after upstream's zero padding)."""
        padded = np.concatenate([wav16k, np.zeros(HUBERT_PADDING_SAMPLES, dtype=np.float32)])
        return self.hubert(torch.from_numpy(padded))

    def bert_features(self, runs: list[TextRun] | tuple[TextRun, ...]) -> torch.Tensor:
        """[phones, 1024]: BERT features for Chinese runs, zeros for every other language (as upstream)."""
        return self.bert_features_many([runs])[0]

    def bert_features_many(self, sentences: list[list[TextRun] | tuple[TextRun, ...]]) -> list[torch.Tensor]:
        """`bert_features` for several sentences' runs, their Chinese runs encoded in one packed BERT call."""
        chinese = [run for runs in sentences for run in runs if uses_bert(run.language)]
        encoded = iter(self.bert.encode_many([(run.normalized_text, list(run.word2ph)) for run in chinese])
                       if chinese else ())
        features = []
        for runs in sentences:
            parts = [next(encoded) if uses_bert(run.language) else torch.zeros(len(run.phones), BERT_DIM)
                     for run in runs]
            features.append(torch.cat([part.to(self.bert_device) for part in parts]) if parts
                            else torch.zeros(0, BERT_DIM))
        return features

    @property
    def bert_device(self) -> torch.device:
        return next(self.bert.bert.parameters()).device

    def speaker(self, model_version: str) -> SpeakerEncoder:
        with self._lock:
            if self._speaker is None:
                path = self._speaker_path
                if path is None or not Path(path).is_file():
                    raise CheckpointError(Message(
                        "{version} models need the speaker-verification model sv/pretrained_eres2netv2w24s4ep4.ckpt "
                        "in the weights folder, and it is not there. Run `python -m gpt_sovits download` or put it "
                        "there.",
                        version=model_version,
                    ))
                self._speaker = SpeakerEncoder.from_file(path)
                self.placement.apply(self._speaker.model)
            return self._speaker


@dataclass(frozen=True)
class ModelSet:
    """One consistent T2S + synthesizer pair over the shared feature models."""

    t2s: Text2Semantic
    synthesizer: VitsSynthesizer | CfmSynthesizer
    features: FeatureModels
    info: ModelInfo
    # What cached reference work depends on: the SoVITS file (its quantizer and timbre encoder; a LoRA's base
    # too) and the feature models. Not the T2S file: nothing in a prepared reference comes from it.
    reference_identity: str

    @classmethod
    def load(cls, t2s_path: Path, sovits_path: Path, features: FeatureModels, weights_dir: Path | None) -> "ModelSet":
        """`weights_dir` is where v3/v4 models find their companions (LoRA base, vocoder, AP-BWE)."""
        lora_bases = weights.lora_base_paths(weights_dir) if weights_dir else None
        sovits_checkpoint = load_sovits_checkpoint(sovits_path, lora_bases=lora_bases)
        t2s_checkpoint = load_t2s_checkpoint(t2s_path)
        check_compatible(t2s_checkpoint, sovits_checkpoint)
        version, place = sovits_checkpoint.model_version, features.placement.apply
        if version in ("v3", "v4"):
            weights_dir = weights_dir or Path(sovits_path).parent
            companions = weights.v3_v4_companions(weights_dir, version)
            model = V3V4Synthesizer.from_checkpoint(sovits_checkpoint, companions.vocoder, companions.super_resolution)
            for module in (model.sovits, model.vocoder, model.super_resolution):
                if module is not None:
                    place(module)
            synthesizer = CfmSynthesizer(model, weights_dir)
        else:
            sovits = place(SoVITS.from_checkpoint(sovits_checkpoint))
            synthesizer = VitsSynthesizer(sovits, features.speaker(version) if sovits.config.is_pro else None)
        identity = file_identity(sovits_path)
        if sovits_checkpoint.lora_base is not None:
            identity += "|" + file_identity(sovits_checkpoint.lora_base)
        return cls(
            t2s=place(Text2Semantic.from_checkpoint(t2s_checkpoint)),
            synthesizer=synthesizer,
            features=features,
            info=ModelInfo(version, sovits_checkpoint.symbol_version, Path(t2s_path), Path(sovits_path),
                           synthesizer.sample_rate),  # fmt: skip
            reference_identity=f"{identity}|{features.identity}",
        )

    @property
    def sample_rate(self) -> int:
        return self.info.sample_rate


class ModelPool:
    """Up to `capacity` model sets, least recently used evicted first; the default pair is loaded at once."""

    def __init__(self, paths: ModelPaths, capacity: int = 2, placement: "Placement | None" = None):
        if capacity < 1:
            raise ValueError("the model pool needs room for at least one model set")
        self.default_paths = paths
        self.features = FeatureModels.from_paths(paths, placement or Placement())
        self.capacity = capacity
        self._sets: OrderedDict[tuple[str, str], ModelSet] = OrderedDict()
        self._lock = threading.Lock()  # held while loading, so two requests never load the same files twice
        self.get(None)

    def get(self, choice: ModelChoice | None) -> ModelSet:
        t2s = Path(choice.t2s) if choice and choice.t2s else self.default_paths.t2s
        sovits = Path(choice.sovits) if choice and choice.sovits else self.default_paths.sovits
        with self._lock:
            key = (file_identity(t2s), file_identity(sovits))
            model_set = self._sets.get(key)
            if model_set is None:
                model_set = ModelSet.load(t2s, sovits, self.features, self.default_paths.weights_dir)
                self._sets[key] = model_set
                while len(self._sets) > self.capacity:
                    self._sets.popitem(last=False)
            self._sets.move_to_end(key)
            return model_set


class SingleModelSet:
    """Stands in for the pool when an engine serves one model set built elsewhere (`Engine.from_model_set`)."""

    def __init__(self, model_set: ModelSet):
        self.model_set = model_set
        self.default_paths = ModelPaths(model_set.info.t2s_path, model_set.info.sovits_path, Path(), Path())

    def get(self, choice: ModelChoice | None) -> ModelSet:
        if choice and (choice.t2s or choice.sovits):
            raise CheckpointError(Message("This engine serves one fixed model set; it cannot load other model files."))
        return self.model_set
