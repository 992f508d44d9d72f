"""ZeroGPU: off a ZeroGPU Space nothing changes; on one (a fake `spaces` module here) the UI's async generator handler
becomes a sync generator under spaces.GPU, asking for GPU time that grows with the target text, and calls made in
event loops of their own share the running slots."""

import asyncio
import inspect
import sys
import threading
import time
import types

import anyio
import torch

from gpt_sovits import zerogpu
from gpt_sovits.service import SynthesisGate


class FakeSpaces(types.ModuleType):
    """Records what spaces.GPU was given, and returns the function unchanged (the real one runs it on a GPU)."""

    def __init__(self):
        super().__init__("spaces")
        self.wrapped = []

    def GPU(self, duration):  # noqa: N802 (the real package's name)
        def decorate(function):
            self.wrapped.append((function, duration))
            return function

        return decorate


async def synthesize(reference_audio, target_text, seed=7):
    """Stands in for VoiceCloningUI.synthesize: an async generator yielding UI updates, cleaning up when closed."""
    synthesize.closed = False
    try:
        for word in target_text.split():
            yield word
    finally:
        synthesize.closed = True


def zero_gpu_space(monkeypatch) -> FakeSpaces:
    spaces = FakeSpaces()
    monkeypatch.setitem(sys.modules, "spaces", spaces)
    monkeypatch.setattr(zerogpu.importlib.util, "find_spec", lambda name: name == "spaces" or None)
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    return spaces


def test_off_zero_gpu_the_handler_and_the_engine_are_left_alone(monkeypatch):
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    assert not zerogpu.detected()
    assert zerogpu.run_on_gpu(synthesize) is synthesize
    assert zerogpu.engine_options() == {}


def test_a_space_without_zero_gpu_is_left_alone(monkeypatch):
    zero_gpu_space(monkeypatch)
    monkeypatch.setenv("SPACES_ZERO_GPU", "false")
    assert zerogpu.run_on_gpu(synthesize) is synthesize


def test_on_zero_gpu_the_handler_is_a_sync_generator_under_spaces_gpu(monkeypatch):
    spaces = zero_gpu_space(monkeypatch)
    handler = zerogpu.run_on_gpu(synthesize)

    (wrapped, duration), = spaces.wrapped
    assert wrapped is handler
    assert inspect.isgeneratorfunction(handler) and not inspect.isasyncgenfunction(handler)
    assert inspect.signature(handler) == inspect.signature(synthesize)  # what Gradio reads the inputs from
    assert list(handler("clip.wav", "one two three")) == ["one", "two", "three"]
    assert synthesize.closed

    updates = handler("clip.wav", target_text="one two")
    assert next(updates) == "one"
    updates.close()  # Gradio's Stop
    assert synthesize.closed
    assert zerogpu.engine_options() == {"device": "cuda", "dtype": torch.float16}


def test_the_gpu_time_asked_for_grows_with_the_target_text(monkeypatch):
    spaces = zero_gpu_space(monkeypatch)
    zerogpu.run_on_gpu(synthesize)
    (_, duration), = spaces.wrapped

    short, long = duration("clip.wav", "你好。"), duration("clip.wav", target_text="春天来了。" * 100, seed=1)
    assert short == zerogpu.gpu_seconds("你好。") == zerogpu.BASE_GPU_SECONDS + 1
    assert long == zerogpu.gpu_seconds("春天来了。" * 100) > short
    assert duration("clip.wav", "字" * 100_000) == zerogpu.MAX_GPU_SECONDS


def test_calls_in_their_own_threads_and_event_loops_share_the_gate(monkeypatch):
    """ZeroGPU runs each call's handler in an event loop (and thread) of its own: a visitor waiting for the one
    running slot gets it when the other visitor's call ends."""
    zero_gpu_space(monkeypatch)
    gate = SynthesisGate(concurrency=1)
    first_running, first_may_end = threading.Event(), threading.Event()

    async def handler(reference_audio, target_text):
        async with gate.slot():
            yield f"{target_text} running"
            if target_text == "first":
                first_running.set()
                while not first_may_end.is_set():
                    await asyncio.sleep(0.01)
        yield f"{target_text} done"

    wrapped, results = zerogpu.run_on_gpu(handler), {}
    calls = [threading.Thread(target=lambda text=text: results.setdefault(text, list(wrapped("clip.wav", text))))
             for text in ("first", "second")]
    calls[0].start()
    assert first_running.wait(10)
    calls[1].start()
    time.sleep(0.2)
    assert "second" not in results and gate.running == 1  # waiting for the slot
    first_may_end.set()
    for call in calls:
        call.join(10)
    assert results == {"first": ["first running", "first done"], "second": ["second running", "second done"]}
    assert gate.running == 0


def test_a_visitor_who_stops_while_waiting_holds_up_nobody():
    gate, order = SynthesisGate(concurrency=1), []

    async def visit(name, hold):
        async with gate.slot():
            order.append(name)
            await anyio.sleep(hold)

    async def main():
        async with anyio.create_task_group() as group:
            group.start_soon(visit, "first", 0.3)
            await anyio.sleep(0.05)
            with anyio.move_on_after(0.1):  # Stop pressed while waiting for the slot
                await visit("stopped", 0)
            group.start_soon(visit, "next", 0)

    anyio.run(main)
    assert order == ["first", "next"] and gate.running == 0
