"""How OpenMP's worker threads wait for work between parallel regions: set by the entry points before torch loads.

Torch runs nearly every CPU op as one OpenMP parallel region, and a T2S decode step is hundreds of small ones. A
worker that sleeps as soon as a region ends (OMP_WAIT_POLICY=PASSIVE) must be woken for the next, which costs tens
of microseconds a region on a VM: a single-query attention call took 80-140 us that way against 33-45 us with a
brief spin (2 cores). Spinning without a bound (OpenMP's default) is worse the other way: whenever two
computations run at once (two requests, or T2S ahead of SoVITS in one) or the machine is shared, spinning threads
take the CPU from each other, and T2S ran up to 8x slower so on 2 cores.

So: passive, plus a short spin (libgomp's GOMP_SPINCOUNT, about 0.1 ms). libgomp spins only while it runs no more
threads than there are CPUs; once our own computations overlap it goes back to sleeping at once. Measured on
2 cores (benchmarks/t2s_speed.py, 3 interleaved runs each): batch-8 decoding 10.3-10.9 ms per token per sentence
against 12.2-16.3 passive, the prefill 274-369 ms against 374-602; the paragraph, where T2S and SoVITS overlap,
unchanged within the noise. Other OpenMP runtimes (macOS, Windows) ignore GOMP_SPINCOUNT.

The limit of that spin: every Python thread that runs torch ops gets an OpenMP team of its own, kept while the
thread lives, and libgomp counts all of them. Once a second thread has run torch beside the first (the engine's
T2S thread beside the one that prepared the reference; a web server's worker threads), it counts more threads than
CPUs and no region spins any more, even while the other threads are idle: a batch-8 decode step took 50-55 ms in the
only thread and 90-104 ms in a second one (2 cores). Hence the fewer, larger regions in models/t2s.py (one
attention call per layer for all rows of a batch).

Hence also `release_threads`: a thread that stops computing for a while (it waits for the other thread's results,
or hands a chunk out to a caller who may take long to ask again) lets its team go, so that the one thread still
computing is the only one counted and spins again. A team costs a thread start (tens of microseconds) to make
again. In the paragraph benchmark the batched T2S steps that run while SoVITS has nothing to decode went from
92 to 65 ms (v2, 8 rows, 2 cores); where both threads compute at once, both hold teams, and rightly nothing spins.
"""

import ctypes
import functools
import os
from collections.abc import MutableMapping

WAITING = {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "10000"}


def wait_briefly(environ: MutableMapping[str, str] = os.environ) -> MutableMapping[str, str]:
    """Set WAITING in `environ` (this process's, or a child's) where it is not set already: yours wins.
    Only works before OpenMP starts, that is before torch is imported. Returns `environ`."""
    for name, value in WAITING.items():
        environ.setdefault(name, value)
    return environ


def release_threads() -> None:
    """Let the calling thread's OpenMP team go (OpenMP 5's omp_pause_resource_all, soft: the next parallel region
    starts a new one). Only libgomp, the runtime Linux torch wheels ship, keeps a team per thread; elsewhere this
    does nothing. Call it outside any parallel region, after the thread's torch work."""
    pause = _libgomp_pause()
    if pause is not None:
        pause(OMP_PAUSE_SOFT)


OMP_PAUSE_SOFT = 1


@functools.cache
def _libgomp_pause():
    """omp_pause_resource_all of the libgomp already loaded (by torch), or None: never loads one itself."""
    try:
        library = ctypes.CDLL("libgomp.so.1", mode=os.RTLD_NOLOAD | ctypes.RTLD_GLOBAL)
    except (OSError, AttributeError):  # not loaded, or no RTLD_NOLOAD (not Linux)
        return None
    pause = getattr(library, "omp_pause_resource_all", None)  # OpenMP 5.0: libgomp of GCC 9 and later
    if pause is not None:
        pause.argtypes, pause.restype = [ctypes.c_int], ctypes.c_int
    return pause
