"""TTTensor: a tensor train (matrix product state) of native arrays."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from .._pytree import register_container
from .._validation import TensorFormat, as_sequence, check_float_dtype
from ..backends import Backend, backend_of
from ..errors import ShapeError

__all__ = ["TTTensor", "check_cores"]


def check_cores(cores: Sequence[Any], ndim: int, where: str) -> Backend:
    """Validate TT cores of `ndim` axes; return their backend.

    Checks: at least one core, every core has `ndim` axes, ``r_0 = r_d = 1``,
    neighbouring ranks chain, one dtype and one device.
    """
    if len(cores) == 0:
        raise ShapeError(f"{where}: cores must be a non-empty sequence of {ndim}-D arrays")
    xp = backend_of(cores)
    dtype = device = None
    prev = 1
    kind = "(r, n, r')" if ndim == 3 else "(r, m, n, r')"
    for k, c in enumerate(cores):
        if not xp.is_array(c):
            raise ShapeError(f"{where}: core {k} is a {type(c).__name__}, expected a "
                             f"{xp.name} array")
        shape = xp.shape(c)
        if len(shape) != ndim:
            raise ShapeError(f"{where}: core {k} must be {ndim}-D {kind}, got shape {shape}")
        if shape[0] != prev:
            what = "r_0 must be 1" if k == 0 else f"core {k - 1} has right rank {prev}"
            raise ShapeError(f"{where}: core {k} has left rank {shape[0]} but {what}")
        prev = shape[-1]
        name = xp.dtype_name(c)
        # a traced core (jax.grad of a closure over concrete cores) has no device
        dev = None if xp.is_traced(c) else str(xp.device(c))
        if dtype is None:
            check_float_dtype(name, where, "core 0")
            dtype, device = name, dev
        elif name != dtype:
            raise ShapeError(f"{where}: core {k} has dtype {name} but core 0 has {dtype}; "
                             "convert with .to(dtype=...)")
        elif device is None:
            device = dev
        elif dev is not None and dev != device:
            raise ShapeError(f"{where}: core {k} is on {dev} but core 0 is on {device}")
    if prev != 1:
        raise ShapeError(f"{where}: the last core has right rank {prev}, expected r_d = 1")
    return xp


class _CoreTrain(TensorFormat):
    """Storage shared by :class:`TTTensor` and :class:`TTMatrix`: a tuple of cores.

    Immutable; subclasses validate in ``__init__`` with their core order.
    Pytree and pickle support live here, so both formats behave alike under
    ``jax.jit``, the torch/TF gradients and ``pickle``.
    """

    __slots__ = ("_cores", "_backend")

    @classmethod
    def _from_cores(cls, cores: Sequence[Any], backend: Backend | None = None) -> Any:
        """Wrap cores known to be valid (internal: skips validation)."""
        obj = object.__new__(cls)
        obj._cores = tuple(cores)
        obj._backend = backend
        return obj

    # pytree protocol (JAX), also used by the torch and TF gradients
    def _tree_flatten(self) -> tuple[tuple, None]:
        return self._cores, None

    @classmethod
    def _tree_unflatten(cls, aux: Any, children: Sequence[Any]) -> Any:
        return cls._from_cores(children)

    def __getstate__(self) -> dict:
        return {"cores": self._cores}

    def __setstate__(self, state: dict) -> None:
        self._cores = tuple(state["cores"])
        self._backend = None

    @property
    def backend(self) -> Backend:
        """The :class:`~tnlib.Backend` of the cores."""
        if self._backend is None:
            self._backend = backend_of(self._cores)
        return self._backend

    @property
    def cores(self) -> tuple[Any, ...]:
        """The cores, in order."""
        return self._cores

    @property
    def ndim(self) -> int:
        """Number of cores ``d``."""
        return len(self._cores)


@register_container
class TTTensor(_CoreTrain):
    """A tensor in tensor-train format, ``x[i1..id] = G1[:, i1, :] ... Gd[:, id, :]``.

    Immutable: every operation returns a new object. Cores are native arrays of
    one backend, shapes ``(r_{k-1}, n_k, r_k)`` with ``r_0 = r_d = 1``.

    Parameters
    ----------
    cores : sequence of 3-D arrays

    Attributes
    ----------
    cores : tuple of arrays
    shape : tuple of int
        Mode sizes ``(n_1, ..., n_d)``.
    ranks : tuple of int
        ``(1, r_1, ..., r_{d-1}, 1)``.
    ndim, dtype, backend, device
        Number of modes ``d``; dtype, backend and device of the cores.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> x = tt.TTTensor([np.ones((1, 2, 3)), np.ones((3, 4, 1))])
    >>> x.shape, x.ranks
    ((2, 4), (1, 3, 1))
    >>> float(x[1, 2])
    3.0
    """

    __slots__ = ()

    def __init__(self, cores: Sequence[Any]) -> None:
        cores = as_sequence(cores, "TTTensor", "cores", "(r, n, r') arrays")
        self._backend = check_cores(cores, 3, "TTTensor")
        self._cores = cores

    # ------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple[int, ...]:
        """Mode sizes."""
        return tuple(int(c.shape[1]) for c in self._cores)

    @property
    def ranks(self) -> tuple[int, ...]:
        """TT-ranks ``(1, r_1, ..., r_{d-1}, 1)``."""
        return (1,) + tuple(int(c.shape[2]) for c in self._cores)

    @property
    def max_rank(self) -> int:
        """Largest TT-rank."""
        return max(self.ranks)

    @property
    def dtype(self) -> Any:
        """Framework dtype of the cores."""
        return self.backend.dtype(self._cores[0])

    @property
    def device(self) -> Any:
        """Device of the cores."""
        return self.backend.device(self._cores[0])

    @property
    def size(self) -> int:
        """Number of entries of the full tensor."""
        return math.prod(self.shape)

    @property
    def num_params(self) -> int:
        """Number of stored numbers (sum of core sizes)."""
        return sum(math.prod(int(n) for n in c.shape) for c in self._cores)

    def __repr__(self) -> str:
        xp = self.backend
        ratio = self.size / max(1, self.num_params)
        return (f"TTTensor(shape={self.shape}, ranks={self.ranks}, "
                f"dtype={xp.dtype_name(self._cores[0])}, backend={xp.name}, "
                f"compression={ratio:.3g})")

    # -------------------------------------------------------------- conversion
    def to(self, backend: str | Backend | None = None, dtype: Any = None,
           device: Any = None) -> TTTensor:
        """Copy on another backend, dtype or device.

        Examples
        --------
        >>> from tnlib import tt
        >>> x = tt.random((3, 3), 2, seed=0).to(dtype="float32")
        >>> str(x.dtype)
        'float32'
        """
        target, convert = self._converter(backend, dtype, device)
        return TTTensor._from_cores([convert(c) for c in self._cores], target)

    def full(self) -> Any:
        """The dense tensor (use only for small shapes)."""
        from .algebra import full

        return full(self)

    # ------------------------------------------------------------- operations
    def conj(self) -> TTTensor:
        """Entrywise complex conjugate (the conjugated cores; a real train is returned as is).

        Examples
        --------
        >>> from tnlib import tt
        >>> x = tt.random((2, 3), 2, seed=0, dtype="complex128")
        >>> bool(abs(x.conj()[1, 2] - x[1, 2].conjugate()) < 1e-14)
        True
        """
        xp = self.backend
        if not xp.is_complex(self._cores[0]):
            return self
        return TTTensor._from_cores([xp.conj(c) for c in self._cores], xp)

    def norm(self) -> Any:
        """Frobenius norm, a 0-d real array of the backend."""
        from .algebra import norm

        return norm(self)

    def dot(self, other: TTTensor, log: bool = False) -> Any:
        """Scalar product ``sum(conj(self) * other)`` (see :func:`tnlib.tt.dot`)."""
        from .algebra import dot

        return dot(self, other, log=log)

    def sum(self, log: bool = False, *, axis: Any = None) -> Any:
        """Sum of all entries, or over the modes `axis` (see :func:`tnlib.tt.sum`)."""
        from .algebra import tt_sum

        return tt_sum(self, log=log, axis=axis)

    def cumsum(self, axis: Any = None) -> TTTensor:
        """Cumulative sums, as ``np.cumsum`` of the dense tensor (see :func:`tnlib.tt.cumsum`)."""
        from .toeplitz import cumsum

        return cumsum(self, axis=axis)

    def round(self, eps: float = 0.0, max_rank: Any = None) -> TTTensor:
        """TT-rounding to relative accuracy `eps` and/or `max_rank` (see :func:`tnlib.tt.round`)."""
        from .round import round as _round

        return _round(self, eps=eps, max_rank=max_rank)

    def orthogonalize(self, direction: str = "left") -> TTTensor:
        """Left- or right-orthogonal form (see :func:`tnlib.tt.orthogonalize`)."""
        from .round import orthogonalize

        return orthogonalize(self, direction)

    def evaluate(self, idx: Any) -> Any:
        """Entries at integer multi-indices ``idx`` of shape ``(N, d)`` -> ``(N,)``."""
        from .algebra import evaluate

        return evaluate(self, idx)

    def __getitem__(self, key: Any) -> Any:
        from .algebra import getitem

        return getitem(self, key)

    def __add__(self, other: Any) -> TTTensor:
        from .algebra import add

        return add(self, other) if _operand(other) else NotImplemented

    def __radd__(self, other: Any) -> TTTensor:
        from .algebra import add

        return add(self, other) if _operand(other) else NotImplemented

    def __sub__(self, other: Any) -> TTTensor:
        from .algebra import add

        return add(self, -other) if _operand(other) else NotImplemented

    def __rsub__(self, other: Any) -> TTTensor:
        from .algebra import add

        return add(-self, other) if _operand(other) else NotImplemented

    def __neg__(self) -> TTTensor:
        return self.__mul__(-1.0)

    def __pos__(self) -> TTTensor:
        return self

    def __mul__(self, other: Any) -> TTTensor:
        from .algebra import hadamard, scale

        if isinstance(other, TTTensor):
            return hadamard(self, other)
        return scale(self, other) if _operand(other) else NotImplemented

    def __rmul__(self, other: Any) -> TTTensor:
        return self.__mul__(other)

    def __truediv__(self, other: Any) -> TTTensor:
        from .algebra import scale

        if isinstance(other, TTTensor):
            raise ShapeError("TTTensor: division by a TTTensor is not exact; use "
                             "tt.divide(x, y, eps) (AMEn) or tt.apply(lambda a, b: a / b, x, y) "
                             "(cross) for an elementwise quotient")
        if isinstance(other, numbers.Number):
            return scale(self, 1.0 / other)
        return scale(self, 1.0 / other) if _operand(other) else NotImplemented


def _operand(other: Any) -> bool:
    """Whether arithmetic with a TTTensor takes `other`: a train, a number or a 0-d array.

    Anything else gives Python's own "unsupported operand" TypeError, except arrays
    with axes, which are a ShapeError that says how to combine them.
    """
    if isinstance(other, (TTTensor, numbers.Number)):
        return True
    shape = getattr(other, "shape", None)
    if shape is None or isinstance(other, _CoreTrain):
        return False
    if len(tuple(shape)) == 0:
        return True
    raise ShapeError(f"TTTensor arithmetic with a dense array of shape {tuple(shape)}: make it "
                     "a train first (tt.tt_svd(a)), or take x.full()")
