"""Work in threads: T2S ahead of SoVITS (TokensAhead), and a BERT call beside HuBERT (InThread).

T2S ahead of SoVITS: a request's semantic tokens are made in a background thread while its audio is decoded.

Sentence i is decoded (in the thread that iterates the stream) as soon as its tokens exist, while T2S goes on with
the sentences after it; the audio still comes out in sentence order. The rows of a batch finish in any order, so
while T2S is still making the next sentence in order, a later one whose tokens are ready is decoded (and held)
instead of leaving SoVITS idle. Stopping the stream stops the thread before its next T2S step or prefill layer (a
BERT call under way finishes first: up to a second for a batch on 2 cores).

The thread is a daemon (a stream nobody closed must not keep the process alive), so at exit the threads still
running are stopped and waited for: a thread cut off by the interpreter's shutdown in the middle of a torch call
aborts the whole process ("terminate called without an active exception", exit code 134) instead of letting it
exit with its own code (a Ctrl-C, a CLI error).
"""

import atexit
import threading
from collections.abc import Callable, Iterator

from gpt_sovits import openmp

SECONDS_TO_STOP_AT_EXIT = 10.0  # a BERT call or prefill layer under way finishes first


class AnyOf:
    """Set when any of the events is (the user's cancel, or the stream's own stop)."""

    def __init__(self, *events):
        self.events = [event for event in events if event is not None]

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)


class TokensAhead:
    """Runs `work(cancel)`, a generator of (position, result), in a thread; `take_first_ready` waits for results."""

    running: set["TokensAhead"] = set()  # the live ones, for stop_all_at_exit

    def __init__(self, work: Callable[[AnyOf], Iterator[tuple[int, object]]], cancel=None):
        self._stop = threading.Event()
        self._results: dict[int, object] = {}
        self._failure: BaseException | None = None
        self._finished = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, args=(work, AnyOf(cancel, self._stop)), daemon=True,
                                        name="t2s-ahead")  # fmt: skip
        TokensAhead.running.add(self)
        self._thread.start()

    def _run(self, work, cancel) -> None:
        try:
            for position, result in work(cancel):
                with self._changed:
                    self._results[position] = result
                    self._changed.notify_all()
        except BaseException as error:  # handed to the reader, who raises it where it matters
            self._failure = error
        finally:
            with self._changed:
                self._finished = True
                self._changed.notify_all()
            TokensAhead.running.discard(self)

    def take_first_ready(self, positions: list[int]) -> tuple[int, object]:
        """(position, result) for the first of `positions` (in that order) whose result exists, waiting for one if
        none does yet. A result may be a GptSovitsError (for the caller to raise in its turn). A caller that has to
        wait lets its OpenMP team go first, so that the T2S thread, computing alone, is not slowed (see openmp.py)."""
        with self._changed:
            if not any(position in self._results for position in positions):
                openmp.release_threads()
            self._changed.wait_for(
                lambda: any(position in self._results for position in positions) or self._failure or self._finished
            )
            position = next((position for position in positions if position in self._results), None)
            if position is None:
                raise self._failure or RuntimeError(f"no tokens were made for sentences {positions}")
            return position, self._results.pop(position)

    def stop(self) -> None:
        self._stop.set()


@atexit.register
def stop_all_at_exit() -> None:
    """Stop the T2S threads still running and wait for them (see the module's docstring)."""
    for pipeline in list(TokensAhead.running):
        pipeline.stop()
    for pipeline in list(TokensAhead.running):
        pipeline._thread.join(SECONDS_TO_STOP_AT_EXIT)


class InThread:
    """`work()` started now in a thread of its own; `result()` waits for it and returns its value or raises its
    error in the caller. For work bound by something else than the work beside it: BERT, at a sentence, mostly
    reads its 1.3 GB of weights, while HuBERT over a clip keeps the cores' arithmetic busy, so on 2 cores the two
    take about 0.15-0.2 s less side by side than one after the other (median of 12 interleaved runs; bit-equal).

    Not a daemon, for the reason above (the work takes a second at most)."""

    def __init__(self, work: Callable[[], object], name: str):
        self._value, self._error = None, None
        self._thread = threading.Thread(target=self._run, args=(work,), name=name)
        self._thread.start()

    def _run(self, work) -> None:
        try:
            self._value = work()
        except BaseException as error:  # raised again by result(), in the thread that needs the value
            self._error = error

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value
