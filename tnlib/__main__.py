"""``python -m tnlib``: which backends work here; ``python -m tnlib demo``: the tour."""

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tnlib", description=__doc__)
    parser.add_argument("command", nargs="?", default="backends", choices=["backends", "demo"])
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo()
    else:
        print_table(backend_table(), ("backend", "version", "devices", "status"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
