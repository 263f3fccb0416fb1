"""Timing harness shared by the benchmarks.

Each workload runs once to warm up, then ``repeats`` times; timings of the
candidates are interleaved so that drift on a shared machine hits all of them
alike. Results print as a table (median, min, max, ratio to a baseline) and are
written to ``results/<name>.json`` and ``results/<name>.png``.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def single_thread() -> None:
    """1 BLAS thread everywhere, as PEERS.md prescribes (call before heavy imports)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                          "intra_op_parallelism_threads=1")


def configure_frameworks() -> None:
    """Thread limits and float64 for frameworks that are installed."""
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    try:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except (ImportError, RuntimeError):
        pass
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
    except ImportError:
        pass


def block(result: Any) -> Any:
    """Wait for asynchronous frameworks (JAX, CUDA) to finish computing `result`."""
    from tnlib._pytree import flatten

    leaves, _ = flatten(result if isinstance(result, (list, tuple, dict)) else [result])
    for leaf in leaves:
        if hasattr(leaf, "block_until_ready"):
            leaf.block_until_ready()
        elif type(leaf).__module__.split(".")[0] == "torch" and getattr(leaf, "is_cuda", False):
            import torch

            torch.cuda.synchronize()
        elif type(leaf).__module__.startswith("cupy"):
            import cupy

            cupy.cuda.Device().synchronize()
    return result


def interleaved(candidates: dict[str, Callable[[], Any]], repeats: int = 5,
                warmup: int = 1, pause: float = 0.05) -> dict[str, dict]:
    """Time each candidate `repeats` times, round-robin; returns stats per name."""
    candidates = dict(candidates)
    for name, fn in list(candidates.items()):
        try:
            for _ in range(warmup):
                block(fn())
        except Exception as exc:  # noqa: BLE001 - a broken peer is reported, not fatal
            print(f"  [{name} failed: {type(exc).__name__}: {str(exc)[:200]}]")
            del candidates[name]
    times: dict[str, list[float]] = {name: [] for name in candidates}
    cpu: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            # let thread pools that spin after work (TF, XLA) go idle before timing
            time.sleep(pause)
            t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
            block(fn())
            times[name].append(time.perf_counter() - t0)
            c1 = resource.getrusage(resource.RUSAGE_SELF)
            cpu[name].append((c1.ru_utime - c0.ru_utime, c1.ru_stime - c0.ru_stime,
                              c1.ru_minflt - c0.ru_minflt))
    if os.environ.get("TNLIB_BENCH_DEBUG"):
        for name, ts in times.items():
            print(f"  {name}: " + " ".join(f"{t:.3f}" for t in ts) + "  user/sys/faults: "
                  + " ".join(f"{u:.2f}/{s:.2f}/{f}" for u, s, f in cpu[name]))
    return {name: stats(ts) for name, ts in times.items()}


def stats(ts: list[float]) -> dict:
    return {"median": statistics.median(ts), "min": min(ts), "max": max(ts), "runs": len(ts)}


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


class Report:
    """Rows of one benchmark: workload, candidate, timing stats and extra columns."""

    def __init__(self, name: str, title: str) -> None:
        self.name, self.title = name, title
        self.rows: list[dict] = []

    def add(self, workload: str, candidate: str, timing: dict, baseline: str | None = None,
            **extra: Any) -> None:
        self.rows.append({"workload": workload, "candidate": candidate, **timing,
                          "baseline": baseline, **extra})

    def _ratio(self, row: dict) -> str:
        if not row.get("baseline"):
            return ""
        base = [r for r in self.rows if r["workload"] == row["workload"]
                and r["candidate"] == row["baseline"]]
        return f"{row['median'] / base[0]['median']:.2f}x" if base else ""

    def print(self) -> None:
        extras = sorted({k for r in self.rows for k in r} - {
            "workload", "candidate", "median", "min", "max", "runs", "baseline"})
        header = ["workload", "candidate", "median", "min", "max", "vs baseline", *extras]
        body = [[r["workload"], r["candidate"], fmt_time(r["median"]), fmt_time(r["min"]),
                 fmt_time(r["max"]), self._ratio(r), *(_cell(r.get(k, "")) for k in extras)]
                for r in self.rows]
        widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
        print(f"\n## {self.title}\n")
        for line in [header, ["-" * w for w in widths], *body]:
            print("  ".join(str(c).ljust(w) for c, w in zip(line, widths)))

    def save(self) -> None:
        RESULTS.mkdir(exist_ok=True)
        meta = {"date": datetime.date.today().isoformat(), "machine": platform.machine(),
                "processor": platform.processor(), "python": sys.version.split()[0],
                "cpus": os.cpu_count(), "threads": os.environ.get("OMP_NUM_THREADS")}
        (RESULTS / f"{self.name}.json").write_text(
            json.dumps({"title": self.title, "meta": meta, "rows": self.rows}, indent=1,
                       default=str))
        self._plot()

    def _plot(self) -> None:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return
        workloads = list(dict.fromkeys(r["workload"] for r in self.rows))
        sizes = [sum(r["workload"] == w for r in self.rows) for w in workloads]
        # each panel: its bars, a title and an axis label (no panel squeezed below that)
        fig, axes = plt.subplots(len(workloads), 1, squeeze=False,
                                 figsize=(9, 0.6 + sum(1.0 + 0.35 * n for n in sizes)),
                                 gridspec_kw={"height_ratios": [1.0 + 0.35 * n for n in sizes]})
        for ax, w in zip(axes[:, 0], workloads):
            rows = [r for r in self.rows if r["workload"] == w]
            # tnlib's rows stand out; every other candidate is grey
            colors = ["tab:orange" if "tnlib" in r["candidate"] else "tab:gray" for r in rows]
            ax.barh([r["candidate"] for r in rows], [r["median"] for r in rows],
                    xerr=[[r["median"] - r["min"] for r in rows],
                          [r["max"] - r["median"] for r in rows]], color=colors)
            # a linear axis from zero unless the times span more than 30x; then a log
            # axis whose bars start at a power of ten well below the fastest, labelled so
            lo = min(r["min"] for r in rows)
            hi = max(r["max"] for r in rows)
            if hi > 30 * lo:
                ax.set_xscale("log")
                ax.set_xlim(left=10 ** math.floor(math.log10(lo) - 0.5))
                ax.set_xlabel("seconds, log axis (median, min-max)")
            else:
                ax.set_xlim(left=0)
                ax.set_xlabel("seconds (median, min-max)")
            ax.set_title(w, fontsize=9)
            ax.invert_yaxis()
        fig.suptitle(self.title, fontsize=10)
        fig.tight_layout()
        fig.savefig(RESULTS / f"{self.name}.png", dpi=90)
        plt.close(fig)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)
