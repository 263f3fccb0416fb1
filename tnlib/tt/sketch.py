"""``tt_sketch``: a TT from one pass over the data (a stream, a Dask array, a sum of tensors)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import as_float, check_nonempty, divided_by_peak, plain
from ..backends import Backend, backend_of, get
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from ..scale.blocks import is_dask, iter_terms
from ..scale.sketch import SketchMaps, accumulate, nbytes_of
from . import _env as env
from ._scale import times_scale
from .tensor import TTTensor

__all__ = ["SketchInfo", "tt_sketch"]


@dataclass
class SketchInfo:
    """What :func:`tt_sketch` saw and how good its result is estimated to be.

    Attributes
    ----------
    ranks : tuple of int
        TT-ranks of the result.
    sketch_ranks : tuple of int
        Sizes ``l_k`` of the right sketches (the oversampled side).
    error_estimate : float
        Estimated ``‖A - X‖_F / ‖A‖_F`` from the held-out probes.
    norm_estimate : float
        Estimated ``‖A‖_F`` from the same probes.
    passes : int
        Passes over the data (always 1).
    bytes_read : int
    probes : int
    """

    ranks: tuple = ()
    sketch_ranks: tuple = ()
    error_estimate: float = math.nan
    norm_estimate: float = math.nan
    passes: int = 1
    bytes_read: int = 0
    probes: int = 0


@host_eager
def tt_sketch(a: Any, ranks: Any, oversample: Any = None, seed: Any = None,
              return_info: bool = False, backend: str | Backend | None = None) -> Any:
    """TT approximation from one streaming pass of two-sided random sketches.

    Parameters
    ----------
    a : array, dask.array.Array, TTTensor, or list of them
        The tensor; a Dask array is read block by block (zarr, HDF5 and memmaps
        through ``dask.array.from_zarr`` / ``from_array``) on the active Dask
        scheduler or client; a TTTensor is sketched from its cores (never formed);
        a list is a sum of tensors, each sketched once: a sum of many trains is
        recompressed without the QR factorizations of its summed ranks that
        rounding needs (randomized rounding).
    ranks : int or sequence of int
        TT-ranks of the result (one for every bond, or ``d - 1`` of them),
        lowered where the shape allows less.
    oversample : int or sequence of int, optional
        Extra columns of the right sketches, ``l_k = r_k + oversample``
        (default ``max(2, r_k)``, i.e. ``l_k = 2 r_k``); more makes the
        generalized Nyström step better conditioned.
    seed : int, optional
        The random maps and probes; the same seed gives the same maps for
        every block, worker and term.
    return_info : bool
        Also return a :class:`SketchInfo` with the held-out error estimate.
    backend : str, optional
        Backend of the result (default: that of `a`; NumPy for Dask input).

    Returns
    -------
    TTTensor, or (TTTensor, SketchInfo)

    References
    ----------
    D. Kressner, B. Vandereycken, R. Voorhaar, "Streaming tensor train
    approximation", SIAM J. Sci. Comput. 45 (2023).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> x = tt.random((6, 7, 8, 5), 3, seed=0)
    >>> y, info = tt.tt_sketch(x.full(), 3, seed=1, return_info=True)
    >>> err = np.linalg.norm(y.full() - x.full()) / np.linalg.norm(x.full())
    >>> bool(err < 1e-10), info.passes
    (True, 1)
    """
    first = next(iter_terms(a, "tt_sketch"))
    shape, xp = _shape_and_backend(first)
    trains, others = [], []
    for term in iter_terms(a, "tt_sketch"):
        if tuple(term.shape) != shape:
            raise ShapeError(f"tt_sketch: the terms of a have shapes {shape} and "
                             f"{tuple(term.shape)}; a sum needs one shape")
        (trains if isinstance(term, TTTensor) else others).append(term)
    d = len(shape)
    if d < 2:
        raise ShapeError(f"tt_sketch: a must have at least 2 axes, got shape {shape}")
    r = _left_ranks(ranks, shape)
    ell = _right_ranks(r, oversample, shape)
    maps = SketchMaps(shape, r, ell, seed)
    for x in trains:
        backend_of(first, x)  # one framework for every term
    others, trains, scale = _at_unit_scale(others, trains, xp)
    sketches, nbytes = accumulate(others, maps, xp, "tt_sketch") if others else (None, 0)
    for x in trains:
        part = _sketch_train(x, maps, xp)
        sketches = part if sketches is None else [p + q for p, q in zip(sketches, part)]
        nbytes += sum(nbytes_of(c, xp) for c in x.cores)
    psi, z = [xp.asarray(p) for p in sketches[:-1]], np.asarray(xp.to_numpy(sketches[-1]))
    if not all(bool(xp.all(xp.isfinite(p))) for p in psi):
        raise ArgumentError("tt_sketch: a holds NaN or inf (the sketches are not finite)")
    cores = [_nystrom(psi[k], xp.asarray(maps.left[k], dtype=xp.dtype(psi[k])), xp)
             for k in range(d - 1)] + [psi[-1]]
    unit = TTTensor._from_cores(cores, xp)
    x = TTTensor._from_cores(times_scale(cores, scale, xp), xp) if scale else unit
    if backend is not None:
        x = x.to(backend=get(backend) if isinstance(backend, str) else backend)
    if not return_info:
        return x
    err, nrm = _estimate(unit, maps, z)
    info = SketchInfo(ranks=x.ranks, sketch_ranks=tuple(ell), error_estimate=err,
                      norm_estimate=nrm * scale if scale else nrm, bytes_read=nbytes,
                      probes=len(z))
    return x, info


def _at_unit_scale(arrays: list, trains: list, xp: Backend) -> tuple[list, list, Any]:
    """The terms divided by the largest magnitude of the in-memory arrays when that lies
    outside ``2^(±maxexp/3)`` (the sketches' products of data near the float limits over-
    or underflow), and the divisor (None: unchanged). Dask arrays are not read for it:
    one pass is the point of the sketch."""
    arrays = [t if is_dask(t) else as_float(t, xp, "tt_sketch") for t in arrays]
    dense = [t for t in arrays if not is_dask(t)]
    if not dense:
        return arrays, trains, None
    with np.errstate(invalid="ignore"):  # NaN data: refused by the sketches' check
        peak = max(float(xp.item(xp.max(xp.abs(t)))) for t in dense)
    _, scale = divided_by_peak(dense[0], peak, xp)
    if scale is None:
        return arrays, trains, None
    # divided, not times 1/scale: the inverse of subnormal data's peak is inf
    arrays = [t if is_dask(t) else t / scale for t in arrays]
    with np.errstate(over="ignore", under="ignore"):  # a train beside such data: its part
        trains = [TTTensor._from_cores([t.cores[0] / scale] + list(t.cores[1:]), xp)
                  for t in trains]
    return arrays, trains, scale


def _shape_and_backend(a: Any) -> tuple[tuple[int, ...], Backend]:
    if isinstance(a, TTTensor):
        return tuple(a.shape), a.backend
    if is_dask(a):
        if any(n != n for n in a.shape):  # NaN
            raise ShapeError(f"tt_sketch: the dask array has unknown chunk sizes (shape "
                             f"{a.shape}); call a.compute_chunk_sizes() first")
        shape = tuple(int(n) for n in a.shape)
        check_nonempty(shape, "tt_sketch")
        return shape, get("numpy")
    try:
        xp = backend_of(a)
        ok = xp.is_array(a)
    except Exception:  # noqa: BLE001 - not an array of any backend
        ok = False
    if not ok:
        raise ArgumentError(f"tt_sketch: a must be an array, a dask array, a TTTensor or a "
                            f"list of them, got {type(a).__name__}")
    check_nonempty(tuple(xp.shape(a)), "tt_sketch")
    return tuple(xp.shape(a)), xp


def _left_ranks(ranks: Any, shape: tuple) -> list[int]:
    d = len(shape)
    ranks = plain(ranks)
    if isinstance(ranks, numbers.Integral) and not isinstance(ranks, bool):
        values = [int(ranks)] * (d - 1)
    elif isinstance(ranks, Sequence) and not isinstance(ranks, str):
        values = [int(v) if isinstance(v, numbers.Integral) and not isinstance(v, bool) else -1
                  for v in ranks]
        if len(values) == d + 1 and values[0] == values[-1] == 1:
            values = values[1:-1]
    else:
        raise ArgumentError(f"tt_sketch: ranks must be an int or a sequence of ints, "
                            f"got {ranks!r}")
    if len(values) != d - 1 or any(v < 1 for v in values):
        raise ArgumentError(f"tt_sketch: ranks must be integers >= 1, one per bond ({d - 1}), "
                            f"got {ranks!r}")
    r = [1]
    for k in range(1, d):  # r_k <= r_{k-1} n_k and <= the size of the right side
        r.append(min(values[k - 1], r[-1] * shape[k - 1], math.prod(shape[k:])))
    return r + [1]


def _right_ranks(r: list, oversample: Any, shape: tuple) -> list[int]:
    d = len(shape)
    if oversample is None:
        extra = [max(2, r[k]) for k in range(d + 1)]
    elif isinstance(oversample, numbers.Integral) and not isinstance(oversample, bool) \
            and oversample >= 0:
        extra = [int(oversample)] * (d + 1)
    else:
        raise ArgumentError(f"tt_sketch: oversample must be an integer >= 0, got {oversample!r}")
    ell = [0] * (d + 1)
    ell[d] = 1
    for k in range(d - 1, 0, -1):  # l_k <= n_{k+1} l_{k+1}, the rank of Y_k
        ell[k] = min(r[k] + extra[k], shape[k] * ell[k + 1])
    ell[0] = 1
    return ell


def _nystrom(psi: Any, left: Any, xp: Backend) -> Any:
    """``Psi_k Omega_k^+`` with ``Omega_k = L_k^T Psi_k``; tiny singular values are cut."""
    a, n, ell = xp.shape(psi)
    r = xp.shape(left)[2]
    omega = xp.transpose(xp.reshape(left, (a * n, r))) @ xp.reshape(psi, (a * n, ell))
    u, s, vh = xp.svd(omega)
    sh = xp.to_numpy(s)
    keep = int((sh > max(r, ell) * float(np.finfo(sh.dtype).eps) * (sh[0] if sh.size else 0))
               .sum()) if sh.size else 0
    keep = max(keep, 1)
    # Omega^+ = V S^-1 U^H on the numerically nonzero singular values
    scaled = u[:, :keep] / xp.astype(s[:keep], xp.dtype(u))[None, :]
    inv = xp.conj(xp.transpose(vh[:keep])) @ xp.conj(xp.transpose(scaled))
    core = xp.reshape(psi, (a * n, ell)) @ inv
    return xp.reshape(core, (a, n, r))


def _estimate(x: TTTensor, maps: SketchMaps, z: np.ndarray) -> tuple[float, float]:
    """Relative error and norm estimates from the probes ``z_j = <A, g_j1 ⊗ ... ⊗ g_jd>``."""
    xh = x.to(backend="numpy")
    v = np.ones((len(z), 1))
    for g, c in zip(maps.probes, xh.cores):
        v = np.einsum("ja,jab->jb", v, np.einsum("ji,aib->jab", g, c))
    xz = v[:, 0]
    nrm = math.sqrt(float(np.mean(np.abs(z) ** 2)))
    err = math.sqrt(float(np.mean(np.abs(z - xz) ** 2)))
    return (err / nrm if nrm > 0 else err), nrm


def _sketch_train(x: TTTensor, maps: SketchMaps, xp: Backend) -> list:
    """``[Psi_1 .. Psi_d, probe values]`` of a train, from its cores: the left maps meet
    the cores before mode k in interfaces ``(r_k, s_k)``, the right maps those after it
    in ``(l_{k+1}, s_{k+1})``, and ``Psi_k`` is core k between them -- ``O(d n s r l)``
    for cores of rank ``s``, never the dense tensor."""
    cores = list(x.cores)
    d = len(cores)

    def conv(m: np.ndarray, like: Any) -> Any:
        return xp.asarray(m, dtype=xp.dtype(like), device=xp.device(like))

    one = xp.ones((1, 1), dtype=xp.dtype(cores[0]), device=xp.device(cores[0]))
    # the solvers' two-index interfaces <map | core> (the maps are real: no conjugate)
    left = [one]
    for k in range(d - 1):
        left.append(env.left2(xp, left[k], conv(maps.left[k], cores[k]), cores[k]))
    right = [one] * (d + 1)
    for k in range(d - 1, 0, -1):
        right[k] = env.right2(xp, right[k + 1], conv(maps.right[k], cores[k]), cores[k])
    out = [env.project2(xp, left[k], cores[k], right[k + 1]) for k in range(d)]
    v = None
    for g, c in zip(maps.probes, cores):
        t = xp.einsum("ji,aib->jab", conv(g, c), c)
        v = t[:, 0, :] if v is None else xp.einsum("ja,jab->jb", v, t)
    out.append(v[:, 0])
    return out
