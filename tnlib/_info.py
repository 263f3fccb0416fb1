"""Iteration records returned by iterative algorithms with ``return_info=True``."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from .errors import ConvergenceWarning

__all__ = ["IterationInfo", "Timer", "compiled", "maybe_jit", "warn_not_converged"]


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


def warn_not_converged(where: str, message: str, stacklevel: int = 3) -> None:
    """Issue the :class:`~tnlib.ConvergenceWarning` of an algorithm that stopped short."""
    warnings.warn(f"{where}: {message}", ConvergenceWarning, stacklevel=stacklevel)


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
