"""Hugging Face ZeroGPU: a Space that borrows a GPU for each synthesis, through the `spaces` package's `spaces.GPU`.

Off ZeroGPU (no `spaces` package, or a Space without ZeroGPU hardware) everything here is a no-op: the engine stays
on the CPU in float32 and the UI's handler is used as it is.

On ZeroGPU the engine is made for CUDA in float16 (`engine_options`), the precision the official code uses on a
GPU. The Space's main process has no GPU: `spaces` records every move to CUDA there (the models loaded at start-up)
and makes it when a `spaces.GPU` call gets its GPU, so the models reach the GPU inside the call. `spaces.GPU` runs
plain functions and sync generators, not the UI's async generator handler, so `run_on_gpu` drives that handler from
a sync generator; the GPU time it asks for grows with the length of the target text (`gpu_seconds`).
"""

import asyncio
import functools
import importlib.util
import inspect
import math
import os

import torch

# Asking for less GPU time puts a visitor earlier in the ZeroGPU queue; a call that outlives its request is stopped.
BASE_GPU_SECONDS = 20  # CUDA start, the models' move to the GPU, the reference clip
GPU_SECONDS_PER_CHARACTER = 0.06  # about 4.5 T2S tokens per Chinese character, the slowest script, with room to spare
MAX_GPU_SECONDS = 120


def detected() -> bool:
    """Whether this process runs on a ZeroGPU Space: the `spaces` package is there and the Space says so."""
    on_zero_gpu = os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "t", "true")  # as `spaces` reads it
    return on_zero_gpu and importlib.util.find_spec("spaces") is not None


def engine_options() -> dict:
    """Keyword arguments for the Engine: CUDA in float16 on ZeroGPU, nothing (CPU, float32) elsewhere. Call it before
    the engine is made: on ZeroGPU it imports `spaces`, which must be there before any model moves to CUDA."""
    if not detected():
        return {}
    import spaces  # noqa: F401  (from here on, moves to CUDA wait for a spaces.GPU call)

    return {"device": "cuda", "dtype": torch.float16}


def gpu_seconds(target_text: str) -> int:
    """The GPU time to ask for to speak `target_text`."""
    return min(MAX_GPU_SECONDS, BASE_GPU_SECONDS + math.ceil(GPU_SECONDS_PER_CHARACTER * len(target_text or "")))


def run_on_gpu(handler):
    """`handler` (an async generator function taking a `target_text` argument, like the UI's synthesize) as a sync
    generator function that runs on a borrowed GPU; `handler` itself when not on ZeroGPU."""
    if not detected():
        return handler
    import spaces

    signature = inspect.signature(handler)

    def duration(*args, **kwargs) -> int:  # spaces.GPU calls it with the handler's own arguments
        return gpu_seconds(signature.bind_partial(*args, **kwargs).arguments.get("target_text", ""))

    @functools.wraps(handler)  # the same signature: Gradio reads the inputs and the gr.Progress parameter from it
    def run(*args, **kwargs):
        updates = handler(*args, **kwargs)
        loop = asyncio.new_event_loop()
        try:
            while True:
                try:
                    update = loop.run_until_complete(updates.__anext__())
                except StopAsyncIteration:
                    return
                yield update
        finally:  # also when Gradio closes this generator (Stop): the handler's own cleanup runs
            loop.run_until_complete(updates.aclose())
            loop.close()

    return spaces.GPU(duration=duration)(run)
