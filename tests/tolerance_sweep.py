"""Measure, on this machine, how far our parity arrays move between legitimate builds of the math libraries.

    python tests/tolerance_sweep.py                      # table: worst error per array and combination, the bound
    python tests/tolerance_sweep.py --json > run.json    # every comparison of every combination, as JSON
    python tests/tolerance_sweep.py --report run.json    # the table of a saved run, judged by the table as it is now
    python tests/tolerance_sweep.py --stages reference_audio,speaker --variables MKL_CBWR   # a part of the sweep

Every parity stage of tests/test_parity.py (the same stage functions, so exactly what the tests compare) is run
over every vector case under each combination of
    MKL_CBWR             unset, COMPATIBLE, AVX2, AVX512  MKL's branch: GEMM (linear layers, some convolutions)
                                                          and, when torch's FFT is MKL's, the FFT
    ONEDNN_MAX_CPU_ISA   unset, AVX2, SSE41               oneDNN's kernels: most convolutions
    ATEN_CPU_CAPABILITY  unset, avx2, default             torch's own vectorised kernels (softmax, norms, the
                                                          normal-distribution draw, ...); `default` is what a CPU
                                                          without AVX2 runs
    threads              1, 2                             reduction order
each in its own subprocess (the libraries read these variables when they load). A value that would only repeat
another one is found by a short probe first and skipped, with the reason printed: MKL says which branch it took
(it ignores MKL_CBWR=AVX2/AVX512 on non-Intel CPUs), oneDNN and torch say which ISA they dispatch to (a value
above the CPU's is clipped to it), and a GEMM/FFT/convolution/ATen fingerprint shows whether results change.

The bounds in tests/tolerances.py are set at 4-10x the worst error this prints. Exit status 1 when some array
exceeds its bound in some combination (then the suite would fail on a machine taking that path).

Cost: about 45 s per combination on 2 idle cores (all stages, five public cases). An AVX2 CPU gives 16
combinations (12 min); an Intel AVX-512 one up to 72, where `--variables MKL_CBWR,ONEDNN_MAX_CPU_ISA` keeps 18.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
# variable -> (values tried besides leaving it unset, the probe fact that says which path the library took)
SWEPT = {
    "MKL_CBWR": (("COMPATIBLE", "AVX2", "AVX512"), "mkl_cbwr"),
    "ONEDNN_MAX_CPU_ISA": (("AVX2", "SSE41"), "onednn_isa"),
    "ATEN_CPU_CAPABILITY": (("avx2", "default"), "aten_capability"),
}
THREADS = (1, 2)


# ----------------------------------------------------------------------------------------------------------------
# In a subprocess: the probe and the worker


def probe() -> dict:
    """Which code paths the libraries take under the current environment, from their own verbose output, and a
    fingerprint of what a GEMM, an FFT, a convolution and some of torch's own kernels give there."""
    import hashlib

    import torch

    torch.manual_seed(0)
    a, b, frames, image, kernel = (torch.randn(300, 512), torch.randn(512, 700), torch.randn(64, 512),
                                   torch.randn(1, 16, 80, 80), torch.randn(16, 16, 3, 3))
    with torch.backends.mkl.verbose(torch.backends.mkl.VERBOSE_ON):
        outputs = [a @ b, torch.fft.rfft(frames).abs()]
    with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
        outputs.append(torch.nn.functional.conv2d(image, kernel))
    outputs += [a.softmax(-1), torch.nn.functional.layer_norm(a, (512,)), a.exp().sum(-1)]
    fingerprint = hashlib.sha256(b"".join(t.numpy().tobytes() for t in outputs)).hexdigest()[:16]
    return {"torch": torch.__version__, "aten_capability": torch.backends.cpu.get_cpu_capability(),
            "mkl": torch.backends.mkl.is_available(), "onednn": torch.backends.mkldnn.is_available(),
            "fingerprint": fingerprint}


def _parse_probe(output: str) -> dict:
    facts = json.loads(output.strip().splitlines()[-1])
    header = re.search(r"MKL_VERBOSE (oneMKL[^\n]*?), Lnx", output)
    cnr = re.search(r"SGEMM\(.*CNR:(\S+)", output)
    isa = re.search(r"onednn_verbose,.*info,cpu,isa:([^\n]+)", output)
    facts.update(
        mkl_build=header.group(1) if header else None,
        mkl_cbwr=cnr.group(1) if cnr else None,  # the conditional-numerical-reproducibility branch MKL really took
        mkl_fft="MKL_VERBOSE FFT(" in output,  # torch's FFT runs through MKL (not pocketfft)
        onednn_isa=isa.group(1).strip() if isa else None,
    )
    return facts


def work(threads: int, stages: list[str] | None, out: Path) -> None:
    """Run the parity stages on every case; write one row per compared array to `out` (JSON)."""
    sys.path[:0] = [str(REPO_ROOT), str(TESTS_DIR)]
    import torch

    torch.set_num_threads(threads)
    import test_parity
    from conftest import load_case, vector_cases

    rows, failures = [], []
    for case in vector_cases():
        sidecar, arrays = load_case(case)
        present = set(sidecar["arrays"])
        for stage, marker in test_parity.STAGE_MARKER_ARRAY.items():
            if marker not in present or (stages and stage not in stages):
                continue
            record: dict = {"arrays": {}}
            with tempfile.TemporaryDirectory() as tmp, torch.inference_mode():
                try:
                    test_parity.STAGES[stage](case, sidecar, arrays, test_parity.StageCheck(record), Path(tmp))
                except Exception as error:  # report it and go on: one broken stage should not hide the others
                    failures.append(f"{case.name}/{stage}: {type(error).__name__}: {error}")
            for name, entry in record["arrays"].items():
                rows.append({"case": case.name, "stage": stage, "array": name, **entry})
    out.write_text(json.dumps({"rows": rows, "failures": failures}), encoding="utf-8")


# ----------------------------------------------------------------------------------------------------------------
# In the parent: choosing the combinations, running them, the report


def _python(args: list[str], env_changes: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in SWEPT}
    env.update(env_changes)
    return subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], env=env, text=True,
                          capture_output=True, check=True, **kwargs)


def _probe_under(env_changes: dict[str, str]) -> dict:
    return _parse_probe(_python(["--probe"], env_changes).stdout)


def _cpu() -> dict:
    model, flags = "unknown", set()
    try:
        text = Path("/proc/cpuinfo").read_text()
        model = re.search(r"model name\s*:\s*(.*)", text).group(1)
        flags = set(re.search(r"flags\s*:\s*(.*)", text).group(1).split())
    except (OSError, AttributeError):
        pass
    return {"model": model, "avx2": "avx2" in flags, "avx512f": "avx512f" in flags, "cores": os.cpu_count()}


def choose_combinations(variables: list[str]) -> tuple[dict, list[dict], list[str]]:
    """(facts of the default path, the combinations worth running, notes on the values skipped and why)."""
    default = _probe_under({})
    notes = []
    if not default["mkl_fft"]:
        notes.append("torch's FFT does not run through MKL here (pocketfft): MKL_CBWR cannot change the spectrograms")
    kept_values = {}
    for variable in variables:
        values, fact = SWEPT[variable]
        kept_values[variable] = [None]
        paths, fingerprints = {default[fact]}, {default["fingerprint"]}
        for value in values:
            facts = _probe_under({variable: value})
            path = facts[fact]
            if variable == "MKL_CBWR" and path != value:
                path = default[fact]  # MKL ignored the request and took its own branch, as when unset
            if path in paths and facts["fingerprint"] in fingerprints:
                ignored = " (MKL ignores it on this CPU)" if variable == "MKL_CBWR" else ""
                notes.append(f"{variable}={value}: reported path {facts[fact]}{ignored}, results as with a value "
                             "already swept; skipped")
                continue
            kept_values[variable].append(value)
            paths.add(path)
            fingerprints.add(facts["fingerprint"])
    combinations = [
        {"env": {k: v for k, v in zip(kept_values, values) if v}, "threads": threads}
        for values in itertools.product(*kept_values.values()) for threads in THREADS
    ]
    return default, combinations, notes


def _label(combination: dict) -> str:
    env = combination["env"]
    parts = [env.get(variable, "-").lower()[:6] for variable in SWEPT]
    return "/".join([*parts, f"t{combination['threads']}"])


def run_combination(combination: dict, stages: list[str] | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        args = ["--worker", "--threads", str(combination["threads"]), "--out", str(out)]
        if stages:
            args += ["--stages", ",".join(stages)]
        started = time.perf_counter()
        _python(args, combination["env"])
        result = json.loads(out.read_text(encoding="utf-8"))
    facts = _probe_under(combination["env"])
    return {**combination, "label": _label(combination), "seconds": round(time.perf_counter() - started, 1),
            "paths": {variable: facts[fact] for variable, (_, fact) in SWEPT.items()}, **result}


def summarise(results: list[dict]) -> dict:
    """{array: {"stage", "integer", "per_combination": {label: worst}, "worst", "bound", "margin", "ok"}}, judged by
    the table as it is now. Worst is relative (to max|official|) for relatively bounded arrays, absolute for
    absolutely bounded ones, and the number of differing values for integer arrays and facts (the stop reason)."""
    from tolerances import table_key, tolerance_for

    arrays: dict[str, dict] = {}
    for result in results:
        for row in result["rows"]:
            name = table_key(row["array"])
            integer = "actual" in row or bool(row.get("integer"))
            entry = arrays.setdefault(name, {"stage": row["stage"], "integer": integer, "per_combination": {},
                                             "ok": True})
            if integer:
                value, ok = row.get("mismatches", 0 if row["ok"] else 1), bool(row["ok"])
            else:
                tolerance = tolerance_for(name)
                entry["unit"] = "relative" if tolerance.relative else "absolute"
                entry["bound"] = tolerance.relative or tolerance.absolute
                error = row["max_abs_error"]
                if error is None:  # the shapes differ
                    value, ok = float("inf"), False
                else:
                    scale = row["max_abs_expected"]
                    value = error / scale if tolerance.relative and scale else error
                    ok = error <= tolerance.relative * scale + tolerance.absolute
            entry["ok"] &= ok
            cell = entry["per_combination"]
            cell[result["label"]] = max(cell.get(result["label"], 0), value)
    for entry in arrays.values():
        entry["worst"] = max(entry["per_combination"].values())
        if not entry["integer"]:
            entry["margin"] = entry["bound"] / entry["worst"] if entry["worst"] else None
    return arrays


def print_report(run: dict, arrays: dict) -> None:
    cpu, default, notes, results = run["cpu"], run["default_path"], run["notes"], run["combinations"]
    print(f"CPU: {cpu['model']} ({cpu['cores']} cores; AVX2 {'yes' if cpu['avx2'] else 'no'}, AVX-512 "
          f"{'yes' if cpu['avx512f'] else 'no'}); torch {default['torch']}")
    print(f"MKL: {default['mkl_build']}; torch's FFT runs through MKL: {'yes' if default['mkl_fft'] else 'no'}")
    print(f"unset, the libraries take: MKL CNR:{default['mkl_cbwr']}, oneDNN {default['onednn_isa']}, "
          f"ATen {default['aten_capability']}")
    for note in notes:
        print(f"  note: {note}")
    print(f"\ncombinations ({' / '.join(SWEPT)} / threads; '-' = unset) and the paths taken:")
    for number, result in enumerate(results, 1):
        paths = ", ".join(f"{variable} -> {path}" for variable, path in result["paths"].items())
        print(f"  #{number:<3}{result['label']:<26}{paths}; {result['seconds']} s")

    print("\nworst error over the cases, per combination: relative to max|official| (unit rel) or absolute (abs)")
    width, name_width = 8, 2 + max(len(name) for name in arrays)
    numbers = "".join(f"{'#' + str(n):>{width}}" for n in range(1, len(results) + 1))
    print(f"{'array':<{name_width + 2}}{'unit':<6}{numbers}{'bound':>9}{'margin':>8}")
    labels = [result["label"] for result in results]
    stage, integers = None, []
    for name, entry in sorted(arrays.items(), key=lambda item: _stage_order(item[1]["stage"])):
        if entry["integer"]:
            integers.append((name, entry))
            continue
        if entry["stage"] != stage:
            stage = entry["stage"]
            print(f"[{stage}]")
        cells = "".join(f"{_cell(entry['per_combination'].get(label)):>{width}}" for label in labels)
        margin = "-" if not entry["margin"] else f"{entry['margin']:.{1 if entry['margin'] < 10 else 0}f}x"
        unit = {"relative": "rel", "absolute": "abs"}[entry["unit"]] if entry["bound"] else "exact"
        flag = "" if entry["ok"] else "  EXCEEDED"
        print(f"  {name:<{name_width}}{unit:<6}{cells}{entry['bound']:>9.0e}{margin:>8}{flag}")
    differing = [name for name, entry in integers if not entry["ok"]]
    print(f"integer arrays and facts ({len(integers)}: {', '.join(name for name, _ in integers)}): "
          + ("identical in every combination" if not differing else f"DIFFER: {', '.join(differing)}"))
    for result in results:
        for failure in result["failures"]:
            print(f"  ERROR in {result['label']}: {failure}")
    print()
    for variable, changed in _variables_that_matter(results).items():
        print(f"{variable} changes {', '.join(sorted(changed)) if changed else 'no array'} here")


def _stage_order(stage: str) -> int:
    from test_parity import STAGES

    return list(STAGES).index(stage)


def _cell(value) -> str:
    if value is None:
        return "-"
    return "0" if value == 0 else f"{value:.1e}"


def _variables_that_matter(results: list[dict]) -> dict[str, set[str]]:
    """For each swept variable: the arrays whose error differs between two combinations differing only in it."""
    from tolerances import table_key

    def others_equal(result, variable):
        return json.dumps([{k: v for k, v in result["env"].items() if k != variable},
                           None if variable == "threads" else result["threads"]], sort_keys=True)

    def errors(result):
        return {(row["case"], row["stage"], table_key(row["array"])): row.get("max_abs_error", row.get("mismatches"))
                for row in result["rows"]}

    changed: dict[str, set[str]] = {}
    for variable in (*SWEPT, "threads"):
        changed[variable] = set()
        groups: dict[str, list[dict]] = {}
        for result in results:
            groups.setdefault(others_equal(result, variable), []).append(errors(result))
        for first, *others in groups.values():
            for other in others:
                changed[variable] |= {array for (case, stage, array), value in other.items()
                                      if first.get((case, stage, array)) != value}
    return changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the whole run (every comparison) as JSON")
    parser.add_argument("--stages", help="comma-separated parity stages (default: all)")
    parser.add_argument("--variables", default=",".join(SWEPT), help=f"comma-separated, of {', '.join(SWEPT)}")
    parser.add_argument("--report", type=Path, metavar="RUN.json", help="print the table of a saved --json run")
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    stages = args.stages.split(",") if args.stages else None

    if args.probe:
        print(json.dumps(probe()))
        return 0
    if args.worker:
        work(args.threads, stages, args.out)
        return 0

    sys.path[:0] = [str(REPO_ROOT), str(TESTS_DIR)]
    if args.report:
        run = json.loads(args.report.read_text(encoding="utf-8"))
    else:
        started = time.perf_counter()
        default, combinations, notes = choose_combinations(args.variables.split(","))
        results = []
        for combination in combinations:
            print(f"running {_label(combination)} ...", file=sys.stderr, flush=True)
            results.append(run_combination(combination, stages))
        run = {"cpu": _cpu(), "default_path": default, "notes": notes, "combinations": results,
               "seconds": round(time.perf_counter() - started, 1)}
    arrays = summarise(run["combinations"])
    if args.json:
        print(json.dumps({**run, "arrays": arrays}, indent=1))
    else:
        print_report(run, arrays)
        print(f"\n{len(run['combinations'])} combinations in {run['seconds']} s")
    failures = any(result["failures"] for result in run["combinations"])
    return 0 if all(entry["ok"] for entry in arrays.values()) and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
