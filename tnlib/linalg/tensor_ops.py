"""Tensor algebra shared by CP, Tucker and H-Tucker: unfoldings, mode products, Khatri-Rao.

Convention (the same as TensorLy's): the mode-``k`` unfolding of ``a`` moves
axis ``k`` to the front and reshapes in C order, so the remaining modes keep
their order with the last one varying fastest. :func:`khatri_rao` follows the
same order, hence ``unfold(cp.full(), k) = A_k diag(w) khatri_rao(A_{j != k})^T``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from .._validation import as_array, as_sequence, check_shape
from ..backends import backend_of
from ..errors import ArgumentError, ShapeError

__all__ = ["fold", "khatri_rao", "mode_product", "multi_mode_product", "unfold"]


def unfold(a: Any, mode: int) -> Any:
    """Mode-`mode` unfolding: a ``(n_mode, prod(other sizes))`` matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.linalg import unfold
    >>> unfold(np.arange(24).reshape(2, 3, 4), 1).shape
    (3, 8)
    """
    xp = backend_of(a)
    a = as_array(a, xp, "unfold")
    shape = xp.shape(a)
    mode = _check_mode(mode, len(shape), "unfold")
    return xp.reshape(xp.moveaxis(a, mode, 0), (shape[mode], -1))


def fold(m: Any, mode: int, shape: Sequence[int]) -> Any:
    """Inverse of :func:`unfold`: the tensor of `shape` whose unfolding is `m`.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.linalg import fold, unfold
    >>> a = np.arange(24.0).reshape(2, 3, 4)
    >>> bool((fold(unfold(a, 2), 2, a.shape) == a).all())
    True
    """
    xp = backend_of(m)
    m = as_array(m, xp, "fold", "m")
    shape = check_shape(shape, "fold")
    mode = _check_mode(mode, len(shape), "fold")
    moved = (shape[mode],) + shape[:mode] + shape[mode + 1:]
    if xp.shape(m) != (shape[mode], math.prod(moved[1:])):
        raise ShapeError(f"fold: m has shape {xp.shape(m)}, expected "
                         f"({shape[mode]}, {math.prod(moved[1:])}) for shape {shape}")
    return xp.moveaxis(xp.reshape(m, moved), 0, mode)


def mode_product(a: Any, m: Any, mode: int) -> Any:
    """``a ×_mode m``: contract mode `mode` of `a` with the columns of matrix `m`.

    The result has ``m.shape[0]`` in place of ``a.shape[mode]``.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.linalg import mode_product
    >>> mode_product(np.ones((2, 3, 4)), np.ones((5, 3)), 1).shape
    (2, 5, 4)
    """
    xp = backend_of(a, m)
    a, m = as_array(a, xp, "mode_product"), as_array(m, xp, "mode_product", "m")
    shape = xp.shape(a)
    mode = _check_mode(mode, len(shape), "mode_product")
    if xp.ndim(m) != 2 or xp.shape(m)[1] != shape[mode]:
        raise ShapeError(f"mode_product: m must have shape (p, {shape[mode]}) to act on mode "
                         f"{mode} of a tensor of shape {shape}, got {xp.shape(m)}")
    before, after = math.prod(shape[:mode]), math.prod(shape[mode + 1:])
    p = xp.shape(m)[0]
    if after == 1:
        out = xp.reshape(a, (before, shape[mode])) @ xp.transpose(m)
    else:
        # m on the left of a batched product: no transposed copy of `a`, and BLAS runs
        # the (p x n)(n x after) shape far faster than (.. x n)(n x p) for small p
        out = xp.matmul(m, xp.reshape(a, (before, shape[mode], after)))
    return xp.reshape(out, shape[:mode] + (p,) + shape[mode + 1:])


def multi_mode_product(a: Any, matrices: Sequence[Any], modes: Sequence[int] | None = None,
                       skip: int | None = None) -> Any:
    """``a ×_k m_k`` over several modes, smallest intermediate first.

    Parameters
    ----------
    a : array
    matrices : sequence of matrices, one per entry of `modes`
    modes : sequence of distinct int, optional
        Defaults to ``range(len(matrices))``.
    skip : int, optional
        A mode to leave out (handy for HOOI and MTTKRP-style sweeps).
    """
    matrices = _matrix_list(matrices, "multi_mode_product")
    xp = backend_of(a)
    d = len(xp.shape(a))
    modes = list(range(len(matrices))) if modes is None else [
        _check_mode(k, d, "multi_mode_product") for k in as_sequence(
            modes, "multi_mode_product", "modes", "ints")]
    if len(modes) != len(matrices):
        raise ShapeError(f"multi_mode_product: {len(matrices)} matrices for {len(modes)} modes; "
                         "give one matrix per mode")
    if len(set(modes)) != len(modes):  # the products would be reordered
        raise ArgumentError(f"multi_mode_product: modes must be distinct, got {modes}")
    pairs = [(k, m) for k, m in zip(modes, matrices) if k != skip]
    # contract first the modes that shrink the tensor the most
    pairs.sort(key=lambda km: (xp.shape(km[1])[0] / xp.shape(km[1])[1], -km[0]))
    for k, m in pairs:
        a = mode_product(a, m, k)
    return a


def khatri_rao(matrices: Sequence[Any]) -> Any:
    """Column-wise Kronecker product; row index of the first matrix varies slowest.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.linalg import khatri_rao
    >>> khatri_rao([np.ones((2, 3)), np.ones((4, 3))]).shape
    (8, 3)
    """
    matrices = list(_matrix_list(matrices, "khatri_rao"))
    if not matrices:
        raise ShapeError("khatri_rao: needs at least one matrix")
    xp = backend_of(matrices)
    matrices = [as_array(m, xp, "khatri_rao", f"matrices[{k}]") for k, m in enumerate(matrices)]
    for k, m in enumerate(matrices):
        if xp.ndim(m) != 2:
            raise ShapeError(f"khatri_rao: matrices[{k}] must be a matrix, got shape "
                             f"{tuple(xp.shape(m))}")
    r = xp.shape(matrices[0])[1]
    out = matrices[0]
    for m in matrices[1:]:
        if xp.shape(m)[1] != r:
            raise ShapeError(f"khatri_rao: all matrices need {r} columns, got {xp.shape(m)}")
        out = xp.reshape(out[:, None, :] * m[None, :, :], (-1, r))
    return out


def real_dot(xp: Any, a: Any, b: Any) -> Any:
    """``Re sum(conj(a) * b)``, a real 0-d array: the real inner product of two arrays of
    one shape (``xp.conj`` leaves real arrays as they are)."""
    return xp.real(xp.sum(xp.conj(a) * b))


def _matrix_list(matrices: Any, where: str) -> tuple:
    """`matrices` as a tuple; one array (whose rows would pass for matrices) is refused."""
    if hasattr(matrices, "shape"):
        raise ShapeError(f"{where}: matrices must be a list or tuple of matrices, got one "
                         f"array of shape {tuple(matrices.shape)}")
    return as_sequence(matrices, where, "matrices", "matrices")


def _check_mode(mode: Any, d: int, where: str) -> int:
    """`mode` as an axis in ``[0, d)`` (negative ones count from the end, as in NumPy)."""
    if isinstance(mode, bool) or not isinstance(mode, numbers.Integral):
        raise ArgumentError(f"{where}: mode must be an integer, got {mode!r}")
    if not -d <= mode < d:
        raise ShapeError(f"{where}: mode {mode} is out of range for a tensor with {d} modes")
    return int(mode) % d
