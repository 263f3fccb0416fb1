"""Black-box evaluation on a ``concurrent.futures.Executor``: batches split into chunks.

The cache of evaluated points stays with the caller (``tnlib.tt._cross_cache._Cache``);
only the points it has never seen are sent out, in chunks, and the results come
back in order, so a run on an executor asks for exactly the points of the serial
run and produces the same tensor. Any executor works: threads, processes (then
`f` must pickle), or ``dask.distributed.Client.get_executor()``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import numpy as np

from .._validation import check_positive_int
from ..errors import ArgumentError, EvaluationError, ExecutionError
from .blocks import WorkerWatch


def check_executor(executor: Any, batch_size: Any, where: str) -> tuple[Any, int | None]:
    """`executor` (None or an Executor) and `batch_size` (None or an int >= 1), validated."""
    if executor is not None and not isinstance(executor, Executor) and not (
            callable(getattr(executor, "submit", None)) and callable(getattr(executor, "map",
                                                                             None))):
        raise ArgumentError(f"{where}: executor must be a concurrent.futures.Executor (threads, "
                            f"processes, or a Dask client's get_executor()), got "
                            f"{type(executor).__name__}")
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, where, "batch_size")
    return executor, batch_size


def chunk_bounds(n: int, executor: Any, batch_size: int | None) -> list[tuple[int, int]]:
    """Contiguous ``[start, stop)`` ranges covering ``n`` points.

    Without `batch_size`, four chunks per worker (the executor's ``_max_workers``
    where it says, else the CPU count), so uneven chunks still balance.
    """
    if batch_size is None:
        workers = getattr(executor, "_max_workers", None) or os.cpu_count() or 1
        batch_size = max(1, math.ceil(n / (4 * workers)))
    return [(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def evaluate_chunks(f: Callable, points: Any, n: int, executor: Any, batch_size: int | None,
                    host_points: np.ndarray, where: str) -> list:
    """``(start, stop, f(points[start:stop]))`` for contiguous chunks of the ``n`` rows, in order.

    A chunk whose call raises becomes an :class:`EvaluationError` naming the
    chunk's first point and chaining the worker's exception; nothing is dropped.
    """
    bounds = chunk_bounds(n, executor, batch_size)
    futures = []
    try:
        for a, b in bounds:
            futures.append(executor.submit(f, points[a:b]))
    except Exception as exc:  # noqa: BLE001 - the executor refused work (shut down, broken)
        for fut in futures:
            fut.cancel()
        raise ExecutionError(f"{where}: the executor refused a batch of points "
                             f"({type(exc).__name__}: {exc}); pass an executor that is "
                             "running") from exc
    out = []
    try:
        for (a, b), fut in zip(bounds, futures):
            try:
                out.append((a, b, _result(fut, executor, where)))
            except ExecutionError:
                raise
            except Exception as exc:  # noqa: BLE001 - re-raised with the points named
                if type(exc).__name__ == "KilledWorker":
                    raise ExecutionError(f"{where}: Dask workers died evaluating f on a batch "
                                         "of points (more than `distributed.scheduler."
                                         "allowed-failures` times)") from exc
                first = tuple(int(v) for v in host_points[a])
                raise EvaluationError(
                    f"{where}: f raised {type(exc).__name__}: {exc} on the batch of {b - a} "
                    f"points starting at index {first}") from exc
    finally:
        for fut in futures:
            fut.cancel()
    return out


def _result(fut: Any, executor: Any, where: str) -> Any:
    """``fut.result()``; on a Dask client's executor, watched for a cluster without workers."""
    client = getattr(executor, "_client", None)
    if client is None or not type(client).__module__.startswith("distributed"):
        return fut.result()
    watch = WorkerWatch(client, where)
    while True:
        try:
            return fut.result(timeout=1.0)
        except TimeoutError:
            watch.check()
