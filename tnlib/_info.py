"""Iteration records returned by iterative algorithms with ``return_info=True``."""

from __future__ import annotations

import functools
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from .errors import ConvergenceWarning

__all__ = ["IterationInfo", "Timer", "compiled", "grouped", "maybe_jit", "read_floats",
           "user_stacklevel", "warn_not_converged"]


@dataclass
class IterationInfo:
    """What an iterative algorithm did.

    Attributes
    ----------
    iterations : int
        Iterations (or sweeps) performed.
    converged : bool
        Whether the tolerance was reached.
    stop_reason : str
        Why it stopped, in words.
    wall_time : float
        Seconds spent.
    errors : list of float
        The algorithm's error measure after each iteration (relative error,
        residual, or error estimate; see the algorithm).
    """

    iterations: int = 0
    converged: bool = False
    stop_reason: str = ""
    wall_time: float = 0.0
    errors: list[float] = field(default_factory=list)


class Timer:
    """Wall-clock since construction, in seconds."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.start


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside tnlib.

    For ``warnings.warn(..., stacklevel=user_stacklevel())`` called in tnlib code:
    the count of tnlib frames between that call and the user's line, so that
    decorators and internal calls never make a warning name a line of tnlib.
    """
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


_ANONYMOUS = ("wrapper", "<lambda>", "<listcomp>", "<dictcomp>", "<genexpr>", "<module>")


def entry_point(default: str = "tnlib") -> str:
    """The name of the outermost public tnlib function on the call stack (the one the user
    called, past decorators and private helpers), or `default`: for messages raised deep
    inside that should name what the user called."""
    name = default
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_filename.startswith(_PACKAGE_DIR) and not code.co_name.startswith("_") \
                and code.co_name not in _ANONYMOUS:
            name = code.co_name
        frame = frame.f_back
    return name


def warn_not_converged(where: str, message: str, stacklevel: int | None = None) -> None:
    """Issue the :class:`~tnlib.ConvergenceWarning` of an algorithm that stopped short.

    The warning names the user's line (see :func:`user_stacklevel`) unless
    `stacklevel` is given.
    """
    warnings.warn(f"{where}: {message}", ConvergenceWarning,
                  stacklevel=user_stacklevel() if stacklevel is None else stacklevel)


def read_floats(xp: Any, *values: Any) -> list[float]:
    """Real 0-d arrays of one dtype as Python floats: in one read on an accelerator (where
    each read waits for the device); where reads are free, one by one (no stacking)."""
    if len(values) == 1 or not xp.reads_synchronize(values[0]):
        return [float(xp.item(v)) for v in values]
    return [float(v) for v in xp.to_numpy(xp.stack(list(values)))]


def maybe_jit(xp: Any, fn: Any, fuse: bool = False) -> Any:
    """`fn` compiled by the backend's tracing compiler where it has one, else `fn`.

    ``fuse=True`` asks for whole-function native compilation where that is an
    option rather than the default (XLA on TensorFlow; JAX always compiles so).
    """
    if not xp.supports_jit:
        return fn
    return xp.jit(fn, fuse=True) if fuse else xp.jit(fn)


_COMPILED: dict = {}


def compiled(xp: Any, fn: Any, *, fuse: bool = False, **static: Any) -> Any:
    """``fn(*arrays, **static, xp=xp)``, compiled once per backend and static arguments.

    ``fuse=True``: see `maybe_jit`; for hot loops over large fixed shapes,
    where the longer compilation pays off.

    The compiled function is cached, so repeated calls of an algorithm reuse
    the trace (``jax.jit`` and ``tf.function`` recompile for every new Python
    function object, which costs tenths of a second per call).
    """
    key = (xp.name, fn, fuse, tuple(sorted(static.items())))
    f = _COMPILED.get(key)
    if f is None:
        def bound(*arrays: Any) -> Any:
            return fn(*arrays, **static, xp=xp)
        f = maybe_jit(xp, bound, fuse)
        if len(_COMPILED) > 256:
            _COMPILED.clear()
        _COMPILED[key] = f
    return f


def grouped(fn: Any) -> Any:
    """Decorator for an array function ``fn(xp, *arrays, **static)``: where every eager
    operation compiles for each new shape (``xp.shape_compiles``: JAX), the call runs as
    one compiled program -- one compilation per shape pattern instead of one per
    operation, and one dispatch per call; elsewhere `fn` runs as it is. Static
    arguments must be hashable and are passed by keyword."""
    def xp_last(*arrays: Any, xp: Any, **static: Any) -> Any:
        return fn(xp, *arrays, **static)

    @functools.wraps(fn)
    def wrapper(xp: Any, *arrays: Any, **static: Any) -> Any:
        if xp.shape_compiles:
            return compiled(xp, xp_last, **static)(*arrays)
        return fn(xp, *arrays, **static)

    return wrapper


@dataclass
class DecompositionInfo:
    """Record of a one-shot decomposition (``tt_svd``, ``hosvd``) of in-memory or Dask data.

    Attributes
    ----------
    passes : int
        Passes over the data (1 in memory, 2 out of core).
    bytes_read : int
        Bytes of the data read, all passes together.
    error_estimate : float
        Relative error ``‖a - x‖_F / ‖a‖_F``: computed directly in memory; out of
        core, the root of the discarded energy -- an upper bound with TSQR, and
        within about ``1e-8`` of the true error from Gram matrices.
    norm : float
        ``‖a‖_F``.
    method : str
        How the data was reduced: ``"in memory"``, or out of core ``"gram"``
        (Gram matrices) or ``"tsqr"`` (tree QR).
    """

    passes: int = 1
    bytes_read: int = 0
    error_estimate: float = 0.0
    norm: float = 0.0
    method: str = "in memory"


def in_memory_info(a: Any, x: Any, xp: Any) -> DecompositionInfo:
    """The record of an in-memory decomposition: one pass, the true relative error."""
    norm = float(xp.item(xp.norm(a)))
    err = float(xp.item(xp.norm(xp.reshape(x.full(), xp.shape(a)) - a)))
    size = 1
    for n in xp.shape(a):
        size *= n
    nbytes = size * int(xp.to_numpy(xp.reshape(a, (-1,))[:1]).itemsize)
    return DecompositionInfo(passes=1, bytes_read=nbytes,
                             error_estimate=err / norm if norm > 0 else err, norm=norm)
