"""What the web UI and the HTTP API share: the engine (made lazily when models exist), the model catalog, and the
limits on the work they hand it.

The catalog lists the model files in the weights folder under names relative to it; a visitor may pick only
listed names, so nobody can make the server open a path of their choosing. Choosing a model is per request:
the engine's pool loads it beside the others, and nobody else's voice changes.

One `SynthesisGate` bounds the syntheses of the UI and the API together (at most `concurrency` run at once), and
a `TimeBudget` stops any synthesis that runs longer than the operator allows. Running out of memory or disk
becomes a message (`out_of_resources`), and what a visitor reads never names the server's folders (`for_visitors`).
"""

import collections
import errno
import itertools
import re
import tempfile
import threading
import time
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import anyio

from gpt_sovits import weights
from gpt_sovits.engine import Engine, ModelChoice
from gpt_sovits.errors import GptSovitsError
from gpt_sovits.messages import Message


class ModelCatalog:
    """The GPT / SoVITS files below the weights folder, as (label, name) pairs for a dropdown."""

    def __init__(self, weights_dir: Path, extra_files: tuple[Path, ...] = ()):
        # Absolute, not resolved: names stay relative to the folder even where its files are links.
        self.weights_dir = Path(weights_dir).absolute()
        # Files named on the command line (`--gpt /elsewhere/x.ckpt`) are listed too, by their file name only, so
        # that the page never shows a folder of the server.
        self.extra_files = tuple(Path(path).absolute() for path in extra_files if path)

    def t2s_choices(self) -> list[tuple[str, str]]:
        return [(label, name) for name, (label, _) in self._files(weights.list_t2s_models(self.weights_dir), ".ckpt").items()]

    def sovits_choices(self) -> list[tuple[str, str]]:
        return [(label, name) for name, (label, _) in self._files(weights.list_sovits_models(self.weights_dir), ".pth").items()]

    def name(self, path: Path) -> str:
        path = Path(path).absolute()
        return path.relative_to(self.weights_dir).as_posix() if path.is_relative_to(self.weights_dir) else path.name

    def choice(self, t2s_name: str | None, sovits_name: str | None) -> ModelChoice:
        """The files behind two dropdown names (None or "" = the default), refusing anything not listed."""
        return ModelChoice(
            t2s=self._listed_path(t2s_name, self._files(weights.list_t2s_models(self.weights_dir), ".ckpt")),
            sovits=self._listed_path(sovits_name, self._files(weights.list_sovits_models(self.weights_dir), ".pth")),
        )

    def _files(self, listed, suffix: str) -> dict[str, tuple[str, Path]]:
        """name -> (label, path): the weights folder's files, then the command line's (unless a name is taken)."""
        files = {self.name(model.path): (model.label, Path(model.path)) for model in listed}
        for path in self.extra_files:
            if path.suffix == suffix:
                files.setdefault(self.name(path), (path.name, path))
        return files

    def _listed_path(self, name: str | None, files: dict[str, tuple[str, Path]]) -> Path | None:
        if not name:
            return None
        if name not in files:
            raise weights.WeightsError(
                Message("'{name}' is not one of the listed model files; press Refresh lists.", name=name)
            )
        return files[name][1]


class EngineHolder:
    """The engine, or why there is none yet (no models on a first start); makes it once models appear.

    `gate` and `time_budget` bound the work the UI and the API hand the engine (see `SynthesisGate`, `TimeBudget`).
    """

    def __init__(
        self, weights_dir: Path, gpt: Path | None = None, sovits: Path | None = None,
        gate: "SynthesisGate | None" = None, time_budget: "TimeBudget | None" = None, **engine_options,
    ):  # fmt: skip
        self.catalog = ModelCatalog(weights_dir, (gpt, sovits))
        self.gate = gate or SynthesisGate()
        self.time_budget = time_budget or TimeBudget()
        self._gpt, self._sovits = gpt, sovits
        self._engine_options = engine_options
        self._lock = threading.Lock()
        self.engine: Engine | None = None
        self.startup_error: GptSovitsError | None = None  # as visitors may read it (see `for_visitors`)
        self.startup_detail: GptSovitsError | None = None  # with the server's paths, for the operator's log
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
                    self.startup_error = self.startup_detail = None
                except GptSovitsError as error:
                    self.startup_error, self.startup_detail = self.for_visitors(error), error
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

    def for_visitors(self, error: GptSovitsError) -> GptSovitsError:
        """The same error with the server's folders left out of its message: the weights folder is named by its
        own name (`weights/s1v3.ckpt`), a temporary file by its file name."""
        folders = {str(self.weights_dir): self.weights_dir.name, str(self.weights_dir.resolve()): self.weights_dir.name}
        return _without_folders(error, folders)


# A path inside the temporary folder, up to the end of the file name.
_TEMPORARY_PATH = re.compile(re.escape(tempfile.gettempdir().rstrip("/")) + r"/(?:[^\s'\"`/]+/)*([^\s'\"`/]+)")


def _without_folders(value, folders: dict[str, str]):
    if isinstance(value, Message) and type(value) is Message:
        params = {name: _without_folders(part, folders) for name, part in value.params.items()}
        return type(value)(value.template, **params)  # the same message, its parts without folders
    if isinstance(value, GptSovitsError):  # the same class and attributes (not through its __init__)
        hidden = type(value).__new__(type(value))
        hidden.__dict__.update(value.__dict__)
        hidden.args = tuple(_without_folders(argument, folders) for argument in value.args)
        return hidden
    if isinstance(value, str) and not isinstance(value, Message):
        for folder, shown in sorted(folders.items(), key=lambda item: -len(item[0])):
            value = value.replace(folder, shown)
        return _TEMPORARY_PATH.sub(r"\1", value)
    return value


# ----- limits on the work ---------------------------------------------------------------------------------------


class TooBusy(GptSovitsError):
    """The queue is full, or this client already has as many requests in as it may (429)."""


class SynthesisGate:
    """Admission (at once: queue bound and per-client share) and then a running slot (waited for, first come first
    served).

    The API admits each request (`admit`, then `Ticket.start`); the UI's own queue (Gradio's) bounds its waiting
    visitors, and its syntheses (and transcriptions) take a running slot from the same gate (`async with gate.slot():`), so that
    together at most `concurrency` syntheses run at once.

    The slots are a lock-guarded count, waited for by polling, rather than an anyio semaphore: a semaphore belongs
    to one event loop, and on ZeroGPU every call runs the UI handler in an event loop (and thread) of its own, where
    a wait on another loop's semaphore is never woken.
    """

    POLL_SECONDS = 0.02  # how often a waiter looks for a free slot: nothing next to a synthesis

    def __init__(self, concurrency: int = 2, queue_size: int = 32, per_client: int = 4):
        self.concurrency, self.queue_size, self.per_client = concurrency, queue_size, per_client
        self._lock = threading.Lock()
        self._admitted = 0
        self._running = 0
        self._per_client: dict[str, int] = {}
        self._waiting: collections.deque[int] = collections.deque()  # turns of those waiting for a slot, in order
        self._turns = itertools.count()

    @property
    def admitted(self) -> int:
        """API requests running or waiting now."""
        return self._admitted

    @property
    def running(self) -> int:
        """Syntheses running now (UI and API)."""
        return self._running

    def admit(self, client: str) -> "Ticket":
        with self._lock:
            if self._admitted >= self.concurrency + self.queue_size:
                raise TooBusy(Message(
                    "The server is busy ({count} requests running or waiting); try again in a moment.",
                    count=self._admitted,
                ))  # fmt: skip
            if self._per_client.get(client, 0) >= self.per_client:
                raise TooBusy(Message(
                    "You already have {count} requests running or waiting; wait for one to finish.",
                    count=self.per_client,
                ))  # fmt: skip
            self._admitted += 1
            self._per_client[client] = self._per_client.get(client, 0) + 1
        return Ticket(self, client)

    @asynccontextmanager
    async def slot(self):
        """A running slot for the body (waited for; a cancelled wait takes none)."""
        await self._take_slot()
        try:
            yield
        finally:
            self._give_slot()

    async def _take_slot(self) -> None:
        with self._lock:
            turn = next(self._turns)
            self._waiting.append(turn)
        try:
            while True:
                with self._lock:
                    if self._running < self.concurrency and self._waiting[0] == turn:
                        self._waiting.popleft()
                        self._running += 1
                        return
                await anyio.sleep(self.POLL_SECONDS)
        except BaseException:  # cancelled while waiting: give up the turn, take no slot
            with self._lock:
                self._waiting.remove(turn)
            raise

    def _give_slot(self) -> None:
        with self._lock:
            self._running -= 1

    def _leave(self, client: str) -> None:
        with self._lock:
            self._admitted -= 1
            self._per_client[client] -= 1
            if not self._per_client[client]:
                del self._per_client[client]


class Ticket:
    """One admitted request: `await start()` waits for a slot; `release()` (idempotent) leaves the gate."""

    def __init__(self, gate: SynthesisGate, client: str):
        self._gate, self._client = gate, client
        self._running = self._released = False

    async def start(self) -> None:
        await self._gate._take_slot()
        self._running = True

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        if self._running:
            self._gate._give_slot()
        self._gate._leave(self._client)


class TookTooLong(GptSovitsError):
    """A synthesis ran past the server's time budget and was stopped (504)."""


class TimeBudget:
    """How long one synthesis may run: `watch = budget.start(cancel)` sets `cancel` (the engine's stop signal) when
    the time is up; `watch.stop()` when the work ends. `watch.expired` says whether the budget stopped it."""

    def __init__(self, seconds: float = 300.0):
        self.seconds = seconds

    def start(self, cancel: threading.Event) -> "Watch":
        return Watch(self.seconds, cancel)


class Watch:
    def __init__(self, seconds: float, cancel: threading.Event):
        self.seconds, self.expired = seconds, False
        self._timer = threading.Timer(seconds, self._expire, (cancel,))
        self._timer.daemon = True
        self._timer.start()

    def _expire(self, cancel: threading.Event) -> None:
        self.expired = True
        cancel.set()

    def stop(self) -> None:
        self._timer.cancel()

    def too_long(self) -> "TookTooLong":
        return TookTooLong(Message(
            "This request took longer than the {seconds:g} s this server allows for one synthesis, so it was "
            "stopped. Try a shorter text, or cut it into sentences.",
            seconds=self.seconds,
        ))  # fmt: skip


class OutOfResources(GptSovitsError):
    """The server ran out of memory (503) or disk space (507) during a request; nothing the user did wrong."""

    def __init__(self, message: Message, status: int):
        super().__init__(message)
        self.status = status


def out_of_resources(error: BaseException) -> OutOfResources | None:
    """A MemoryError or a full disk (ENOSPC, EDQUOT) as a message for the user; None for anything else."""
    if isinstance(error, MemoryError):
        return OutOfResources(Message(
            "The server ran out of memory for this request. Try again in a moment, or with a shorter text."
        ), 503)  # fmt: skip
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutOfResources(Message(
            "The server's disk is full, so this request could not be completed. Please tell the operator."
        ), 507)  # fmt: skip
    return None


@contextmanager
def resource_errors():
    """Raise `out_of_resources`'s message instead of a MemoryError or a full disk."""
    try:
        yield
    except (MemoryError, OSError) as error:
        problem = out_of_resources(error)
        if problem is None:
            raise
        raise problem from None


def remove_older_than(folder: Path, seconds: float) -> None:
    """Delete the files below `folder` last changed more than `seconds` ago (results nobody will fetch again), and
    the folders they leave empty."""
    cutoff = time.time() - seconds
    for path in sorted(Path(folder).rglob("*"), key=lambda path: -len(path.parts)):  # deepest first
        try:
            if path.stat().st_mtime >= cutoff:
                continue
            if path.is_dir():
                if not any(path.iterdir()):
                    path.rmdir()
            else:
                path.unlink()
        except OSError:
            pass  # gone already, or in use elsewhere: the next sweep tries again
