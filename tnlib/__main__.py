"""``python -m tnlib``: which backends work here; ``demo``: the tour; ``bench``: timings.

``python -m tnlib bench [--backends numpy,torch] [--device cuda] [--workloads dot,cross]
[--size small|medium] [--repeat 5] [--json FILE] [--plot FILE]`` times the standard
workloads (see :mod:`tnlib.benchmark`) on every installed backend and prints a table.
A workload of your own is ``module:function``, a ``setup(ctx) -> thunk`` function.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import sys
import time

from .backends import BACKEND_NAMES, get
from .errors import BackendError

_DIST = {"numpy": "numpy", "torch": "torch", "tensorflow": "tensorflow", "jax": "jax",
         "cupy": "cupy"}


def _version(name: str) -> str:
    if importlib.util.find_spec(name) is None:
        return "-"
    for dist in (_DIST[name], f"{name}-cpu", "cupy-cuda12x", "cupy-cuda13x"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "?"


def backend_table() -> list[tuple[str, str, str, str]]:
    """Rows (name, version, devices, status) for every backend tnlib knows."""
    rows = []
    for name in BACKEND_NAMES:
        version = _version(name)
        try:
            xp = get(name)
        except BackendError as exc:
            rows.append((name, version, "-", f"unusable: {exc}"))
            continue
        rows.append((name, getattr(xp, "version", version), ", ".join(xp.devices()), "ok"))
    return rows


def print_table(rows: list[tuple], header: tuple) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for r in rows:
        print(line.format(*(str(c) for c in r)))


def _median_ms(fn, repeats: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * sorted(times)[len(times) // 2]


def demo() -> None:
    """The tour: backends, then the same computations on each of them."""
    from . import tour

    rows = backend_table()
    print("tnlib backends\n")
    print_table(rows, ("backend", "version", "devices", "status"))
    usable = [r[0] for r in rows if r[3] == "ok"]
    print("\nContract calls on 300 x 300 float64, median of 5 (ms)\n")
    timing = []
    for name in usable:
        xp = get(name)
        a = xp.random_normal((300, 300), seed=0, dtype="float64")
        timing.append((
            name,
            f"{_median_ms(lambda: _sync(xp, xp.svd(a)[1])):.1f}",
            f"{_median_ms(lambda: _sync(xp, xp.qr(a)[1])):.1f}",
            f"{_median_ms(lambda: _sync(xp, xp.einsum('ij,jk->ik', a, a))):.1f}",
        ))
    print_table(timing, ("backend", "svd", "qr", "einsum"))
    tour.run(usable)


def _sync(xp, a):
    return xp.to_numpy(a[..., :1]) if xp.ndim(a) else xp.to_numpy(a)


def _load_workload(spec: str) -> object:
    """A standard workload's name, or ``module:function`` for a setup function of one's own."""
    if ":" not in spec:
        return spec
    import importlib

    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def bench(args: argparse.Namespace) -> int:
    """``python -m tnlib bench``: the table of :func:`tnlib.benchmark.run`."""
    import json

    from . import benchmark

    def split(s: str) -> list[str]:
        return [p.strip() for p in s.split(",") if p.strip()]

    workloads = None if args.workloads is None else [_load_workload(w)
                                                      for w in split(args.workloads)]
    backends = None if args.backends is None else split(args.backends)
    print(f"tnlib {__import__('tnlib').__version__} benchmark, size {args.size!r}, "
          f"{args.repeat} timed runs (median), dtype {args.dtype}\n", flush=True)
    results = benchmark.run(workloads, backends, args.device, repeat=args.repeat,
                            warmup=args.warmup, size=args.size, dtype=args.dtype,
                            verbose=args.verbose)
    print(benchmark.format_table(results))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(benchmark.to_json(results), fh, indent=1)
        print(f"\nwrote {args.json}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        benchmark.plot(results, args.plot)
        print(f"wrote {args.plot}")
    return 0 if all(not r.error for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tnlib", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="backends",
                        choices=["backends", "demo", "bench"])
    group = parser.add_argument_group("bench")
    group.add_argument("--backends", help="comma-separated, e.g. numpy,torch (default: all)")
    group.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: each backend's own)")
    group.add_argument("--workloads", help="comma-separated names or module:function")
    group.add_argument("--size", default="small", choices=["small", "medium"])
    group.add_argument("--repeat", type=int, default=5)
    group.add_argument("--warmup", type=int, default=1)
    group.add_argument("--dtype", default="float64")
    group.add_argument("--json", help="write the results to this JSON file")
    group.add_argument("--plot", help="write a plot to this image file (needs matplotlib)")
    group.add_argument("--verbose", action="store_true", help="print rows as they come")
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo()
    elif args.command == "bench":
        from .errors import TnlibError

        try:
            return bench(args)
        except TnlibError as exc:
            parser.exit(2, f"python -m tnlib bench: {exc}\n")
    else:
        print_table(backend_table(), ("backend", "version", "devices", "status"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
