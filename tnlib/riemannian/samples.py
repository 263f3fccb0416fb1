"""Sampled entries: validation, evaluation and sparse projection at a manifold point.

A set ``Omega`` of ``N`` multi-indices is fixed for a whole completion run,
so the per-mode index arrays are checked and moved to the device once. At a
point ``x`` the interface vectors of every sample,

    ``l_k(s) = U_1[i_1] .. U_{k-1}[i_{k-1}]`` and ``v_k(s) = V_{k+1}[i_{k+1}] .. V_d[i_d]``,

come from one left and one right sweep (``O(N d r^2)``). They give the values
of ``x`` and of any tangent vector at the samples, and the projection of a
sparse tensor ``sum_s w_s e_{i(s)}`` (the Euclidean gradient of a sampled
loss) without any dense tensor: ``dU_k[:, n, :] = sum_{s: i_k(s) = n} w_s
l_k(s)^T v_k(s)``, gauge-projected (Steinlechner 2016, Sec. 4).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from .._validation import host_indices
from ..backends import Backend, backend_of
from ..backends._host import host_eager
from ..errors import ArgumentError, EvaluationError, ShapeError
from ..tt.tensor import TTTensor
from .tangent import Frame, TangentVector, frame_of

__all__ = ["SampleSet", "project_sparse"]


class SampleSet:
    """Validated sample positions on a backend, with per-mode device indices.

    Parameters
    ----------
    idx : int array (N, d)
    shape : tuple of int
    xp : Backend
        Where the indices live.
    where : str
        Name of the calling function, for messages.
    allow_duplicates : bool
    """

    def __init__(self, idx: Any, shape: tuple[int, ...], xp: Backend, where: str,
                 name: str = "idx", allow_duplicates: bool = False) -> None:
        host = host_indices(idx, shape, where, name)
        if not allow_duplicates and host.shape[0] > 1:
            dup = _first_duplicate(host, shape)
            if dup is not None:
                at = tuple(int(i) for i in dup)  # (1, 5, 1), not NumPy 2's np.int64(1), ...
                raise ArgumentError(f"{where}: {name} lists the position {at} more than once; "
                                    "give each sampled entry once (average repeated "
                                    "measurements first)")
        self.host = host
        self.shape = tuple(shape)
        self.xp = xp
        self.size = host.shape[0]
        self.modes = [xp.asarray(np.ascontiguousarray(host[:, k]), dtype="int64")
                      for k in range(len(shape))]
        self._groups: dict[int, tuple | None] = {}
        self._moves: dict[tuple, Any] = {}

    # Two ways to push the sample rows through a core. "gather": take each
    # sample's (r, r') slice and batch-multiply; simple, but it moves N r r'
    # numbers. "grouped": the rows sit in a padded (n, c, r) layout, samples
    # grouped by their index in this mode (c = largest group), and one batched
    # GEMM (n, c, r) @ (n, r, r') does the mode; it moves only N (r + r')
    # numbers and is 5x faster when each index value has many samples.
    # Interfaces are stored in the layout their mode wants, so one take moves
    # them from core to core. Padding rows hold garbage that no result reads:
    # sums over a group weight them by zero.
    def _layout(self, k: int | None) -> tuple | None:
        """``(slots, n, c)`` of a grouped mode (sample s sits in row slots[s]), else None."""
        if k is None:
            return None
        if k in self._groups:
            return self._groups[k]
        n = self.shape[k]
        g = None
        if self.size >= 16 * n and len(self.shape) > 2:
            col = self.host[:, k]
            counts = np.bincount(col, minlength=n)
            c = int(counts.max())
            if c * n <= 1.5 * self.size:  # padding stays small
                order = np.argsort(col, kind="stable")
                starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
                rank = np.empty(self.size, dtype=np.int64)
                rank[order] = np.arange(self.size) - starts[col[order]]
                g = (col * c + rank, n, c)
        self._groups[k] = g
        return g

    def _rows(self, k: int | None) -> int:
        lay = self._layout(k)
        return self.size if lay is None else lay[1] * lay[2]

    def _reorder(self, rows: Any, src: int | None, dst: int | None,
                 pad_zero: bool = False) -> Any:
        """Rows in mode `src`'s layout moved to mode `dst`'s (None: natural sample order).

        With `pad_zero`, padding rows of the result are zero (else arbitrary).
        """
        a, b = self._layout(src), self._layout(dst)
        if a is None and b is None:
            return rows
        key = (src if a is not None else None, dst if b is not None else None, pad_zero)
        idx = self._moves.get(key)
        if idx is None:
            n = self.size
            where_src = np.arange(n) if a is None else a[0]       # sample -> source row
            if b is None:
                idx = where_src
            else:
                idx = np.full(b[1] * b[2], n if pad_zero else 0, dtype=np.int64)
                idx[b[0]] = where_src if not pad_zero else np.arange(n)
            idx = self.xp.asarray(idx, dtype="int64")
            self._moves[key] = idx
        if pad_zero:
            natural = self._reorder(rows, src, None)
            zero = self.xp.zeros((1,) + tuple(self.xp.shape(rows)[1:]), dtype=self.xp.dtype(rows),
                                 device=self.xp.device(rows))
            rows = self.xp.concatenate([natural, zero], axis=0)
        return self.xp.take(rows, idx, axis=0)

    def left_sweep(self, frame: Frame) -> tuple[list, Any]:
        """Left interfaces ``l_k`` (mode-k layout) of every core and the point's values (N,)."""
        xp = self.xp
        d = frame.ndim
        lefts = [None] * d
        lefts[0] = xp.ones((self._rows(0), 1), dtype=xp.dtype(frame.last),
                           device=xp.device(frame.last))
        for k in range(d - 1):
            lefts[k + 1] = self._reorder(self._through(lefts[k], frame.left[k], k), k, k + 1)
        values = self._reorder(self._through(lefts[d - 1], frame.last, d - 1), d - 1, None)
        return lefts, values[:, 0]

    def right_sweep(self, frame: Frame) -> list:
        """Right interfaces ``v_k`` (mode-k layout) of every core."""
        xp = self.xp
        d = frame.ndim
        rights = [None] * d
        rights[d - 1] = xp.ones((self._rows(d - 1), 1), dtype=xp.dtype(frame.last),
                                device=xp.device(frame.last))
        for k in range(d - 1, 0, -1):
            core = xp.transpose(frame.right[k], (2, 1, 0))  # (r', n, r)
            rights[k - 1] = self._reorder(self._through(rights[k], core, k), k, k - 1)
        return rights

    def _through(self, rows: Any, core: Any, k: int) -> Any:
        """``out[s] = rows[s] @ core[:, i_k(s), :]`` for rows in mode-k layout."""
        xp = self.xp
        lay = self._layout(k)
        if lay is None:
            g = xp.take(xp.transpose(core, (1, 0, 2)), self.modes[k], axis=0)  # (N, r, r')
            return xp.einsum("sa,sab->sb", rows, g)
        _, n, c = lay
        r, _, rr = xp.shape(core)
        out = xp.matmul(xp.reshape(rows, (n, c, r)), xp.transpose(core, (1, 0, 2)))
        return xp.reshape(out, (n * c, rr))

    def project(self, frame: Frame, lefts: list, rights: list, weights: Any) -> TangentVector:
        """``P_x (sum_s w_s e_{i(s)})`` from the interfaces; `weights` in natural order."""
        xp = self.xp
        deltas = []
        # U_<k^H e_s V_>k^H: the interfaces enter conjugated
        for k in range(frame.ndim):
            lay = self._layout(k)
            w = self._reorder(weights[:, None], None, k, pad_zero=True)
            left, right = xp.conj(lefts[k]) * w, xp.conj(rights[k])
            r, rr = xp.shape(left)[1], xp.shape(right)[1]
            if lay is None:
                outer = left[:, :, None] * right[:, None, :]  # (N, r, r')
                dk = xp.segment_sum(outer, self.modes[k], self.shape[k])
            else:
                _, n, c = lay
                dk = xp.matmul(xp.transpose(xp.reshape(left, (n, c, r)), (0, 2, 1)),
                               xp.reshape(right, (n, c, rr)))
            deltas.append(frame.gauge(k, xp.transpose(dk, (1, 0, 2))))
        return TangentVector(frame, deltas)

    def tangent_values(self, lefts: list, rights: list, v: TangentVector) -> Any:
        """Values of the tangent vector `v` at the samples (interfaces of its point)."""
        xp = self.xp
        out = None
        for k, dk in enumerate(v.deltas):
            through = self._through(lefts[k], dk, k)
            term = self._reorder(xp.einsum("sa,sa->s", through, rights[k])[:, None], k, None)
            out = term if out is None else out + term
        return out[:, 0]


def project_sparse(x: TTTensor | Frame, idx: Any, values: Any) -> TangentVector:
    """Projection of the sparse tensor with entries `values` at `idx` onto the tangent space at `x`.

    ``O(N d r^2)`` for ``N`` samples; no dense tensor and no rank-``N`` train.
    This is the Riemannian gradient of ``0.5 * sum_s (x[i_s] - a_s)^2`` when
    `values` are the residuals ``x[i_s] - a_s``.

    Parameters
    ----------
    x : TTTensor
    idx : int array (N, d)
        Positions; repeated positions add up.
    values : (N,) array

    Returns
    -------
    TangentVector

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt, riemannian
    >>> x = tt.random((4, 5, 6), 2, seed=0)
    >>> idx = np.array([[0, 1, 2], [3, 4, 5]]); vals = np.array([1.0, -2.0])
    >>> z = np.zeros((4, 5, 6)); z[0, 1, 2], z[3, 4, 5] = 1.0, -2.0
    >>> bool(np.allclose(riemannian.project_sparse(x, idx, vals).full(),
    ...                  riemannian.project(x, z).full()))
    True
    """
    return _project_sparse_at(frame_of(x, "project_sparse"), idx, values)


@host_eager
def _project_sparse_at(frame: Frame, idx: Any, values: Any) -> TangentVector:
    xp = frame.backend
    vals = check_values(values, "project_sparse", xp, frame.last)
    samples = _sample_set(idx, frame.shape, xp)
    if samples.size != xp.shape(vals)[0]:
        raise ShapeError(f"project_sparse: idx has {samples.size} rows but values has "
                         f"{xp.shape(vals)[0]} entries")
    lefts, _ = samples.left_sweep(frame)
    rights = samples.right_sweep(frame)
    return samples.project(frame, lefts, rights, vals)


_SETS: OrderedDict = OrderedDict()


def _sample_set(idx: Any, shape: tuple, xp: Backend) -> SampleSet:
    """The SampleSet of `idx`, reused while the same index array object comes back
    (an optimization loop projects at the same samples every iteration)."""
    key = (id(idx), tuple(shape), xp.name)
    hit = _SETS.get(key)
    if hit is not None and hit[0] is idx:
        return hit[1]
    samples = SampleSet(idx, shape, xp, "project_sparse", allow_duplicates=True)
    _SETS[key] = (idx, samples)
    while len(_SETS) > 4:
        _SETS.popitem(last=False)
    return samples


def sample_data(idx: Any, values: Any, shape: tuple, xp: Backend, where: str,
                name: str = "idx") -> tuple[SampleSet, Any]:
    """Checked samples (each position once) and their finite values as a float array."""
    samples = SampleSet(idx, shape, xp, where, name=name)
    a = check_values(values, where, xp, xp.asarray(values))
    if xp.dtype_name(a) not in ("float32", "float64", "complex64", "complex128"):
        a = xp.astype(a, xp.default_float_dtype)
    if samples.size != xp.shape(a)[0]:
        raise ShapeError(f"{where}: {name} gives {samples.size} samples but values has "
                         f"{xp.shape(a)[0]} entries")
    return samples, a


def check_values(values: Any, where: str, xp: Backend, like: Any, name: str = "values") -> Any:
    """`values` as a finite 1-D array on `xp` with the dtype of `like`."""
    try:
        vb = backend_of(values)
    except Exception:
        vb = None
    if vb is not None and vb.name != xp.name:
        from ..errors import BackendMismatchError

        raise BackendMismatchError(f"{where}: {name} is a {vb.name} array but the point is "
                                   f"on {xp.name}")
    vals = xp.asarray(values)
    if xp.ndim(vals) != 1:
        raise ShapeError(f"{where}: {name} must be 1-D, got shape {tuple(xp.shape(vals))}")
    host = xp.to_numpy(vals)
    if not np.all(np.isfinite(host)):
        bad = int(np.nonzero(~np.isfinite(host))[0][0])
        raise EvaluationError(f"{where}: {name}[{bad}] is {host[bad]}; expected finite values")
    return xp.astype(vals, xp.dtype(like))


def _first_duplicate(host: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    if np.prod([float(n) for n in shape]) < 2.0 ** 62:
        keys = np.ravel_multi_index(tuple(host.T), shape)
        order = np.argsort(keys, kind="stable")
        same = np.nonzero(keys[order][1:] == keys[order][:-1])[0]
    else:
        order = np.lexsort(host.T[::-1])
        srt = host[order]
        same = np.nonzero(np.all(srt[1:] == srt[:-1], axis=1))[0]
    if same.size == 0:
        return None
    return host[order[same[0]]]

