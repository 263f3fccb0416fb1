"""One-pass streaming TT sketch (Kressner, Vandereycken, Voorhaar, SISC 2023).

Two families of random maps with TT structure are drawn once: left maps
``X_k = L_1 ... L_k`` (``prod n_{<=k} -> r_k``) and right maps
``Y_k = R_{k+1} ... R_d`` (``prod n_{>k} -> l_k``, with ``l_k > r_k``). The only
data-dependent quantities are the sketches

    Psi_k = (X_{k-1}^T ⊗ I_{n_k}) A^{<=k} Y_k        shape (r_{k-1}, n_k, l_k),

which are linear in ``A``: a block of ``A`` (or a term of a sum) contributes its
own part, so blocks, workers and terms just add up and the data is read once.
The two-sided sketch ``Omega_k = X_k^T A^{<=k} Y_k = L_k^T Psi_k`` follows from
``Psi_k`` without another look at the data, and the TT is

    A ≈ Psi_1 Omega_1^+ Psi_2 Omega_2^+ ... Psi_d

(a generalized Nyström approximation per bond). It is exact when every
unfolding ``A^{<=k}`` has rank ``<= r_k``. Beside the sketches, ``s`` held-out
probes ``<A, g_1 ⊗ ... ⊗ g_d>`` with Rademacher ``g`` are accumulated in the
same pass; ``E <E, g⊗...⊗g>^2 = ‖E‖_F^2`` gives the error estimate.

Everything here returns plain arrays; :func:`tnlib.tt.tt_sketch` wraps them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import opt_einsum

from .._validation import as_float, rng_of
from ..backends import get
from .blocks import is_dask, iter_terms, map_blocks_reduce

PROBES = 32


class SketchMaps:
    """The random maps and probes of one sketch (host NumPy, drawn from `seed`)."""

    def __init__(self, shape: tuple, r: list, ell: list, seed: Any, probes: int = PROBES):
        rng = rng_of(seed, "tt_sketch")
        d = len(shape)
        self.shape, self.r, self.ell = shape, r, ell
        self.left = [rng.standard_normal((r[k], shape[k], r[k + 1])) / math.sqrt(
            r[k] * shape[k]) for k in range(d - 1)]
        self.right = [None] + [rng.standard_normal((ell[k], shape[k], ell[k + 1])) / math.sqrt(
            ell[k + 1] * shape[k]) for k in range(1, d)]
        self.probes = [rng.choice([-1.0, 1.0], size=(probes, n)) for n in shape]


def sketch_block(block: Any, slices: tuple, maps: SketchMaps, xp: Any) -> list:
    """``[Psi_1 .. Psi_d, probe values]`` contributed by `block` = ``a[slices]``."""
    d = len(maps.shape)

    def conv(m: np.ndarray) -> Any:
        return xp.asarray(m, dtype=xp.dtype(block))

    left = [conv(c[:, s, :]) for c, s in zip(maps.left, slices)]
    right = [None] + [conv(c[:, s, :]) for c, s in zip(maps.right[1:], slices[1:])]
    out = []
    for k in range(d):
        part = _psi(block, left[:k], right[k + 1:], k, d, xp)
        sl = slices[k]
        if sl.stop - sl.start != maps.shape[k]:  # a block of a Dask array (host NumPy)
            full = np.zeros((maps.r[k], maps.shape[k], maps.ell[k + 1]), dtype=part.dtype)
            full[:, sl, :] = part
            part = full
        out.append(part)
    probes = [conv(g[:, s]) for g, s in zip(maps.probes, slices)]
    m = [opt_einsum.get_symbol(j) for j in range(d)]
    z = opt_einsum.get_symbol(d)
    expr = "".join(m) + "," + ",".join(z + c for c in m) + "->" + z
    out.append(opt_einsum.contract(expr, block, *probes))
    return out


def _psi(block: Any, left: list, right: list, k: int, d: int, xp: Any) -> Any:
    """``block`` contracted with the left maps of modes < k and the right maps of modes > k."""
    sym = opt_einsum.get_symbol
    m = [sym(j) for j in range(d)]
    bl = [sym(d + j) for j in range(d + 1)]           # left bonds
    br = [sym(2 * d + 1 + j) for j in range(d + 1)]   # right bonds
    terms = ["".join(m)]
    terms += [bl[j] + m[j] + bl[j + 1] for j in range(k)]
    terms += [br[j] + m[j] + br[j + 1] for j in range(k + 1, d)]
    out = (bl[k] if k > 0 else "") + m[k] + (br[k + 1] if k < d - 1 else "")
    res = opt_einsum.contract(",".join(terms) + "->" + out, block, *left, *right)
    return xp.reshape(res, (1,) * (k == 0) + tuple(xp.shape(res)) + (1,) * (k == d - 1))


def accumulate(a: Any, maps: SketchMaps, xp: Any, where: str) -> tuple[list, int]:
    """Sketches of `a` (dense array, Dask array, or a list of terms), and the bytes read.

    Dense terms are sketched on their backend `xp`; Dask blocks on host NumPy.
    """
    total, nbytes = None, 0
    full = tuple(slice(0, n) for n in maps.shape)
    host = get("numpy")
    for term in iter_terms(a, where):
        if is_dask(term):
            part, read = map_blocks_reduce(  # integer data as floats (the maps stay as they are)
                term, lambda blk, sl: sketch_block(as_float(np.asarray(blk), host, where), sl,
                                                   maps, host), _add, where)
        else:
            part = sketch_block(as_float(term, xp, where), full, maps, xp)
            read = nbytes_of(term, xp)
        total = part if total is None else _add(total, part)
        nbytes += read
    return total, nbytes


def _add(u: list, v: list) -> list:
    return [p + q for p, q in zip(u, v)]


def nbytes_of(a: Any, xp: Any) -> int:
    return int(np.prod(xp.shape(a))) * int(np.dtype(xp.dtype_name(a)).itemsize)
