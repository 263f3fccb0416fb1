"""The largest entries of a train by beam search over its orthogonal form.

With cores ``k+1 … d-1`` right-orthonormal, the norm of a prefix's row vector times
core ``k`` is the Frobenius norm of the sub-tensor that fixes ``i_1 … i_k``: an upper
bound on the modulus of every entry below it. A beam search keeps the `beam` prefixes of
largest such norms, mode by mode; at the last mode the norms are the entries' moduli
(Chertkov, Ryzhakov, Novikov and Oseledets, "Optimization of functions given in the
tensor train format", 2022). The search runs once from each end. It is exhaustive, and
so exact, when the beam holds every prefix (``beam >= Π n_k`` of all modes but one
end's), and for rank-1 trains with any beam; otherwise it is a heuristic whose answers
are entries of the train, never estimates.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .._info import grouped
from .._validation import check_count
from ..backends._host import host_eager
from ..errors import ArgumentError
from ._env import right_orthogonalize_scaled
from ._scale import balanced_finite
from .tensor import TTTensor

__all__ = ["Extrema", "extrema", "max_abs"]


class Extrema(NamedTuple):
    """The smallest and largest entries found: ``x[argmin] = min``, ``x[argmax] = max``.
    Indices are int ``(d,)`` arrays and values 0-d arrays, on the train's backend."""

    argmin: Any
    min: Any
    argmax: Any
    max: Any


def _check(x: Any, beam: Any, where: str) -> int:
    if not isinstance(x, TTTensor):
        raise ArgumentError(f"{where}: x must be a TTTensor, got {type(x).__name__}")
    return check_count(beam, where, "beam", low=1)


@host_eager
def max_abs(x: TTTensor, beam: int = 100) -> tuple[Any, Any]:
    """The entry of largest modulus found by a beam search: ``(idx, x[idx])``.

    Parameters
    ----------
    x : TTTensor
    beam : int, optional
        Prefixes kept per mode. The search is exact when `beam` is at least the number of
        prefixes (the product of all mode sizes but the first's, or but the last's) and
        for rank-1 trains; otherwise larger beams find larger entries more often, at cost
        ``O(beam Σ_k n_k r_k r_{k+1})`` per direction.

    Returns
    -------
    idx : int array of shape ``(x.ndim,)``
    value : 0-d array, the entry ``x[idx]`` itself (evaluated, not estimated)

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> x = tt.random((4, 5, 6), 3, seed=0)
    >>> idx, value = tt.max_abs(x)
    >>> a = x.full()
    >>> bool(abs(float(value)) == np.abs(a).max())             # 20 prefixes < beam: exact
    True
    """
    return _max_abs(x, _check(x, beam, "max_abs"), "max_abs")


def _max_abs(x: TTTensor, beam: int, where: str) -> tuple[Any, Any]:
    """:func:`max_abs` with checked arguments; errors name `where`."""
    xp = x.backend
    # at unit scale (any positive factor keeps the order); NaN or inf: an error
    cores = balanced_finite(list(x.cores), xp, where)[0]
    if x.ndim == 1:
        core = xp.reshape(x.cores[0], (-1,))
        idx = xp.reshape(xp.argmax(xp.abs(core)), (1,))
        return idx, xp.take(core, idx, axis=0)[0]
    candidates = [_search(list(cores), beam, xp),
                  xp.flip(_search(_reversed(cores, xp), beam, xp), axis=0)]
    values = x.evaluate(xp.stack(candidates))
    best = xp.argmax(xp.abs(values))
    return xp.take(xp.stack(candidates), best, axis=0), values[best]


@host_eager
def extrema(x: TTTensor, beam: int = 100) -> Extrema:
    """The smallest and largest entries of a real train found by beam search.

    The entry of largest modulus is one extreme (the maximum if it is positive); the
    other is the entry farthest from it, the largest modulus of ``x - x[idx]`` (a train of
    rank one more). Both searches are :func:`max_abs`'s, with its guarantees: exact for an
    exhaustive beam, else the best entries the search met.

    Parameters
    ----------
    x : TTTensor
        Real.
    beam : int, optional
        Prefixes kept per mode (see :func:`max_abs`).

    Returns
    -------
    Extrema
        ``(argmin, min, argmax, max)``.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> grid = np.linspace(-1.0, 1.0, 33)
    >>> f = np.cos(3 * grid + 0.5)[:, None, None] + grid[None, :, None] * (
    ...     grid[None, None, :] - 0.5)
    >>> e = tt.extrema(tt.tt_svd(f), beam=10)
    >>> e.argmin.tolist(), e.argmax.tolist()
    ([30, 32, 0], [13, 0, 0])
    >>> bool(np.isclose(e.min, f.min()) and np.isclose(e.max, f.max()))
    True
    """
    beam = _check(x, beam, "extrema")
    xp = x.backend
    if xp.is_complex(x.cores[0]):
        raise ArgumentError("extrema: x is complex and complex numbers have no order; "
                            "max_abs(x) finds the entry of largest modulus")
    i1, y1 = _max_abs(x, beam, "extrema")
    i2, _ = _max_abs(x - y1, beam, "extrema")
    y2 = x.evaluate(xp.reshape(i2, (1, -1)))[0]
    up = y2 >= y1  # chosen on the device: no read, and the same under jit
    return Extrema(xp.where(up, i1, i2), xp.where(up, y1, y2), xp.where(up, i2, i1),
                   xp.where(up, y2, y1))


def _reversed(cores: list, xp: Any) -> list:
    """The cores of the train with its modes in reverse order."""
    return [xp.transpose(c, (2, 1, 0)) for c in reversed(cores)]


def _search(cores: list, beam: int, xp: Any) -> Any:
    """One left-to-right beam search: the multi-index (an int (d,) array) of the largest
    final norm among the kept prefixes. Each mode records its survivors' parents and
    digits (arrays of fixed size: no shape grows mode by mode); the best prefix is traced
    back through them at the end."""
    cores, _ = right_orthogonalize_scaled(xp, cores)
    v = xp.ones((1, 1), dtype=xp.dtype(cores[0]), device=xp.device(cores[0]))
    steps = []
    for core in cores:
        v, parent, digit = _beam_step(xp, v, core, beam=beam)
        steps += [parent, digit]
    return _trace_back(xp, v, *steps)


@grouped
def _beam_step(xp: Any, v: Any, core: Any, beam: int) -> tuple[Any, Any, Any]:
    """The `beam` prefixes of largest norm among the kept rows `v` extended by each index
    of `core`: their rows (peak 1), the rows they extend and the indices they add."""
    r, n, rr = xp.shape(core)
    kept = xp.shape(v)[0]
    w = xp.reshape(v @ xp.reshape(core, (r, n * rr)), (kept * n, rr))
    a = xp.abs(w)
    a = a / xp.astype(xp.maximum(xp.max(a), xp.finfo_tiny(a)), xp.dtype(a))
    m = min(beam, kept * n)
    if m < kept * n:
        top = xp.argsort(-xp.sum(a * a, axis=1))[:m]
    else:
        top = xp.arange(m, device=xp.device(core))
    top = xp.astype(top, "int64")  # argsort's int32 (TensorFlow) with arange's int64
    v = xp.take(w, top, axis=0)
    v = v / xp.astype(xp.maximum(xp.max(xp.abs(v)), xp.finfo_tiny(v)), xp.dtype(v))
    return v, top // n, top % n


@grouped
def _trace_back(xp: Any, v: Any, *steps: Any) -> Any:
    """The multi-index of the largest of the final rows `v` (one entry each), followed back
    through the (parent, digit) pairs of `steps`."""
    at = xp.argmax(xp.abs(xp.reshape(v, (-1,))))
    out = []
    for k in range(len(steps) // 2 - 1, -1, -1):
        out.append(xp.take(steps[2 * k + 1], at, axis=0))
        at = xp.take(steps[2 * k], at, axis=0)
    return xp.stack(out[::-1])
