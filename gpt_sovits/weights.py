"""Where model files live, what they are called, and how to download the official ones.

The weights folder mirrors the Hugging Face model repo `lj1995/GPT-SoVITS` (the official pretrained files),
so a download drops every file in place and anyone who already has the official `pretrained_models/` folder
can point `--weights-dir` at it:

    weights/
      chinese-hubert-base/                 HuBERT feature model (shared by every version)
      chinese-roberta-wwm-ext-large/       Chinese BERT (shared by every version)
      s1v3.ckpt                            GPT for v2Pro / v2ProPlus / v3 / v4
      v2Pro/s2Gv2ProPlus.pth               SoVITS v2ProPlus   (v2Pro/s2Gv2Pro.pth: v2Pro)
      sv/pretrained_eres2netv2w24s4ep4.ckpt  speaker encoder, needed by v2Pro / v2ProPlus
      gsv-v2final-pretrained/s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt   GPT v2
      gsv-v2final-pretrained/s2G2333k.pth  SoVITS v2
      s1bert25hz-2kh-longer-epoch=68e-step=50232.ckpt   GPT v1
      s2G488k.pth                          SoVITS v1
      s2Gv3.pth                            SoVITS v3 (also the base every v3 LoRA fine-tune is merged onto)
      models--nvidia--bigvgan_v2_24khz_100band_256x/   BigVGAN vocoder (config.json, bigvgan_generator.pt), v3
      gsv-v4-pretrained/s2Gv4.pth          SoVITS v4 (also the base of v4 LoRA fine-tunes)
      gsv-v4-pretrained/vocoder.pth        the v4 vocoder (48 kHz)
      AP-BWE/24kto48k/                     optional v3 super-resolution to 48 kHz (g_24kto48k.zip, config.json);
                                           not on the Hub, copy it by hand (see SUPER_RESOLUTION_SOURCE)
      asr/whisper-small/                   optional: a Whisper model that transcribes reference clips on request
                                           (`download --asr whisper-small`; any Whisper folder under asr/ works)

Your own fine-tuned models can go anywhere below the folder (for example `weights/my_voice/`): every `*.ckpt`
is listed as a GPT model and every `*.pth` as a SoVITS model, except the speaker encoder and the training-only
discriminators (`s2D*.pth`).
"""

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

from gpt_sovits.errors import GptSovitsError
from gpt_sovits.messages import Message, joined

REPO_ID = "lj1995/GPT-SoVITS"
HUBERT_DIR = "chinese-hubert-base"
BERT_DIR = "chinese-roberta-wwm-ext-large"
SPEAKER_ENCODER = "sv/pretrained_eres2netv2w24s4ep4.ckpt"
BIGVGAN_DIR = "models--nvidia--bigvgan_v2_24khz_100band_256x"  # the v3 vocoder
BIGVGAN_FILES = ("config.json", "bigvgan_generator.pt")
V4_VOCODER = "gsv-v4-pretrained/vocoder.pth"
# Official base models that v3 / v4 LoRA fine-tunes are merged onto.
LORA_BASE_MODELS = {"v3": "s2Gv3.pth", "v4": "gsv-v4-pretrained/s2Gv4.pth"}
# AP-BWE 24 -> 48 kHz super-resolution for v3 (optional). Upstream distributes it outside the Hugging Face Hub.
SUPER_RESOLUTION_DIR = "AP-BWE/24kto48k"
SUPER_RESOLUTION_FILES = ("g_24kto48k.zip", "config.json")
SUPER_RESOLUTION_SOURCE = "https://drive.google.com/drive/folders/1IIYTf2zbJWzelu4IftKD6ooHloJ8mnZF"
# Optional speech recognition for the reference text (gpt_sovits/asr.py): not part of any version, downloaded only
# when asked for, each into asr/<name>/. Small is the smallest that transcribes Chinese and Japanese well; turbo is
# slower but better, and the only one that knows Cantonese.
ASR_DIR = "asr"
ASR_MODELS = {
    "whisper-small": "openai/whisper-small",
    "whisper-base": "openai/whisper-base",
    "whisper-large-v3-turbo": "openai/whisper-large-v3-turbo",
}
DEFAULT_ASR_MODEL = "whisper-small"
ASR_FILES = ("*.json", "*.txt", "model.safetensors")  # config, tokenizer, feature extractor, weights (not the rest)


@dataclass(frozen=True)
class OfficialModel:
    version: str
    t2s: str  # path inside the weights folder (and the HF repo)
    sovits: str
    needs_speaker_encoder: bool
    vocoder: str | None = None  # v3 / v4: the vocoder file or folder ('/' at the end) beside the SoVITS model


# In order of preference: the first complete pair found on disk is the default. v2ProPlus leads (the newest of
# the fast models); v4 and v3 come last because their flow-matching decoder is many times slower on a CPU.
OFFICIAL_MODELS = (
    OfficialModel("v2ProPlus", "s1v3.ckpt", "v2Pro/s2Gv2ProPlus.pth", needs_speaker_encoder=True),
    OfficialModel("v2Pro", "s1v3.ckpt", "v2Pro/s2Gv2Pro.pth", needs_speaker_encoder=True),
    OfficialModel(
        "v2",
        "gsv-v2final-pretrained/s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt",
        "gsv-v2final-pretrained/s2G2333k.pth",
        needs_speaker_encoder=False,
    ),
    OfficialModel(
        "v1", "s1bert25hz-2kh-longer-epoch=68e-step=50232.ckpt", "s2G488k.pth", needs_speaker_encoder=False
    ),
    OfficialModel("v4", "s1v3.ckpt", LORA_BASE_MODELS["v4"], needs_speaker_encoder=False, vocoder=V4_VOCODER),
    OfficialModel("v3", "s1v3.ckpt", LORA_BASE_MODELS["v3"], needs_speaker_encoder=False, vocoder=f"{BIGVGAN_DIR}/"),
)
DOWNLOADABLE_VERSIONS = tuple(model.version for model in OFFICIAL_MODELS)
DEFAULT_VERSION = "v2ProPlus"

_BY_VERSION = {model.version: model for model in OFFICIAL_MODELS}
# What each official file is for (s1v3.ckpt serves v2Pro, v2ProPlus, v3 and v4).
_T2S_LABELS = {
    _BY_VERSION["v2ProPlus"].t2s: Message("Official GPT for {versions}", versions="v2Pro / v2ProPlus / v3 / v4"),
    _BY_VERSION["v2"].t2s: Message("Official GPT {version}", version="v2"),
    _BY_VERSION["v1"].t2s: Message("Official GPT {version}", version="v1"),
}
_SOVITS_LABELS = {model.sovits: Message("Official SoVITS {version}", version=model.version) for model in OFFICIAL_MODELS}


class WeightsError(GptSovitsError):
    """Model files are missing, or the official ones could not be downloaded."""


class MissingWeightsError(WeightsError):
    """The weights folder lacks files an engine needs (a first start, before any download)."""


class MissingCompanionError(MissingWeightsError):
    """A v3 / v4 model needs a file beside it that is not there (its vocoder, its LoRA base, AP-BWE)."""


class ModelFile(NamedTuple):
    path: Path
    label: str  # what a person sees in a model list (a Message for the official files)


class ResolvedWeights(NamedTuple):
    """Every file one engine needs; the same fields as `gpt_sovits.engine.ModelPaths`."""

    t2s: Path
    sovits: Path
    hubert_dir: Path
    bert_dir: Path
    speaker_encoder: Path | None


def list_t2s_models(root: Path) -> list[ModelFile]:
    """GPT (text-to-semantic) checkpoints below `root`: official ones first, then the rest by name."""
    return _list_models(Path(root), "*.ckpt", _T2S_LABELS, skip={SPEAKER_ENCODER})


def list_sovits_models(root: Path) -> list[ModelFile]:
    """SoVITS checkpoints below `root` (training-only discriminators left out)."""
    return _list_models(Path(root), "*.pth", _SOVITS_LABELS, skip={V4_VOCODER})


def default_models(root: Path) -> tuple[Path | None, Path | None]:
    """The pair to load when none is named: the newest complete official pair, else the first files listed."""
    root = Path(root)
    for model in OFFICIAL_MODELS:
        if (root / model.t2s).is_file() and (root / model.sovits).is_file():
            return root / model.t2s, root / model.sovits
    t2s_models, sovits_models = list_t2s_models(root), list_sovits_models(root)
    return (
        t2s_models[0].path if t2s_models else None,
        sovits_models[0].path if sovits_models else None,
    )


def resolve_weights(root: Path, t2s: Path | None = None, sovits: Path | None = None) -> ResolvedWeights:
    """All the paths an engine needs, or a WeightsError that says exactly which files to put where.

    `t2s` / `sovits` name chosen files (absolute, or relative to `root`); missing ones fall back to the defaults.
    """
    root = Path(root)
    default_t2s, default_sovits = default_models(root)
    t2s = _under(root, t2s) if t2s else default_t2s
    sovits = _under(root, sovits) if sovits else default_sovits

    missing = []
    if t2s is None or not t2s.is_file():
        missing.append(_why_not_a_file(Message("a GPT model (*.ckpt)"), t2s))
    if sovits is None or not sovits.is_file():
        missing.append(_why_not_a_file(Message("a SoVITS model (*.pth)"), sovits))
    for folder in (HUBERT_DIR, BERT_DIR):
        if not (root / folder / "config.json").is_file():
            missing.append(Message("the folder {folder}/", folder=folder))
    if missing:
        missing = functools.reduce(lambda earlier, item: Message("{earlier}; {problem}", earlier=earlier, problem=item), missing)
        raise MissingWeightsError(Message(
            "Model files are missing in {folder}: {missing}. {help}", folder=str(root), missing=missing, help=layout_help(root)
        ))  # fmt: skip

    speaker_encoder = root / SPEAKER_ENCODER
    return ResolvedWeights(
        t2s=t2s,
        sovits=sovits,
        hubert_dir=root / HUBERT_DIR,
        bert_dir=root / BERT_DIR,
        speaker_encoder=speaker_encoder if speaker_encoder.is_file() else None,
    )


class V3V4Companions(NamedTuple):
    """The files a v3 / v4 SoVITS model runs with, besides the GPT, HuBERT and BERT."""

    vocoder: Path  # v3: the BigVGAN folder (config.json + bigvgan_generator.pt); v4: vocoder.pth
    super_resolution: Path | None  # v3: the AP-BWE folder (g_24kto48k.zip + config.json) when present; v4: None


def lora_base_paths(root: Path) -> dict[str, Path]:
    """{"v3": .../s2Gv3.pth, "v4": .../gsv-v4-pretrained/s2Gv4.pth}: where LoRA fine-tunes find their base model
    (pass to `checkpoints.load_sovits_checkpoint(..., lora_bases=...)`)."""
    return {version: Path(root) / name for version, name in LORA_BASE_MODELS.items()}


def v3_v4_companions(root: Path, model_version: str) -> V3V4Companions:
    """The vocoder (and, for v3, the optional AP-BWE model) a v3 / v4 SoVITS model needs, or a
    MissingCompanionError that says what to download and where to put it."""
    root = Path(root)
    model = _official(model_version)
    if model.vocoder is None:
        raise ValueError(f"{model_version} models have no separate vocoder")
    vocoder = root / model.vocoder.rstrip("/")
    is_folder = model.vocoder.endswith("/")
    present = all((vocoder / name).is_file() for name in BIGVGAN_FILES) if is_folder else vocoder.is_file()
    if not present:
        raise MissingCompanionError(Message(
            "{version} models need the {what} {file}, which is missing in {folder}. Download it with "
            "`python -m gpt_sovits download --version {version}` (or the Download button), or copy it from "
            "https://huggingface.co/{repo} to {target}.",
            version=model_version, what=Message("BigVGAN vocoder folder") if is_folder else Message("vocoder"),
            file=model.vocoder, folder=str(root), repo=REPO_ID, target=f"{vocoder}{'/' if is_folder else ''}",
        ))  # fmt: skip
    super_resolution = None
    if model_version == "v3":
        folder = root / SUPER_RESOLUTION_DIR
        super_resolution = folder if all((folder / name).is_file() for name in SUPER_RESOLUTION_FILES) else None
    return V3V4Companions(vocoder, super_resolution)


def _why_not_a_file(what: Message, path: Path | None) -> Message:
    if path is None:
        return what
    if path.is_dir():
        return Message("{what} -- {path} is a folder, not a model file", what=what, path=str(path))
    return Message("{what} -- {path} does not exist", what=what, path=str(path))


def layout_help(root: Path, version: str = DEFAULT_VERSION) -> Message:
    """One paragraph: how to get the files, and where each one goes."""
    files = "\n".join(f"  {root / name}{'/' if name.endswith('/') else ''}" for name in files_for_version(version))
    return Message(
        "Download them with `python -m gpt_sovits download --version {version}` (or the Download button), or copy "
        "them from https://huggingface.co/{repo} so that these exist:\n{files}",
        version=version, repo=REPO_ID, files=files,
    )


def files_for_version(version: str) -> list[str]:
    """Paths (inside the weights folder and the HF repo) that one official version needs; folders end in '/'."""
    model = _official(version)
    files = [model.t2s, model.sovits, f"{HUBERT_DIR}/", f"{BERT_DIR}/"]
    if model.needs_speaker_encoder:
        files.append(SPEAKER_ENCODER)
    if model.vocoder is not None:
        files.append(model.vocoder)
    return files


def download(
    version: str = DEFAULT_VERSION,
    root: Path = Path("weights"),
    progress: Callable[[float, str], None] | None = None,
) -> ResolvedWeights:
    """Fetch one official version from the Hugging Face Hub into `root`; files already there are kept.

    `progress(fraction, message)` is called before each file or folder. Raises WeightsError when offline.
    """
    model = _official(version)
    root = Path(root)
    items = files_for_version(version)
    for index, item in enumerate(items):
        if progress:
            progress(index / len(items), Message("Downloading {item} ({number}/{count})", item=item, number=index + 1, count=len(items)))
        pattern = f"{item}*" if item.endswith("/") else item
        failure = _fetch(REPO_ID, [pattern], root, expected=root / item)
        if failure is not None:
            raise WeightsError(Message(
                "Could not download {item}: the Hugging Face Hub (https://huggingface.co/{repo}) cannot be reached "
                "from this computer{reason}. Check the network connection, or copy the files by hand: from that page "
                "(or an official GPT-SoVITS pretrained_models folder) into the weights folder '{folder}', so that "
                "these exist:\n{files}",
                item=item, repo=REPO_ID, reason=failure, folder=root.name or str(root),
                files="\n".join(f"  {name}" for name in files_for_version(version)),
            )) from None
    if progress:
        progress(1.0, Message("Downloaded the official {version} models into '{folder}'", version=version, folder=root.name or str(root)))
    return resolve_weights(root, root / model.t2s, root / model.sovits)


def asr_model_dir(root: Path) -> Path | None:
    """The speech-recognition model to use: the first folder under `root`/asr/ with a config.json (the table's
    models in its order, then any other by name), or None when there is none."""
    folders = [folder for folder in sorted((Path(root) / ASR_DIR).glob("*/")) if (folder / "config.json").is_file()]
    order = list(ASR_MODELS)
    folders.sort(key=lambda folder: order.index(folder.name) if folder.name in order else len(order))
    return folders[0] if folders else None


def download_asr(name: str, root: Path, progress: Callable[[float, str], None] | None = None) -> Path:
    """Fetch one speech-recognition model from the Hub into `root`/asr/`name`/; files already there are kept."""
    if name not in ASR_MODELS:
        raise WeightsError(Message(
            "Unknown speech recognition model {name!r}; choose one of {choices}.", name=name, choices=", ".join(ASR_MODELS)
        ))  # fmt: skip
    folder, shown = Path(root) / ASR_DIR / name, f"{ASR_DIR}/{name}"  # shown inside the weights folder, no server path
    if progress:
        progress(0.0, Message("Downloading the speech recognition model {repo}", repo=ASR_MODELS[name]))
    failure = _fetch(ASR_MODELS[name], list(ASR_FILES), folder, expected=folder / "config.json")
    if failure is not None:
        raise WeightsError(Message(
            "Could not download {repo}: the Hugging Face Hub cannot be reached from this computer{reason}. Check the "
            "network connection, or copy the model's files from https://huggingface.co/{repo} into {folder}/ in "
            "the weights folder.",
            repo=ASR_MODELS[name], reason=failure, folder=shown,
        )) from None  # fmt: skip
    if progress:
        progress(1.0, Message("Downloaded the speech recognition model into {folder}", folder=shown))
    return folder


def _fetch(repo: str, patterns: list[str], folder: Path, expected: Path) -> str | None:
    """Download `patterns` of Hub repository `repo` into `folder`, then check that `expected` arrived. None when it
    did; otherwise why not, for a message: " (the error's name)", or "" when nothing came (offline,
    huggingface_hub may return the existing folder without fetching anything)."""
    from huggingface_hub import snapshot_download  # imported here: only downloading needs it
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        snapshot_download(repo, allow_patterns=patterns, local_dir=folder)
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as error:
        return f" ({type(error).__name__})"
    return None if _arrived(expected) else ""


def _arrived(path: Path) -> bool:
    """A downloaded file, or a folder with at least one file in it."""
    return path.is_file() or (path.is_dir() and any(child.is_file() for child in path.rglob("*")))


def _list_models(root: Path, pattern: str, official_labels: dict[str, Message], skip: set[str]) -> list[ModelFile]:
    if not root.is_dir():
        return []
    official, own = [], []
    for path in sorted(root.rglob(pattern)):
        name = path.relative_to(root).as_posix()
        hidden = any(part.startswith(".") for part in path.relative_to(root).parts)  # e.g. the HF download cache
        if name in skip or path.name.startswith("s2D") or hidden:
            continue
        if name in official_labels:
            official.append(ModelFile(path, Message("{label} ({file})", label=official_labels[name], file=path.name)))
        else:
            own.append(ModelFile(path, name))
    # Official files in OFFICIAL_MODELS order (newest first), then the user's own models by name.
    order = list(official_labels)
    official.sort(key=lambda model: order.index(model.path.relative_to(root).as_posix()))
    return official + own


def _official(version: str) -> OfficialModel:
    if version not in _BY_VERSION:
        raise WeightsError(Message(
            "Unknown model version {version!r}; choose one of {choices}.", version=version, choices=joined(DOWNLOADABLE_VERSIONS)
        ))  # fmt: skip
    return _BY_VERSION[version]


def _under(root: Path, path: Path | str) -> Path:
    path = Path(path)
    return path if path.is_absolute() or path.exists() else root / path
