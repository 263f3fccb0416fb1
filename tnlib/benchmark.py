"""Time tnlib's standard workloads, or your own code, on every installed backend and device.

``python -m tnlib bench`` and :func:`run` answer the question a user has before choosing a
backend: *on this machine, which framework runs my computation fastest?* Each workload
builds its data once per backend (from the same NumPy arrays, so every backend does the same
work), is called once (the first call, reported separately: it includes JIT compilation and
kernel loading), warmed up, then timed ``repeat`` times with the device synchronized after
each call; the median is the figure to quote.

The standard workloads cover the library's kernels: TT-SVD, TT rounding, TT dot, TT-cross,
AMEn, DMRG, CP-ALS and HOOI, each at a ``"small"`` size (about a second for the whole set
on one core) and a ``"medium"`` one (sizes of the repository's benchmarks). A workload of
your own is a function ``setup(ctx) -> thunk``: it gets a :class:`Context` (backend, device,
dtype and ``ctx.asarray`` to move NumPy data there) and returns the zero-argument callable
to time.
"""

from __future__ import annotations

import math
import platform
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import cp, tt, tucker
from ._pytree import flatten, is_container
from ._validation import FLOAT_DTYPES, check_option
from .backends import BACKEND_NAMES, Backend, get
from .errors import ArgumentError, BackendError, ConvergenceWarning

__all__ = ["BenchmarkResult", "Context", "WORKLOADS", "run", "format_table"]


@dataclass
class Context:
    """Where a workload runs: what its ``setup`` receives.

    Attributes
    ----------
    backend : Backend
    device : object or None
        The device arrays are placed on (None: the backend's default).
    dtype : str
    size : {"small", "medium"}
    """

    backend: Backend
    device: Any
    dtype: str
    size: str

    def asarray(self, a: Any) -> Any:
        """`a` (NumPy data) as an array of this backend, device and dtype."""
        return self.backend.asarray(a, dtype=self.dtype, device=self.device)

    def pick(self, small: Any, medium: Any) -> Any:
        """The small or the medium setting of a workload."""
        return small if self.size == "small" else medium

    @property
    def eps(self) -> float:
        """A truncation accuracy the dtype resolves well: 1e-8, or 1e-5 in single precision."""
        return 1e-5 if self.dtype in ("float32", "complex64") else 1e-8


@dataclass
class BenchmarkResult:
    """One workload on one backend and device; times in seconds (NaN where it failed)."""

    workload: str
    backend: str
    device: str
    first_s: float
    median_s: float
    min_s: float
    max_s: float
    repeat: int
    error: str = ""


# ---------------------------------------------------------------- the standard workloads
def _smooth(shape: tuple) -> np.ndarray:
    grids = np.meshgrid(*[np.linspace(0, 1, n) for n in shape], indexing="ij", sparse=True)
    return 1.0 / (1.0 + sum(grids))


def _tt_svd(ctx: Context) -> Callable:
    a = ctx.asarray(_smooth(ctx.pick((8,) * 6, (12,) * 6)))
    return lambda: tt.tt_svd(a, eps=ctx.eps)


def _random_tt(ctx: Context, shape: tuple, rank: int, seed: int) -> tt.TTTensor:
    x = tt.random(shape, rank, seed=seed, backend="numpy")
    return tt.TTTensor([ctx.asarray(c) for c in x.cores])


def _round(ctx: Context) -> Callable:
    d, r = ctx.pick((20, 20), (30, 60))
    x = _random_tt(ctx, (4,) * d, r, 0) + _random_tt(ctx, (4,) * d, r, 1)
    return lambda: x.round(max_rank=r)


def _dot(ctx: Context) -> Callable:
    d, r = ctx.pick((100, 20), (100, 60))
    x, y = _random_tt(ctx, (10,) * d, r, 0), _random_tt(ctx, (10,) * d, r, 1)
    return lambda: tt.dot(x, y)


def _cross(ctx: Context) -> Callable:
    d, n = ctx.pick((10, 16), (20, 32))
    xp = ctx.backend
    grid = ctx.asarray(np.linspace(0, 1, n))

    def f(idx: Any) -> Any:
        return 1.0 / (1.0 + xp.sum(xp.take(grid, idx, axis=0), axis=1))

    return lambda: tt.cross(f, (n,) * d, eps=100 * ctx.eps, seed=0, backend=xp)


def _amen(ctx: Context) -> Callable:
    n, d = ctx.pick((16, 8), (32, 10))
    a = tt.laplacian(n, d, dtype=ctx.dtype, device=ctx.device, backend=ctx.backend)
    f = tt.ones((n,) * d, dtype=ctx.dtype, device=ctx.device, backend=ctx.backend)
    return lambda: tt.amen_solve(a, f, eps=100 * ctx.eps)


def _dmrg(ctx: Context) -> Callable:
    d, r = ctx.pick((12, 16), (40, 48))
    sp, sz = np.array([[0.0, 1.0], [0.0, 0.0]]), np.diag([0.5, -0.5])
    h = tt.nearest_neighbor(d, pair=[(0.5, sp, sp.T), (0.5, sp.T, sp), (1.0, sz, sz)],
                            dtype=ctx.dtype, device=ctx.device, backend=ctx.backend)
    return lambda: tt.dmrg_eig(h, max_rank=r, max_sweeps=4, tol=0.0)


def _low_rank_plus_noise(ctx: Context, n: int, rank: int) -> Any:
    a = cp.random((n,) * 3, rank, seed=0, backend="numpy").full()
    a = a + 1e-3 * np.linalg.norm(a) / n**1.5 * np.random.default_rng(1).standard_normal(a.shape)
    return ctx.asarray(a)


def _cp_als(ctx: Context) -> Callable:
    a = _low_rank_plus_noise(ctx, ctx.pick(60, 200), 5)
    return lambda: cp.cp_als(a, 5, max_iter=20, tol=0)


def _hooi(ctx: Context) -> Callable:
    a = _low_rank_plus_noise(ctx, ctx.pick(60, 200), 8)
    r = ctx.pick(8, 16)
    return lambda: tucker.hooi(a, (r, r, r), max_iter=5, tol=0)


WORKLOADS: dict[str, Callable[[Context], Callable]] = {
    "tt_svd": _tt_svd, "round": _round, "dot": _dot, "cross": _cross, "amen": _amen,
    "dmrg": _dmrg, "cp_als": _cp_als, "hooi": _hooi,
}
"""The standard workloads by name: ``setup(ctx) -> thunk``."""


# ---------------------------------------------------------------------------- running
def run(workloads: Any = None, backends: Sequence[str] | None = None, device: str | None = None,
        *, repeat: int = 5, warmup: int = 1, size: str = "small", dtype: str = "float64",
        verbose: bool = False) -> list[BenchmarkResult]:
    """Time workloads on every installed backend (or those named) and return one row each.

    Parameters
    ----------
    workloads : str, callable or sequence of them, optional
        Names from :data:`WORKLOADS` and/or functions ``setup(ctx) -> thunk`` (named by their
        ``__name__``). Default: every standard workload.
    backends : sequence of str, optional
        Default: every backend usable here (a named one that is missing is an error).
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``... Backends without that device are left out
        (an error if none has it). Default: each backend's default device.
    repeat : int, optional
        Timed calls after the warm-up; the median is reported.
    warmup : int, optional
        Untimed calls after the first one.
    size : {"small", "medium"}, optional
        Size of the standard workloads.
    dtype : str, optional
        Data type of the workloads' arrays. float64 on JAX needs ``jax_enable_x64``.
    verbose : bool, optional
        Print each row as it is measured.

    Returns
    -------
    list of BenchmarkResult
        One per workload and backend. A workload that raises is reported with NaN times
        and the error message, and the others go on.

    Examples
    --------
    >>> from tnlib import benchmark
    >>> rows = benchmark.run(["dot"], backends=["numpy"], repeat=3)
    >>> rows[0].workload, rows[0].backend, rows[0].median_s > 0
    ('dot', 'numpy', True)
    """
    setups = _workloads(workloads)
    repeat = _positive(repeat, "repeat")
    warmup = _positive(warmup, "warmup", allow_zero=True)
    check_option(size, ("small", "medium"), "benchmark.run", "size")
    if dtype not in FLOAT_DTYPES:  # (every row would fail the same way)
        raise ArgumentError(f"benchmark.run: dtype must be one of {FLOAT_DTYPES}, got {dtype!r}")
    places = _places(backends, device, dtype)
    results = []
    for name, setup in setups.items():
        for xp, dev in places:
            ctx = Context(xp, dev, dtype, size)
            row = _measure(name, setup, ctx, repeat, warmup)
            results.append(row)
            if verbose:
                what = row.error[:70] if row.error else (
                    f"median {_fmt(row.median_s)}  first call {_fmt(row.first_s)}")
                print(f"{name:<10} {xp.name:<11} {row.device:<14} {what}", flush=True)
    return results


def _workloads(workloads: Any) -> dict[str, Callable]:
    if workloads is None:
        return dict(WORKLOADS)
    if isinstance(workloads, str) or callable(workloads) or not hasattr(workloads, "__iter__"):
        workloads = [workloads]
    out = {}
    for w in workloads:
        if callable(w):
            out[getattr(w, "__name__", "custom")] = w
        elif isinstance(w, str) and w in WORKLOADS:
            out[w] = WORKLOADS[w]
        else:
            raise ArgumentError(f"benchmark.run: unknown workload {w!r}; expected one of "
                                f"{sorted(WORKLOADS)} or a function setup(ctx) -> thunk")
    return out


def _positive(value: Any, name: str, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (
            0 if allow_zero else 1):
        raise ArgumentError(f"benchmark.run: {name} must be an int >= {0 if allow_zero else 1}"
                            f", got {value!r}")
    return int(value)


def _places(backends: Sequence[str] | None, device: str | None, dtype: str
            ) -> list[tuple[Backend, Any]]:
    explicit = backends is not None
    names = list(BACKEND_NAMES) if backends is None else [
        b.strip() for b in ([backends] if isinstance(backends, str) else backends)]
    places = []
    for name in names:
        try:
            xp = get(name)
        except BackendError:
            if explicit:
                raise
            continue
        try:
            dev = xp.parse_device(device)
        except BackendError:
            if explicit and len(names) == 1:
                raise
            continue
        places.append((xp, dev))
    if not places:
        raise BackendError(f"benchmark.run: no backend among {names} has device {device!r}")
    return places


def _block(result: Any, xp: Backend) -> None:
    leaves = result if isinstance(result, (list, tuple)) else [result]
    for leaf in leaves:
        if is_container(leaf):
            for a in flatten([leaf])[0]:
                xp.synchronize(a)
        elif xp.is_array(leaf):
            xp.synchronize(leaf)


def _measure(name: str, setup: Callable, ctx: Context, repeat: int, warmup: int
             ) -> BenchmarkResult:
    xp = ctx.backend
    dev = str(ctx.device) if ctx.device is not None else _default_device(xp)
    nan = float("nan")
    try:
        got = xp.dtype_name(ctx.asarray(np.zeros(1)))
        if got != ctx.dtype:
            raise ArgumentError(f"{xp.name} gives {got} when asked for {ctx.dtype} (on JAX, "
                                "float64 needs JAX_ENABLE_X64=1)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            thunk = setup(ctx)
            t0 = time.perf_counter()
            _block(thunk(), xp)
            first = time.perf_counter() - t0
            for _ in range(warmup):
                _block(thunk(), xp)
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                _block(thunk(), xp)
                times.append(time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - one failing workload must not end the run
        return BenchmarkResult(name, xp.name, dev, nan, nan, nan, nan, 0,
                               f"{type(exc).__name__}: {exc}")
    return BenchmarkResult(name, xp.name, dev, first, statistics.median(times), min(times),
                           max(times), repeat)


def _default_device(xp: Backend) -> str:
    devices = xp.devices()
    return devices[0] if devices else "?"


# --------------------------------------------------------------------------- printing
def _fmt(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def format_table(results: Sequence[BenchmarkResult], header: bool = True) -> str:
    """The rows as an aligned text table, with each row's ratio to the fastest backend.

    Examples
    --------
    >>> from tnlib.benchmark import BenchmarkResult, format_table
    >>> print(format_table([BenchmarkResult("dot", "numpy", "cpu", 0.01, 0.004, 0.004,
    ...                                     0.005, 5)]))
    workload  backend  device  median   vs best  first call  min      max
    dot       numpy    cpu     4.00 ms  1.00x    10.00 ms    4.00 ms  5.00 ms
    """
    best: dict[str, float] = {}
    for r in results:
        if math.isfinite(r.median_s):
            best[r.workload] = min(best.get(r.workload, math.inf), r.median_s)
    rows = [("workload", "backend", "device", "median", "vs best", "first call", "min", "max")]
    for r in results:
        ratio = (f"{r.median_s / best[r.workload]:.2f}x" if math.isfinite(r.median_s)
                 else f"failed: {r.error[:60]}")
        rows.append((r.workload, r.backend, r.device, _fmt(r.median_s), ratio,
                     _fmt(r.first_s), _fmt(r.min_s), _fmt(r.max_s)))
    if not header:
        rows = rows[1:]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
                     for row in rows)


def machine() -> dict:
    """Where the numbers were measured: host, Python, NumPy, date."""
    return {"machine": platform.machine(), "processor": platform.processor() or "?",
            "python": platform.python_version(), "numpy": np.__version__,
            "date": time.strftime("%Y-%m-%d")}


def to_json(results: Sequence[BenchmarkResult]) -> dict:
    """``{"machine": ..., "results": [...]}``, ready for :func:`json.dump`."""
    return {"machine": machine(), "results": [asdict(r) for r in results]}


def plot(results: Sequence[BenchmarkResult], path: str | None = None, ax: Any = None) -> Any:
    """Each backend's time as a multiple of the fastest one, per workload (needs matplotlib).

    Bars start at zero on a linear axis, and 1 (the fastest) is marked, so lengths compare.
    Draws on `ax` (default: a new figure), saves to `path` if given, returns the figure.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ArgumentError("benchmark.plot needs matplotlib; pip install matplotlib") from exc
    ok = [r for r in results if math.isfinite(r.median_s)]
    workloads = list(dict.fromkeys(r.workload for r in ok))
    labels = list(dict.fromkeys(f"{r.backend} ({r.device})" for r in ok))
    best = {w: min(r.median_s for r in ok if r.workload == w) for w in workloads}
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 + 1.1 * len(workloads), 3.6))
    fig = ax.figure
    width = 0.8 / max(len(labels), 1)
    for j, label in enumerate(labels):
        xs, ys = [], []
        for i, w in enumerate(workloads):
            for r in ok:
                if r.workload == w and f"{r.backend} ({r.device})" == label:
                    xs.append(i + (j - (len(labels) - 1) / 2) * width)
                    ys.append(r.median_s / best[w])
        ax.bar(xs, ys, width=width, label=label)
    ax.axhline(1.0, color="black", lw=0.8, ls="--")
    ax.set_ylim(bottom=0)
    ax.set_xticks(range(len(workloads)), workloads)
    ax.set_ylabel("median time / fastest backend")
    ax.set_title("tnlib on each backend (1 = fastest; lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
