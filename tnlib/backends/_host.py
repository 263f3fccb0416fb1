"""Host execution: eager CPU arrays of JAX and TensorFlow run an algorithm through NumPy.

An algorithm is a long sequence of small operations (a QR of a 60 x 8 matrix, a
contraction of two cores). Eager JAX compiles every primitive for every new
shape the first time it meets it (seconds for one TT-SVD), and eager TensorFlow
pays tens of microseconds of dispatch per operation; on the CPU both end up
several times slower than NumPy doing the same arithmetic with the same LAPACK.

So a public algorithm decorated with :func:`host_eager`, called with *concrete*
CPU arrays of such a backend and with nothing recording gradients, converts its
array arguments to NumPy (no copy where the framework allows), runs the same
code on the NumPy backend, and converts the arrays of its result back to the
caller's backend and device. Black-box callables among the arguments still see
the caller's arrays. Under ``jax.jit``/``jax.grad`` (tracers), inside
``tf.function`` or a ``tf.GradientTape``, on a GPU, and for torch tensors that
require gradients the framework's own operations run, unchanged. Each backend
says when it qualifies (:meth:`~tnlib.backends.Backend.host_eligible`).

``TNLIB_HOST_EXECUTION=0`` in the environment, or the :func:`host_execution`
context manager, turns it off (every operation then runs in the framework).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import os
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np

from .._pytree import flatten, is_container
from ..errors import ArgumentError
from ._dispatch import _type_backend, backend_of, get, resolve, to_numpy

__all__ = ["caller_backend", "host_eager", "host_execution"]

F = TypeVar("F", bound=Callable[..., Any])

_ENABLED: contextvars.ContextVar[bool | None] = contextvars.ContextVar(
    "tnlib_host_execution", default=None)


def _enabled() -> bool:
    flag = _ENABLED.get()
    if flag is None:
        return os.environ.get("TNLIB_HOST_EXECUTION", "1").strip().lower() not in (
            "0", "false", "no", "off")
    return flag


@contextlib.contextmanager
def host_execution(enabled: bool = True) -> Iterator[None]:
    """Allow (``True``) or forbid (``False``) host execution inside the ``with`` block.

    With ``False``, algorithms on eager CPU arrays of JAX, TensorFlow and torch
    run every operation in the framework itself, as they do under tracing or
    autodiff. The setting is context-local, like :func:`~tnlib.use_backend`.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> from tnlib.backends import host_execution
    >>> with host_execution(False):
    ...     x = tt.tt_svd(np.ones((4, 4, 4)), eps=1e-12)
    >>> x.ranks
    (1, 1, 1, 1)
    """
    if not isinstance(enabled, (bool, np.bool_)):
        raise ArgumentError(f"host_execution: enabled must be True or False, got "
                            f"{enabled!r}")
    token = _ENABLED.set(bool(enabled))
    try:
        yield
    finally:
        _ENABLED.reset(token)


def _is_array(leaf: Any) -> bool:
    return _type_backend(type(leaf)) is not None


def _quick_native(args: tuple) -> bool:
    """True when the first argument already settles it: NumPy data runs as it is."""
    if not args:
        return False
    first = args[0]
    if isinstance(first, np.ndarray):
        return True
    if is_container(first):
        return first.backend.name == "numpy"
    return False


class _OnTarget:
    """A black box called from host code: gets the caller's arrays, returns NumPy's.

    A class rather than a closure so that it pickles (process pools, Dask).
    """

    def __init__(self, fn: Callable, backend: str, device: Any) -> None:
        self.fn, self.backend, self.device = fn, backend, device

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        xp = get(self.backend)
        args, kwargs = _convert((args, kwargs), lambda a: xp.asarray(a, device=self.device))
        return _convert(self.fn(*args, **kwargs), to_numpy)

    def __getstate__(self) -> dict:
        return {"fn": self.fn, "backend": self.backend, "device": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


def caller_backend(fn: Callable, xp: Any) -> Any:
    """The backend whose arrays the black box `fn` receives when called with `xp`'s.

    An adapter that maps its arguments before calling the user's function (grid points
    from indices, entries of tensors) names that function as its ``black_box``; the
    chain is followed to the call that converts arrays, if any."""
    while not isinstance(fn, _OnTarget) and getattr(fn, "black_box", None) is not None:
        fn = fn.black_box
    return get(fn.backend) if isinstance(fn, _OnTarget) else xp


def _convert(obj: Any, fn: Callable[[Any], Any], host_scalars: bool = False) -> Any:
    """`obj` with `fn` applied to its arrays (and to NumPy's inexact scalars if asked)."""
    leaves, rebuild = flatten(obj, atom=_twinned)

    def one(leaf: Any) -> Any:
        if _twinned(leaf):
            return _convert_twinned(leaf, fn)
        if _is_array(leaf) or (host_scalars and isinstance(leaf, _INEXACT)):
            return fn(leaf)
        return leaf

    return rebuild([one(leaf) for leaf in leaves])


def _twinned(obj: Any) -> bool:
    """Containers whose identity means something (a Riemannian frame: vectors at one point
    share it): they declare a ``_twin`` slot."""
    return is_container(obj) and hasattr(type(obj), "_twin")


def _convert_twinned(obj: Any, fn: Callable[[Any], Any]) -> Any:
    """`obj` converted, the same object each time: its host copy, made once, and that
    copy's conversion back give the original (so vectors made at one point on the host
    come back at the caller's point)."""
    # twins are made in pairs by one conversion, so the twin is on the other side: the
    # host copy of a caller's object, or the caller's object of a host copy
    twin = obj._twin
    if twin is not None:
        return twin
    leaves, rebuild = flatten(obj)
    new = rebuild([fn(leaf) if _is_array(leaf) else leaf for leaf in leaves])
    obj._twin, new._twin = new, obj
    return new


_INEXACT = (np.floating, np.complexfloating)


def host_eager(fn: F) -> F:
    """Decorator of a public algorithm: run it on the host for eligible eager CPU arrays.

    See the module documentation for when that happens. The decorated
    function must work on NumPy arrays and take array data (or tensor-network
    containers) among its arguments, or a ``backend=`` argument that decides.
    """
    sig = inspect.signature(fn)
    has_backend = "backend" in sig.parameters

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _quick_native(args) or not _enabled():
            return fn(*args, **kwargs)
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError:
            return fn(*args, **kwargs)  # the function's own error
        leaves, rebuild = flatten(dict(bound.arguments), atom=_twinned)
        arrays = [a for leaf in leaves for a in (flatten(leaf)[0] if _twinned(leaf) else [leaf])
                  if _is_array(a)]
        try:
            if arrays:
                xp = backend_of(arrays)  # a mismatch is the function's to report, below
                if has_backend and bound.arguments.get("backend") is not None and resolve(
                        bound.arguments["backend"]).name != xp.name:
                    return fn(*args, **kwargs)  # the function reports the conflict
            elif has_backend:
                xp = resolve(bound.arguments.get("backend"))
            else:
                return fn(*args, **kwargs)
        except Exception:  # noqa: BLE001 - mixed backends or an invalid backend= are the
            # function's to report
            return fn(*args, **kwargs)
        if xp.name == "numpy" or not xp.host_eligible(arrays):
            return fn(*args, **kwargs)
        device = xp.device(arrays[0]) if arrays else None
        views: dict = {}  # an array given twice (dot(x, x)) stays one array on the host

        def view(leaf: Any) -> Any:
            if id(leaf) not in views:
                views[id(leaf)] = xp.host_view(leaf)
            return views[id(leaf)]

        new = [view(leaf) if _is_array(leaf) else _convert_twinned(leaf, view) if _twinned(leaf)
               else _OnTarget(leaf, xp.name, device) if _is_black_box(leaf) else leaf
               for leaf in leaves]
        arguments = rebuild(new)
        if has_backend and not arrays:
            arguments["backend"] = "numpy"
        bound.arguments.update(arguments)
        # the frameworks flag no floating-point exceptions (x * inf is NaN where a core is
        # 0, silently): neither does their host path (tnlib's own warnings still come)
        with np.errstate(all="ignore"):
            out = fn(*bound.args, **bound.kwargs)
        return _convert(out, lambda a: xp.asarray(a, device=device), host_scalars=True)

    return wrapper  # type: ignore[return-value]


def _is_black_box(leaf: Any) -> bool:
    return callable(leaf) and not isinstance(leaf, type) and not is_container(leaf)
