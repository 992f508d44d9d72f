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
"""

import os
from collections.abc import MutableMapping

WAITING = {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "10000"}


def wait_briefly(environ: MutableMapping[str, str] = os.environ) -> MutableMapping[str, str]:
    """Set WAITING in `environ` (this process's, or a child's) where it is not set already: yours wins.
    Only works before OpenMP starts, that is before torch is imported. Returns `environ`."""
    for name, value in WAITING.items():
        environ.setdefault(name, value)
    return environ
