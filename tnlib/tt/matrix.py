"""TTMatrix: an operator in tensor-train (MPO) format."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from .._pytree import register_container
from .._validation import as_sequence
from ..backends import Backend, backend_of
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from .tensor import TTTensor, _CoreTrain, check_cores

__all__ = ["TTMatrix"]


@register_container
class TTMatrix(_CoreTrain):
    """A matrix of shape ``(prod m_k, prod n_k)`` in TT format.

    ``A[(i_1..i_d), (j_1..j_d)] = G1[:, i1, j1, :] ... Gd[:, id, jd, :]``, row and
    column multi-indices in NumPy reshape order. Cores ``(r_{k-1}, m_k, n_k, r_k)``.

    Parameters
    ----------
    cores : sequence of 4-D arrays

    Examples
    --------
    >>> from tnlib import tt
    >>> a = tt.eye((2, 3))
    >>> a.row_shape, a.col_shape, a.ranks
    ((2, 3), (2, 3), (1, 1, 1))
    >>> a.full().shape
    (6, 6)
    """

    __slots__ = ()

    def __init__(self, cores: Sequence[Any]) -> None:
        cores = as_sequence(cores, "TTMatrix", "cores", "(r, m, n, r') arrays")
        self._backend = check_cores(cores, 4, "TTMatrix")
        self._cores = cores

    # ------------------------------------------------------------- properties
    @property
    def row_shape(self) -> tuple[int, ...]:
        return tuple(int(c.shape[1]) for c in self._cores)

    @property
    def col_shape(self) -> tuple[int, ...]:
        return tuple(int(c.shape[2]) for c in self._cores)

    @property
    def shape(self) -> tuple[int, int]:
        """``(prod(row_shape), prod(col_shape))``."""
        return math.prod(self.row_shape), math.prod(self.col_shape)

    @property
    def ranks(self) -> tuple[int, ...]:
        return (1,) + tuple(int(c.shape[3]) for c in self._cores)

    @property
    def dtype(self) -> Any:
        return self.backend.dtype(self._cores[0])

    @property
    def device(self) -> Any:
        return self.backend.device(self._cores[0])

    def __repr__(self) -> str:
        xp = self.backend
        return (f"TTMatrix(row_shape={self.row_shape}, col_shape={self.col_shape}, "
                f"ranks={self.ranks}, dtype={xp.dtype_name(self._cores[0])}, backend={xp.name})")

    # ------------------------------------------------------------ conversions
    def as_tt(self) -> TTTensor:
        """The same cores viewed as a TTTensor with modes ``m_k n_k``."""
        xp = self.backend
        return TTTensor._from_cores(
            [xp.reshape(c, (xp.shape(c)[0], -1, xp.shape(c)[3])) for c in self._cores], xp)

    @classmethod
    def from_tt(cls, x: TTTensor, row_shape: Sequence[int], col_shape: Sequence[int]
                ) -> TTMatrix:
        """Inverse of :meth:`as_tt`: split each mode of `x` into ``(m_k, n_k)``."""
        xp = x.backend
        if len(row_shape) != x.ndim or len(col_shape) != x.ndim or any(
                m * n != s for m, n, s in zip(row_shape, col_shape, x.shape)):
            raise ShapeError(f"TTMatrix.from_tt: modes {x.shape} do not split into row_shape "
                             f"{tuple(row_shape)} x col_shape {tuple(col_shape)}")
        return cls._from_cores([xp.reshape(c, (xp.shape(c)[0], m, n, xp.shape(c)[2]))
                                for c, m, n in zip(x.cores, row_shape, col_shape)], xp)

    def _like(self, x: TTTensor) -> TTMatrix:
        return TTMatrix.from_tt(x, self.row_shape, self.col_shape)

    def to(self, backend: str | Backend | None = None, dtype: Any = None,
           device: Any = None) -> TTMatrix:
        """Copy on another backend, dtype or device."""
        return self._like(self.as_tt().to(backend=backend, dtype=dtype, device=device))

    def full(self) -> Any:
        """Dense ``(prod m, prod n)`` matrix."""
        xp = self.backend
        d = self.ndim
        t = xp.reshape(self.as_tt().full(), [s for k in range(d) for s in
                                             (self.row_shape[k], self.col_shape[k])])
        t = xp.transpose(t, list(range(0, 2 * d, 2)) + list(range(1, 2 * d, 2)))
        return xp.reshape(t, self.shape)

    # ------------------------------------------------------------- operations
    @property
    def T(self) -> TTMatrix:  # noqa: N802 - the name every array library uses
        """Transpose (no conjugation)."""
        xp = self.backend
        return TTMatrix._from_cores([xp.transpose(c, (0, 2, 1, 3)) for c in self._cores], xp)

    def conj(self) -> TTMatrix:
        """Entrywise complex conjugate."""
        xp = self.backend
        return TTMatrix._from_cores([xp.conj(c) for c in self._cores], xp)

    @property
    def H(self) -> TTMatrix:  # noqa: N802
        """Conjugate transpose."""
        return self.T.conj()

    def round(self, eps: float = 0.0, max_rank: Any = None) -> TTMatrix:
        """TT-rounding of the operator (see :func:`tnlib.tt.round`)."""
        return self._like(self.as_tt().round(eps=eps, max_rank=max_rank))

    def norm(self) -> Any:
        """Frobenius norm."""
        return self.as_tt().norm()

    def trace(self, log: bool = False) -> Any:
        """Trace (square only; see :func:`tnlib.tt.trace`)."""
        from .marginal import trace

        return trace(self, log=log)

    def diag(self) -> TTTensor:
        """The diagonal as a TTTensor (square cores only)."""
        if self.row_shape != self.col_shape:
            raise ShapeError(f"TTMatrix.diag: needs row_shape == col_shape, got "
                             f"{self.row_shape} and {self.col_shape}")
        xp = self.backend
        cores = [xp.einsum("aiib->aib", c) for c in self._cores]
        return TTTensor._from_cores(cores, xp)

    @host_eager
    def matvec(self, x: TTTensor) -> TTTensor:
        """``A @ x`` exactly; ranks multiply (round afterwards, or use ``amen_mv``)."""
        if not isinstance(x, TTTensor):
            raise ArgumentError(f"TTMatrix @: expected a TTTensor or TTMatrix, got "
                                f"{type(x).__name__}")
        xp = backend_of(self, x)
        if self.col_shape != x.shape:
            raise ShapeError(f"TTMatrix @ TTTensor: col_shape {self.col_shape} does not match "
                             f"x.shape {x.shape}")
        _check_dtypes(xp, self._cores[0], x.cores[0], "TTMatrix @ TTTensor")
        cores = []
        for a, b in zip(self._cores, x.cores):
            ra, m, _, ra2 = xp.shape(a)
            rb, _, rb2 = xp.shape(b)
            c = xp.einsum("amnb,cnd->acmbd", a, b)
            cores.append(xp.reshape(c, (ra * rb, m, ra2 * rb2)))
        return TTTensor._from_cores(cores, xp)

    @host_eager
    def matmat(self, other: TTMatrix) -> TTMatrix:
        """``A @ B`` exactly; ranks multiply."""
        xp = backend_of(self, other)
        if self.col_shape != other.row_shape:
            raise ShapeError(f"TTMatrix @ TTMatrix: col_shape {self.col_shape} does not match "
                             f"row_shape {other.row_shape}")
        _check_dtypes(xp, self._cores[0], other.cores[0], "TTMatrix @ TTMatrix")
        cores = []
        for a, b in zip(self._cores, other.cores):
            ra, m, _, ra2 = xp.shape(a)
            rb, _, p, rb2 = xp.shape(b)
            c = xp.einsum("amnb,cnpd->acmpbd", a, b)
            cores.append(xp.reshape(c, (ra * rb, m, p, ra2 * rb2)))
        return TTMatrix._from_cores(cores, xp)

    def __matmul__(self, other: Any) -> Any:
        if isinstance(other, TTMatrix):
            return self.matmat(other)
        return self.matvec(other)

    def _check_same(self, other: Any, where: str) -> None:
        if not isinstance(other, TTMatrix):
            raise ArgumentError(f"{where}: expected a TTMatrix, got {type(other).__name__}")
        if self.row_shape != other.row_shape or self.col_shape != other.col_shape:
            raise ShapeError(f"{where}: shapes differ, {self.row_shape}x{self.col_shape} and "
                             f"{other.row_shape}x{other.col_shape}")

    def __add__(self, other: Any) -> TTMatrix:
        self._check_same(other, "TTMatrix +")
        return self._like(self.as_tt() + other.as_tt())

    def __sub__(self, other: Any) -> TTMatrix:
        self._check_same(other, "TTMatrix -")
        return self._like(self.as_tt() - other.as_tt())

    def __neg__(self) -> TTMatrix:
        return self._like(-self.as_tt())

    def __mul__(self, other: Any) -> TTMatrix:
        if isinstance(other, (TTMatrix, TTTensor)):
            raise ArgumentError("TTMatrix *: only scalars; use @ for products")
        if len(tuple(getattr(other, "shape", ()))) > 0:
            raise ArgumentError(f"TTMatrix *: only scalars, got an array of shape "
                                f"{tuple(other.shape)}; use @ for products (a TT-matrix "
                                "times a TT-tensor)")
        if not isinstance(other, numbers.Number) and not self.backend.is_array(other):
            return NotImplemented  # Python's "unsupported operand type(s)", as for TTTensor
        return self._like(self.as_tt() * other)

    def __rmul__(self, other: Any) -> TTMatrix:
        return self.__mul__(other)

    def __truediv__(self, other: Any) -> TTMatrix:
        if not isinstance(other, numbers.Number) and not self.backend.is_array(other):
            raise ArgumentError("TTMatrix /: only scalars")
        return self._like(self.as_tt() / other)


def _check_dtypes(xp: Any, a: Any, b: Any, where: str) -> None:
    da, db = xp.dtype_name(a), xp.dtype_name(b)
    if da != db:
        raise ArgumentError(f"{where}: dtypes differ, {da} and {db}; convert one with "
                            ".to(dtype=...)")
