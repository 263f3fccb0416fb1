"""The discrete Fourier transform of a vector in QTT format, without forming the vector.

For ``N = n^d`` and digits ``j = Σ_p j_p n^p`` (mode ``d-1-p`` of the train holds
``j_p``), ``ω^{jk} = Π_{p+q<d} exp(∓2πi j_p k_q n^{p+q-d})``. Cooley and Tukey's
factorization eliminates the input digits from the most significant one down: step ``s``
applies the ``n``-point DFT to mode ``s`` (its digit ``j_{d-1-s}`` becomes the output
digit ``k_s``) and multiplies by the twiddle factors that couple ``k_s`` to the digits not
yet transformed -- a diagonal of TT-rank ``n``, since for each value of ``k_s`` it is a
product of one factor per mode. After every step the train is rounded. The output digits
come out least significant first: reversing the cores (and their bonds) is the
bit-reversal permutation, free (Dolgov, Khoromskij and Savostyanov, "Superfast Fourier
transform using QTT approximation", 2012). Cost ``O(d² n³ r³)`` for ranks ``r``, against
``O(N log N)`` for the dense FFT.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._validation import (
    DefaultTol,
    as_sequence,
    check_count,
    check_eps,
    check_finite_cores,
    check_max_rank,
    check_option,
    check_positive_int,
    honour_eps,
    plain,
)
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from .round import qr_left
from .round import round as tt_round
from .tensor import TTTensor

__all__ = ["qtt_fft"]

_NORMS = ("backward", "ortho", "forward")


@host_eager
def qtt_fft(x: TTTensor, eps: float = DefaultTol(1e-12), max_rank: Any = None,
            inverse: bool = False, norm: str = "backward", dims: int = 1,
            axes: Any = None) -> TTTensor:
    """The DFT of the vector of length ``n^d`` whose QTT is `x`, as a QTT of the same layout.

    ``y[k] = Σ_j v[j] exp(-2πi jk / N)`` (``+`` with `inverse`), scaled as
    :func:`numpy.fft.fft` / :func:`numpy.fft.ifft` are by `norm`, with `v` and `y` in the
    order of :func:`quantize` (most significant digit first): ``dequantize(qtt_fft(x))``
    is ``np.fft.fft(dequantize(x))`` to accuracy `eps`. Signals with few scales -- sums of
    exponentials and oscillations, Gaussians, chirps -- and their spectra have low QTT
    ranks, and a transform of ``2^40`` points takes well under a second.

    With ``dims > 1``, `x` is the QTT of a ``dims``-dimensional grid, ``d`` modes per
    dimension (its digits, most significant first; the dimensions in NumPy's order, as
    ``tt.reshape(tt.tt_svd(a), (n,) * (dims * d))`` lays them out), and the transform is
    ``np.fft.fftn``'s over `axes` (default: all). Each dimension is transformed in place
    and its digits, which come out least significant first, are put back in order by
    :func:`permute` (free for a whole train, ``d(d-1)/2`` swaps of neighbours for one
    dimension among others).

    Parameters
    ----------
    x : TTTensor
        A QTT: every mode of the same size ``n >= 2`` (2 for binary digits).
    eps : float, optional
        Relative accuracy: each of the roundings (one per transformed digit, and the
        reordering of the digits for ``dims > 1``) discards an equal share.
    max_rank : int or sequence of d - 1 ints, optional
        Bound on the ranks after every step (with it, the error is not bounded by `eps`);
        one int per bond (in the output's order) for ``dims=1``, one int otherwise.
        Under ``jax.jit`` / ``tf.function``, pass it with ``eps=0`` (``dims=1`` only: the
        reordering reads singular values).
    inverse : bool, optional
        The inverse transform (``exp(+2πi jk / N)``, and ``1/N`` with ``norm="backward"``).
    norm : {"backward", "ortho", "forward"}, optional
        As NumPy's: which direction is scaled by ``1/N``, or both by ``1/√N`` (``N``: the
        product of the transformed dimensions' sizes).
    dims : int, optional
        The number of dimensions of the grid; ``x.ndim`` must be a multiple of it.
    axes : int or sequence of int, optional
        The dimensions transformed (default: all), as ``np.fft.fftn``'s `axes`.

    Returns
    -------
    TTTensor
        Complex (complex64 for float32 or complex64 input), on `x`'s backend.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> t = np.arange(2**20) / 2**20
    >>> v = np.exp(-((t - 0.5) / 0.05) ** 2) * np.cos(2 * np.pi * 300 * t)
    >>> y = tt.qtt_fft(tt.quantize(v, eps=1e-12), eps=1e-10)
    >>> err = np.linalg.norm(tt.dequantize(y) - np.fft.fft(v)) / np.linalg.norm(np.fft.fft(v))
    >>> bool(err < 1e-9), max(y.ranks) <= 12
    (True, True)
    >>> s = np.arange(2**8) / 2**8                               # a 256 x 256 grid
    >>> a = np.exp(-((s[:, None] - 0.5) ** 2 + (s[None, :] - 0.3) ** 2) / 0.01)
    >>> q = tt.reshape(tt.tt_svd(a, eps=1e-13), (2,) * 16, eps=1e-13)
    >>> f = tt.qtt_fft(q, eps=1e-10, dims=2)                     # np.fft.fft2's
    >>> ref = np.fft.fft2(a)
    >>> bool(np.linalg.norm(f.full().reshape(256, 256) - ref) < 1e-9 * np.linalg.norm(ref))
    True
    """
    where = "qtt_fft"
    if not isinstance(x, TTTensor):
        raise ArgumentError(f"{where}: x must be a TTTensor (a QTT), got {type(x).__name__}")
    n = x.shape[0]
    if n < 2 or any(m != n for m in x.shape):
        raise ShapeError(f"{where}: x must have every mode of one size n >= 2 (the digits of "
                         f"an index in base n), got shape {x.shape}")
    if not isinstance(inverse, (bool, np.bool_)):
        raise ArgumentError(f"{where}: inverse must be a bool, got {inverse!r}")
    check_option(norm, _NORMS, where, "norm")
    blocks = check_blocks(x.ndim, dims, axes, where)
    whole = blocks == [(0, x.ndim)]
    if max_rank is not None and x.ndim > 1:
        if whole:  # the working modes: k_0 first
            max_rank = check_max_rank(max_rank, x.ndim - 1, where)[::-1]
        else:
            max_rank = check_positive_int(max_rank, where, "max_rank (an int for dims > 1)")
    check_finite_cores(x, where, "x")
    xp = x.backend
    if not whole and xp.is_traced(x.cores[0]):
        raise ArgumentError(f"{where}: with dims > 1 (or axes) the digits are reordered by "
                            "truncated SVDs whose ranks are read on the host; call it "
                            "outside jax.jit / tf.function")
    cplx = "complex64" if xp.dtype_name(x.cores[0]) in ("float16", "float32",
                                                         "complex64") else "complex128"
    y = x.to(dtype=cplx)
    eps = honour_eps(check_eps(eps, where, ranks="max_rank"), xp, y.cores[0], where)
    steps = sum(hi - lo for lo, hi in blocks) + (0 if whole else 1)
    step_eps = DefaultTol(eps / steps) if eps > 0 else 0.0
    sign = 1.0 if inverse else -1.0
    digits = np.arange(n)
    scale = {"backward": 1.0 / n if inverse else 1.0, "ortho": n ** -0.5,
             "forward": 1.0 if inverse else 1.0 / n}[norm]  # per digit
    butterfly = scale * np.exp(sign * 2j * np.pi * np.outer(digits, digits) / n)
    cores = list(y.cores)
    for k in range(blocks[0][0]):  # the modes before the first transformed: left-orthonormal
        qr_left(cores, k, xp)
    for lo, hi in blocks:
        for s in range(lo, hi):
            cores[s] = _on(xp, butterfly, cores[s], "anb,nk->akb")
            if s < hi - 1:
                twiddled = _twiddled(xp, cores[s:hi], sign, n) + cores[hi:]
                bound = max_rank if whole or max_rank is None else [max_rank] * (
                    len(cores) - 1 - s)
                cores[s:] = _rounded(xp, twiddled, step_eps, bound)
    if whole:  # output digit k_s sits in mode s: reversed, the modes are most significant first
        return TTTensor._from_cores([xp.transpose(c, (2, 1, 0)) for c in reversed(cores)], xp)
    order = list(range(x.ndim))
    for lo, hi in blocks:
        order[lo:hi] = order[lo:hi][::-1]
    from .permute import permute

    return permute(TTTensor._from_cores(cores, xp), order, eps=step_eps, max_rank=max_rank)


def check_blocks(d: int, dims: Any, axes: Any, where: str, name: str = "x"
                 ) -> list[tuple[int, int]]:
    """The index ranges of the modes of the transformed dimensions (of the train `name`)."""
    dims = check_positive_int(dims, where, "dims")
    if d % dims:
        raise ShapeError(f"{where}: {name} has {d} modes, not a multiple of dims={dims} (each "
                         "dimension has the same number of digits)")
    per = d // dims
    if axes is None:
        chosen = list(range(dims))
    else:
        items = ([axes] if isinstance(plain(axes), numbers.Integral)
                 else as_sequence(axes, where, "axes", "ints"))
        chosen = [check_count(a, where, "axes", -dims, dims - 1) % dims for a in items]
        if len(set(chosen)) != len(chosen) or not chosen:
            raise ArgumentError(f"{where}: axes must name distinct dimensions, got {axes!r}")
    return [(a * per, (a + 1) * per) for a in sorted(chosen)]


def _rounded(xp: Any, suffix: list, eps: float, max_rank: Any) -> list:
    """The modes not yet final rounded as a train of their own, the bond to the finished
    ones merged into the first mode. The finished cores are left-orthonormal (rounding
    leaves its cores so, up to one common scale), so relative truncations of the suffix
    are those of the whole train; and rounding leaves the suffix's first core
    left-orthonormal in turn, to join them."""
    r, n, rr = xp.shape(suffix[0])
    suffix[0] = xp.reshape(suffix[0], (1, r * n, rr))
    if isinstance(max_rank, (list, tuple)):
        max_rank = max_rank[-(len(suffix) - 1):]
    out = list(tt_round(TTTensor._from_cores(suffix, xp), eps=eps, max_rank=max_rank).cores)
    out[0] = xp.reshape(out[0], (r, n, xp.shape(out[0])[2]))
    return out


def _on(xp: Any, matrix: np.ndarray, core: Any, equation: str) -> Any:
    """`core` contracted with a host constant put on its device and dtype."""
    m = xp.astype(xp.asarray(matrix, device=xp.device(core)), xp.dtype(core))
    return xp.einsum(equation, core, m)


def _twiddled(xp: Any, cores: list, sign: float, n: int) -> list:
    """``cores[0]`` (just transformed, its digit ``k``) times the diagonal
    ``Π_{c>0} exp(sign 2πi k j_c n^{-c-1})``: a bond of size ``n`` carries ``k`` from the
    first core to every later one, which multiplies its slice ``j`` by the factor."""
    eye = np.eye(n)
    out = []
    r, _, rr = xp.shape(cores[0])
    out.append(xp.reshape(_on(xp, eye, cores[0], "akb,ku->akbu"), (r, n, rr * n)))
    digits = np.arange(n)
    for c in range(1, len(cores)):
        twiddle = np.exp(sign * 2j * np.pi * np.outer(digits, digits) * float(n) ** (-c - 1))
        r, _, rr = xp.shape(cores[c])
        m = xp.astype(xp.asarray(twiddle, device=xp.device(cores[c])), xp.dtype(cores[c]))
        if c < len(cores) - 1:
            e = xp.astype(xp.asarray(eye, device=xp.device(cores[c])), xp.dtype(cores[c]))
            core = xp.einsum("ajb,tj,tu->atjbu", cores[c], m, e)
            out.append(xp.reshape(core, (r * n, n, rr * n)))
        else:
            out.append(xp.reshape(xp.einsum("ajb,tj->atjb", cores[c], m), (r * n, n, rr)))
    return out
