"""Elementwise functions of trains, re-approximated by cross, and the adapters' naming of
cross's errors in their own terms."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from .._validation import check_callable
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError, TnlibError
from .cross import cross
from .tensor import TTTensor

__all__ = ["apply", "named_as"]


@host_eager
def apply(fun: Callable, *tensors: TTTensor, eps: float = 1e-6, **kwargs: Any) -> Any:
    """Elementwise function of TT tensors, re-approximated by cross.

    ``apply(fun, x, y)`` approximates the tensor with entries
    ``fun(x[i], y[i])``; `fun` receives 1-D arrays of the backend (e.g.
    ``lambda a: 1 / a``, ``xp.exp``, ``lambda a, b: a * b``). Keyword
    arguments go to :func:`cross` (``max_rank``, ``x0``, ``return_info``,
    ``executor``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> x = tt.random((4, 5, 6), 2, seed=0) + 10.0
    >>> y = tt.apply(lambda a: 1.0 / a, x, eps=1e-10)
    >>> bool(np.allclose(y.full(), 1.0 / x.full()))
    True
    """
    check_callable(fun, "apply", "fun")
    if not tensors or not all(isinstance(t, TTTensor) for t in tensors):
        raise ArgumentError("apply: give one or more TTTensors after the function")
    shape = tensors[0].shape
    for t in tensors[1:]:
        if t.shape != shape:
            raise ShapeError(f"apply: shapes differ, {shape} and {t.shape}")
    xp = tensors[0].backend
    kwargs.setdefault("seed", 0)
    with named_as("apply", "fun"):
        return cross(_Applied(fun, tensors), shape, eps=eps, backend=xp, **kwargs)


@contextlib.contextmanager
def named_as(where: str, name: str) -> Iterator[None]:
    """Errors of a :func:`cross` run inside the block in the caller's names: ``where``
    for ``cross``, `name` for its function ``f`` (``apply: fun returned nan at ...``)."""
    try:
        yield
    except TnlibError as err:
        text = str(err)
        if not text.startswith("cross: "):
            raise
        text = text[len("cross: "):]
        for said in ("f returned", "f must return"):
            if text.startswith(said):
                text = name + text[1:]
        raise type(err)(f"{where}: {text}") from err


class _Applied:
    """``fun`` of the tensors' entries at an index array (a class, so that it pickles)."""

    def __init__(self, fun: Callable, tensors: tuple) -> None:
        self.fun, self.tensors = fun, tensors

    @property
    def black_box(self) -> Callable:  # what sees the caller's arrays (backends._host)
        return self.fun

    def __call__(self, idx: Any) -> Any:
        return self.fun(*[t.evaluate(idx) for t in self.tensors])
