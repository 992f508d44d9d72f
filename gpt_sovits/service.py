"""What the web UI and the HTTP API share: the engine (made lazily when models exist) and the model catalog.

The catalog lists the model files in the weights folder under names relative to it; a visitor may pick only
listed names, so nobody can make the server open a path of their choosing. Choosing a model is per request:
the engine's pool loads it beside the others, and nobody else's voice changes.
"""

import threading
from pathlib import Path

from gpt_sovits import weights
from gpt_sovits.engine import Engine, ModelChoice
from gpt_sovits.errors import GptSovitsError
from gpt_sovits.messages import Message


class ModelCatalog:
    """The GPT / SoVITS files below the weights folder, as (label, name) pairs for a dropdown."""

    def __init__(self, weights_dir: Path, extra_files: tuple[Path, ...] = ()):
        # Absolute, not resolved: names stay relative to the folder even where its files are links.
        self.weights_dir = Path(weights_dir).absolute()
        # Files named on the command line (`--gpt /elsewhere/x.ckpt`) are listed too, by their full path.
        self.extra_files = tuple(Path(path).absolute() for path in extra_files if path)

    def t2s_choices(self) -> list[tuple[str, str]]:
        return self._choices(weights.list_t2s_models(self.weights_dir), ".ckpt")

    def sovits_choices(self) -> list[tuple[str, str]]:
        return self._choices(weights.list_sovits_models(self.weights_dir), ".pth")

    def name(self, path: Path) -> str:
        path = Path(path).absolute()
        return path.relative_to(self.weights_dir).as_posix() if path.is_relative_to(self.weights_dir) else str(path)

    def choice(self, t2s_name: str | None, sovits_name: str | None) -> ModelChoice:
        """The files behind two dropdown names (None or "" = the default), refusing anything not listed."""
        return ModelChoice(
            t2s=self._listed_path(t2s_name, self.t2s_choices()), sovits=self._listed_path(sovits_name, self.sovits_choices())
        )

    def _choices(self, listed, suffix: str) -> list[tuple[str, str]]:
        choices = [(model.label, self.name(model.path)) for model in listed]
        for path in self.extra_files:
            if path.suffix == suffix and self.name(path) not in [name for _, name in choices]:
                choices.append((str(path), self.name(path)))
        return choices

    def _listed_path(self, name: str | None, choices: list[tuple[str, str]]) -> Path | None:
        if not name:
            return None
        if name not in [listed for _, listed in choices]:
            raise weights.WeightsError(
                Message("'{name}' is not one of the listed model files; press Refresh lists.", name=name)
            )
        path = Path(name)
        return path if path.is_absolute() else self.weights_dir / path


class EngineHolder:
    """The engine, or why there is none yet (no models on a first start); makes it once models appear."""

    def __init__(self, weights_dir: Path, gpt: Path | None = None, sovits: Path | None = None, **engine_options):
        self.catalog = ModelCatalog(weights_dir, (gpt, sovits))
        self._gpt, self._sovits = gpt, sovits
        self._engine_options = engine_options
        self._lock = threading.Lock()
        self.engine: Engine | None = None
        self.startup_error: GptSovitsError | None = None
        self.try_create()

    @property
    def weights_dir(self) -> Path:
        return self.catalog.weights_dir

    def try_create(self) -> Engine | None:
        """Make the engine from the weights folder if there is none yet; remember why not if that fails."""
        with self._lock:
            if self.engine is None:
                try:
                    self.engine = Engine.from_weights_dir(self.weights_dir, self._gpt, self._sovits, **self._engine_options)
                    self.startup_error = None
                except GptSovitsError as error:
                    self.startup_error = error
            return self.engine

    def require(self) -> Engine:
        """The engine, or a WeightsError saying what is missing (what the user sees before models exist)."""
        engine = self.engine or self.try_create()
        if engine is None:
            raise weights.WeightsError(*self.startup_error.args)  # the same message, still translatable
        return engine

    def download(self, version: str, progress=None) -> None:
        """Fetch an official version into the weights folder (an operator action), then make the engine if needed."""
        weights.download(version, self.weights_dir, progress=progress)
        self.try_create()
