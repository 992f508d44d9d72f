"""One engine per process for the side-by-side benchmarks: each side's peak memory is its own, and each side loads
and warms up once, then synthesizes on request while the other side waits idle.

The driver sends one JSON object per line on the worker's stdin and reads one JSON object per line back. Libraries
print freely on stdout (the official code does), so a worker first moves its stdout onto stderr (`claim_stdout`)
and answers through a copy of the original stdout. Standard library only: the official side runs this in its own
environment.
"""

import json
import os
import resource
import subprocess
import sys
import time


def peak_rss_gb() -> float:
    """This process's peak resident memory so far (Linux reports it in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)


def seconds(function) -> float:
    """Wall seconds of one call of `function`."""
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def claim_stdout():
    """Call first thing in a worker: from here on stdout (Python's and C's) goes to stderr, and the returned stream,
    a copy of the original stdout, carries the replies alone."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return replies


def serve(handle, ready: dict, replies) -> None:
    """Worker side: answer `ready`, then `handle(request)` for each request line until stdin closes."""
    replies.write(json.dumps({**ready, "peak_rss_gb": peak_rss_gb()}) + "\n")
    for line in sys.stdin:
        reply = handle(json.loads(line))
        replies.write(json.dumps({**reply, "peak_rss_gb": peak_rss_gb()}) + "\n")


class Worker:
    """Driver side: a worker process started with `command`, its stderr appended to `log_path`."""

    def __init__(self, command: list[str], log_path, env: dict | None = None, cwd=None):
        self.log = open(log_path, "a")
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                        text=True, env=env, cwd=cwd)  # fmt: skip
        self.ready = self._reply()

    def request(self, **fields) -> dict:
        self.process.stdin.write(json.dumps(fields) + "\n")
        self.process.stdin.flush()
        return self._reply()

    def _reply(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker {self.process.args[:3]} stopped (exit {self.process.wait()}); "
                               f"see {self.log.name}")  # fmt: skip
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()
        self.log.close()
