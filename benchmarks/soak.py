"""A soak against a running server: N speech requests from C clients, then latency percentiles, the server's RSS
over time, the count of files in its temporary folder over time, and every error.

    python benchmarks/soak.py --url http://127.0.0.1:7860 [--key KEY] [--requests 500] [--clients 4]
        [--pid SERVER_PID] [--temp-dir /tmp] [--voice NAME] [--one-off-every 2] [--json]

The requests go to /v1/audio/speech (whole files, pcm) with short sentences that cycle; every `--one-off-every`-th
request sends its own clip as base64 (written to a temporary file by the server and removed after), the others a
saved voice (`--voice`, or one saved by this script and deleted at the end). RSS is read from /proc/PID/status,
so `--pid` works for a server on this machine; the temporary folder's files are counted every few seconds
(`--temp-dir`, default the system's). Not part of the test suite: run it for as long as you like.
"""

import argparse
import base64
import io
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import soundfile

TEXTS = ["你好。", "今天天气很好。", "我们一起去公园散步吧。", "谢谢你的帮助。", "这是一个测试句子。"]
REFERENCE_TEXT = "今天天气很好，我们一起去公园散步吧。"


def speech_like_wav(seconds: float = 4.0, rate: int = 32000, seed: int = 1) -> bytes:
    """Noise shaped into syllable-like bursts, as a WAV: enough for the server's checks."""
    rng = np.random.default_rng(seed)
    time_axis = np.arange(int(seconds * rate)) / rate
    samples = 0.2 * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * time_axis)) * rng.standard_normal(len(time_axis))
    buffer = io.BytesIO()
    soundfile.write(buffer, samples.astype(np.float32), rate, format="WAV")
    return buffer.getvalue()


def rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def file_count(folder: Path) -> int:
    count = 0
    for path in folder.rglob("*"):
        try:
            count += path.is_file()
        except OSError:
            pass  # removed while we looked
    return count


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", default=None)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--pid", type=int, default=None, help="the server's process id, for its RSS")
    parser.add_argument("--temp-dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--voice", default=None, help="a saved voice to use (default: save one, delete it at the end)")
    parser.add_argument("--one-off-every", type=int, default=2, help="every Nth request sends its own clip (0: never)")
    parser.add_argument("--sample-seconds", type=float, default=5.0, help="how often RSS and temp files are sampled")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    headers = {"Authorization": f"Bearer {args.key}"} if args.key else {}
    http = httpx.Client(base_url=args.url.rstrip("/"), headers=headers, timeout=600,
                        limits=httpx.Limits(max_connections=args.clients * 2))  # fmt: skip
    clip = speech_like_wav()
    voice, saved_here = args.voice, None
    if not voice:
        answer = http.post("/v1/audio/voices", data={"name": f"soak {time.time():.0f}", "text": REFERENCE_TEXT,
                                                     "language": "all_zh"},
                           files={"audio_sample": ("soak.wav", clip, "audio/wav")})  # fmt: skip
        answer.raise_for_status()
        voice = saved_here = answer.json()["id"]
    one_off = {"audio": base64.b64encode(clip).decode(), "text": REFERENCE_TEXT, "language": "all_zh"}

    samples: list[dict] = []
    started = time.monotonic()
    done = threading.Event()

    def sample() -> None:
        samples.append({"seconds": round(time.monotonic() - started, 1), "rss_mb": rss_mb(args.pid),
                        "temp_files": file_count(args.temp_dir)})  # fmt: skip

    def sampler() -> None:
        while not done.wait(args.sample_seconds):
            sample()

    latencies: list[float] = []
    errors: Counter = Counter()

    def one(index: int) -> None:
        use_one_off = args.one_off_every and index % args.one_off_every == 0
        body = {"model": "tts-1", "voice": one_off if use_one_off else voice, "input": TEXTS[index % len(TEXTS)],
                "language": "all_zh", "seed": index, "response_format": "pcm", "stream": False}  # fmt: skip
        began = time.perf_counter()
        try:
            answer = http.post("/v1/audio/speech", json=body)
            if answer.status_code != 200:
                errors[f"{answer.status_code}: {answer.json().get('message', '')[:120]}"] += 1
                return
        except httpx.HTTPError as error:
            errors[f"{type(error).__name__}: {error}"[:160]] += 1
            return
        latencies.append(time.perf_counter() - began)

    sample()
    watcher = threading.Thread(target=sampler, daemon=True)
    watcher.start()
    with ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(one, range(args.requests)))
    done.set()
    sample()
    asked = time.perf_counter()
    health = http.get("/health").json()
    health_ms = (time.perf_counter() - asked) * 1000
    if saved_here:
        http.delete(f"/v1/audio/voices/{saved_here}")

    elapsed = time.monotonic() - started
    report = {
        "requests": args.requests, "clients": args.clients, "seconds": round(elapsed, 1),
        "ok": len(latencies), "errors": dict(errors),
        "requests_per_second": round(len(latencies) / elapsed, 2),
        "latency_s": {name: round(value, 3) for name, value in (
            ("p50", statistics.median(latencies)), ("p90", percentile(latencies, 0.9)),
            ("p99", percentile(latencies, 0.99)), ("max", max(latencies)))} if latencies else {},
        "samples": samples, "health_after": health, "health_latency_ms": round(health_ms, 1),
    }  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"{report['ok']}/{args.requests} ok in {report['seconds']} s ({report['requests_per_second']} req/s), "
          f"{args.clients} clients")  # fmt: skip
    print("latency s: " + "  ".join(f"{name} {value}" for name, value in report["latency_s"].items()))
    print("errors: " + (", ".join(f"{count} x {kind}" for kind, count in errors.items()) or "none"))
    print("  time s   RSS MB   temp files")
    for point in samples:
        rss = f"{point['rss_mb']:.0f}" if point["rss_mb"] is not None else "-"
        print(f"{point['seconds']:8.1f} {rss:>8} {point['temp_files']:>12}")
    print(f"health after: {report['health_after']} ({report['health_latency_ms']} ms)")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
