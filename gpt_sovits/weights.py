"""Where model files live, what they are called, and how to download the official ones.

The weights folder mirrors the Hugging Face model repo `lj1995/GPT-SoVITS` (the official pretrained files),
so a download drops every file in place and anyone who already has the official `pretrained_models/` folder
can point `--weights-dir` at it:

    weights/
      chinese-hubert-base/                 HuBERT feature model (shared by every version)
      chinese-roberta-wwm-ext-large/       Chinese BERT (shared by every version)
      s1v3.ckpt                            GPT for v2Pro / v2ProPlus
      v2Pro/s2Gv2ProPlus.pth               SoVITS v2ProPlus   (v2Pro/s2Gv2Pro.pth: v2Pro)
      sv/pretrained_eres2netv2w24s4ep4.ckpt  speaker encoder, needed by v2Pro / v2ProPlus
      gsv-v2final-pretrained/s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt   GPT v2
      gsv-v2final-pretrained/s2G2333k.pth  SoVITS v2
      s1bert25hz-2kh-longer-epoch=68e-step=50232.ckpt   GPT v1
      s2G488k.pth                          SoVITS v1

Your own fine-tuned models can go anywhere below the folder (for example `weights/my_voice/`): every `*.ckpt`
is listed as a GPT model and every `*.pth` as a SoVITS model, except the speaker encoder and the training-only
discriminators (`s2D*.pth`).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

from gpt_sovits.errors import GptSovitsError

REPO_ID = "lj1995/GPT-SoVITS"
HUBERT_DIR = "chinese-hubert-base"
BERT_DIR = "chinese-roberta-wwm-ext-large"
SPEAKER_ENCODER = "sv/pretrained_eres2netv2w24s4ep4.ckpt"


@dataclass(frozen=True)
class OfficialModel:
    version: str
    t2s: str  # path inside the weights folder (and the HF repo)
    sovits: str
    needs_speaker_encoder: bool


# Newest first: the first complete pair found on disk is the default.
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
)
DOWNLOADABLE_VERSIONS = tuple(model.version for model in OFFICIAL_MODELS)
DEFAULT_VERSION = "v2ProPlus"

_BY_VERSION = {model.version: model for model in OFFICIAL_MODELS}
# What each official file is for (s1v3.ckpt serves both v2Pro and v2ProPlus).
_T2S_LABELS = {
    _BY_VERSION["v2ProPlus"].t2s: "Official GPT for v2Pro / v2ProPlus",
    _BY_VERSION["v2"].t2s: "Official GPT v2",
    _BY_VERSION["v1"].t2s: "Official GPT v1",
}
_SOVITS_LABELS = {model.sovits: f"Official SoVITS {model.version}" for model in OFFICIAL_MODELS}


class WeightsError(GptSovitsError):
    """Model files are missing, or the official ones could not be downloaded."""


class MissingWeightsError(WeightsError):
    """The weights folder lacks files an engine needs (a first start, before any download)."""


class ModelFile(NamedTuple):
    path: Path
    label: str  # what a person sees in a model list


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
    return _list_models(Path(root), "*.pth", _SOVITS_LABELS, skip=set())


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
        missing.append(f"a GPT model (*.ckpt){_why_not_a_file(t2s)}")
    if sovits is None or not sovits.is_file():
        missing.append(f"a SoVITS model (*.pth){_why_not_a_file(sovits)}")
    for folder in (HUBERT_DIR, BERT_DIR):
        if not (root / folder / "config.json").is_file():
            missing.append(f"the folder {folder}/")
    if missing:
        raise MissingWeightsError(f"Model files are missing in {root}: {'; '.join(missing)}. {layout_help(root)}")

    speaker_encoder = root / SPEAKER_ENCODER
    return ResolvedWeights(
        t2s=t2s,
        sovits=sovits,
        hubert_dir=root / HUBERT_DIR,
        bert_dir=root / BERT_DIR,
        speaker_encoder=speaker_encoder if speaker_encoder.is_file() else None,
    )


def _why_not_a_file(path: Path | None) -> str:
    if path is None:
        return ""
    return f" -- {path} is a folder, not a model file" if path.is_dir() else f" -- {path} does not exist"


def layout_help(root: Path, version: str = DEFAULT_VERSION) -> str:
    """One paragraph: how to get the files, and where each one goes."""
    files = "\n".join(f"  {root / name}{'/' if name.endswith('/') else ''}" for name in files_for_version(version))
    return (
        f"Download them with `python -m gpt_sovits download --version {version}` (or the Download button), "
        f"or copy them from https://huggingface.co/{REPO_ID} so that these exist:\n{files}"
    )


def files_for_version(version: str) -> list[str]:
    """Paths (inside the weights folder and the HF repo) that one official version needs; folders end in '/'."""
    model = _official(version)
    files = [model.t2s, model.sovits, f"{HUBERT_DIR}/", f"{BERT_DIR}/"]
    if model.needs_speaker_encoder:
        files.append(SPEAKER_ENCODER)
    return files


def download(
    version: str = DEFAULT_VERSION,
    root: Path = Path("weights"),
    progress: Callable[[float, str], None] | None = None,
) -> ResolvedWeights:
    """Fetch one official version from the Hugging Face Hub into `root`; files already there are kept.

    `progress(fraction, message)` is called before each file or folder. Raises WeightsError when offline.
    """
    from huggingface_hub import snapshot_download  # imported here: only downloading needs it
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    model = _official(version)
    root = Path(root)
    items = files_for_version(version)
    for index, item in enumerate(items):
        if progress:
            progress(index / len(items), f"Downloading {item} ({index + 1}/{len(items)})")
        pattern = f"{item}*" if item.endswith("/") else item
        try:
            snapshot_download(REPO_ID, allow_patterns=[pattern], local_dir=root)
        except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as error:
            raise WeightsError(
                f"Could not download {item} from https://huggingface.co/{REPO_ID} ({type(error).__name__}). "
                f"Check the network connection and try again. {layout_help(root, version)}"
            ) from error
    if progress:
        progress(1.0, f"Downloaded the official {version} models into {root}")
    return resolve_weights(root, root / model.t2s, root / model.sovits)


def _list_models(root: Path, pattern: str, official_labels: dict[str, str], skip: set[str]) -> list[ModelFile]:
    if not root.is_dir():
        return []
    official, own = [], []
    for path in sorted(root.rglob(pattern)):
        name = path.relative_to(root).as_posix()
        hidden = any(part.startswith(".") for part in path.relative_to(root).parts)  # e.g. the HF download cache
        if name in skip or path.name.startswith("s2D") or hidden:
            continue
        if name in official_labels:
            official.append(ModelFile(path, f"{official_labels[name]} ({path.name})"))
        else:
            own.append(ModelFile(path, name))
    # Official files in OFFICIAL_MODELS order (newest first), then the user's own models by name.
    order = list(official_labels)
    official.sort(key=lambda model: order.index(model.path.relative_to(root).as_posix()))
    return official + own


def _official(version: str) -> OfficialModel:
    if version not in _BY_VERSION:
        raise WeightsError(f"Unknown model version {version!r}; choose one of {', '.join(DOWNLOADABLE_VERSIONS)}.")
    return _BY_VERSION[version]


def _under(root: Path, path: Path | str) -> Path:
    path = Path(path)
    return path if path.is_absolute() or path.exists() else root / path
