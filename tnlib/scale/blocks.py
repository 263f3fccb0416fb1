"""Reading data block by block: Dask arrays (and through them zarr, HDF5, memmaps).

A Dask array is recognised by its type's module, without importing Dask. Its
blocks are read in waves of a few per worker, so memory stays bounded by the
blocks in flight plus whatever each block's result holds.

Every computation goes through :func:`compute`. On the local schedulers that is
``dask.compute``; on a ``dask.distributed`` client it watches the cluster while
it waits: a worker that dies is replaced and its tasks recomputed by Dask, a
task that keeps killing workers (``distributed.scheduler.allowed-failures``)
and a cluster left without workers for ``tnlib.no-workers-timeout`` seconds
(Dask config, default 60) end in an :class:`~tnlib.errors.ExecutionError`
instead of a wait without end.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import ArgumentError, ExecutionError, ShapeError

NO_WORKERS_TIMEOUT = 60.0  # seconds without a worker before a distributed run gives up


def is_dask(a: Any) -> bool:
    """Whether `a` is a ``dask.array.Array`` (decided without importing Dask)."""
    return type(a).__module__.startswith("dask.array") and hasattr(a, "chunks")


def block_grid(a: Any, where: str) -> list[tuple[tuple[int, ...], tuple[slice, ...]]]:
    """``(block index, slices into a)`` for every block of a Dask array."""
    chunks = a.chunks
    if any(c != c or isinstance(c, float) for dim in chunks for c in dim):  # NaN: unknown
        raise ShapeError(f"{where}: the dask array has unknown chunk sizes {chunks}; call "
                         "a.compute_chunk_sizes() first")
    starts = [list(itertools.accumulate((0,) + tuple(dim[:-1]))) for dim in chunks]
    out = []
    for idx in itertools.product(*[range(len(dim)) for dim in chunks]):
        out.append((idx, tuple(slice(starts[k][i], starts[k][i] + chunks[k][i])
                               for k, i in enumerate(idx))))
    return out


def map_blocks_reduce(a: Any, fn: Callable, combine: Callable, where: str,
                      wave: int | None = None) -> tuple[Any, int]:
    """``combine`` of ``fn(block, slices)`` over the blocks of a Dask array; one read each.

    The calls run as Dask tasks (on the active scheduler or distributed client) in
    waves of `wave` blocks (default: four per worker thread), so only a wave's
    blocks are in memory at once. Returns the combined value and the bytes read.
    """
    import dask

    grid = block_grid(a, where)
    if wave is None:
        wave = 4 * _workers()
    total, nbytes = None, 0
    for start in range(0, len(grid), wave):
        part = grid[start:start + wave]
        tasks = [dask.delayed(fn)(a.blocks[idx], slices) for idx, slices in part]
        for value in compute(*tasks, where=where):
            total = value if total is None else combine(total, value)
        nbytes += sum(_block_bytes(a, slices) for _, slices in part)
    return total, nbytes


def compute(*objs: Any, where: str) -> tuple:
    """``dask.compute(*objs)``, watched on a distributed client (see the module docstring)."""
    import dask

    client = getattr(dask.base.get_scheduler(), "__self__", None)
    if client is None or not type(client).__module__.startswith("distributed"):
        return dask.compute(*objs)
    futures = client.compute(list(objs))
    try:
        _wait(client, futures, where)
        return tuple(client.gather(futures))
    except Exception as exc:
        if type(exc).__name__ != "KilledWorker":
            raise
        raise ExecutionError(f"{where}: Dask workers died while running {exc.args[0]!r} "
                             "(it killed `distributed.scheduler.allowed-failures` + 1 of "
                             "them); look for a worker out of memory or a crashing reader"
                             ) from exc
    finally:
        for fut in futures:
            fut.release()


def _wait(client: Any, futures: list, where: str) -> None:
    from distributed import wait

    watch = WorkerWatch(client, where)
    while True:
        try:
            wait(futures, timeout=1.0)
            return
        except TimeoutError:
            pass
        if any(f.status == "error" for f in futures):
            return  # gather raises the task's exception
        try:
            watch.check()
        except ExecutionError:
            for fut in futures:
                fut.cancel()
            raise


class WorkerWatch:
    """Raises :class:`ExecutionError` once a distributed client has had no worker for
    ``tnlib.no-workers-timeout`` seconds (Dask config); call :meth:`check` while waiting."""

    def __init__(self, client: Any, where: str) -> None:
        from dask import config

        self.client, self.where = client, where
        self.limit = float(config.get("tnlib.no-workers-timeout", NO_WORKERS_TIMEOUT))
        self.idle_since: float | None = None

    def check(self) -> None:
        if self.client.nthreads():
            self.idle_since = None
            return
        self.idle_since = self.idle_since or time.monotonic()
        if time.monotonic() - self.idle_since > self.limit:
            raise ExecutionError(
                f"{self.where}: the Dask cluster has had no workers for {self.limit:g} s "
                "(Dask config 'tnlib.no-workers-timeout'); start workers or close the client")


def iter_terms(a: Any, where: str) -> Iterator[Any]:
    """The terms of a sum given as a list or tuple of arrays (or the one array)."""
    if isinstance(a, (list, tuple)):
        if not a:
            raise ArgumentError(f"{where}: a is an empty sequence; give an array or terms")
        yield from a
    else:
        yield a


def _block_bytes(a: Any, slices: tuple[slice, ...]) -> int:
    size = 1
    for s in slices:
        size *= s.stop - s.start
    return size * a.dtype.itemsize


def _workers() -> int:
    try:
        from distributed import get_client

        info = get_client().scheduler_info()
        return max(1, sum(w.get("nthreads", 1) for w in info["workers"].values()))
    except Exception:  # noqa: BLE001 - no distributed client: the local scheduler
        import os

        return os.cpu_count() or 1
