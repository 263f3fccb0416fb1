"""Power-of-two balancing of cores whose magnitudes would overflow a contraction.

A train can hold representable values while single cores do not multiply safely:
cores of 1e300, 1e300, 1e-300, 1e-300 have entries of 1, but any product of the
first two overflows. Contractions that return values (sums, entries, the dense
tensor) first read the cores' peaks -- one transfer -- and, when a running
product of them could leave the dtype's range (with a margin for the ranks'
sums), divide every core by the power of two nearest its peak (exact in binary
floating point) and multiply the result back at the end. Traced cores (``jit``)
are used as they are.
"""

from __future__ import annotations

import cmath
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .._info import user_stacklevel
from .._validation import maxexp as _maxexp
from .._validation import times_pow2
from ..backends import to_numpy
from ..errors import NonFiniteError, PrecisionWarning

__all__ = ["balanced", "balanced_finite", "chain_host", "not_finite", "times_pow2", "times_scale"]


def balanced(cores: list, xp: Any, always: bool = False, flag: Any = None,
             limit: int | None = None) -> tuple[list, int | None]:
    """`cores` divided by powers of two if needed (or `always`), and the base-2 exponent
    to multiply back.

    Needed means a running product of the cores' peaks beyond ``2^limit`` (default
    ``0.85 maxexp``: about to overflow; solvers, whose squares must stay in range, pass
    ``maxexp // 3``). `flag`, a 0-d boolean array, is read along with the peaks (one
    synchronization on a device); when it is set the exponent returned is None and
    nothing is scaled.
    """
    if xp.is_traced(cores[0]):
        return cores, 0
    # 870 for float64, 108 for float32
    safe = int(0.85 * _maxexp(cores[0], xp)) if limit is None else limit
    exps, flagged = peak_exponents(cores, xp, flag)
    if flagged:
        return cores, None
    if not always and np.max(np.abs(np.cumsum(exps))) <= safe:
        return cores, 0
    return [times_pow2(c, -int(e), xp) for c, e in zip(cores, exps)], int(np.sum(exps))


def balanced_finite(cores: list, xp: Any, where: str) -> tuple[list, int]:
    """:func:`balanced` with ``always=True`` for reads of a train that mean nothing for
    NaN or inf entries (sampling, searches, spectra): a core holding one is an
    ArgumentError naming `where`, found in the same read as the peaks. Traced cores are
    returned as they are."""
    if xp.is_traced(cores[0]):
        return cores, 0
    bad = ~xp.all(xp.stack([xp.all(xp.isfinite(c)) for c in cores]))
    out, exponent = balanced(cores, xp, always=True, flag=bad)
    if exponent is None:
        from ..errors import ArgumentError

        raise ArgumentError(f"{where}: x holds NaN or inf in its cores; it needs finite "
                            "cores")
    return out, exponent


def peak_exponents(arrays: list, xp: Any, flag: Any = None) -> tuple[np.ndarray, bool]:
    """The base-2 exponents nearest the arrays' largest magnitudes (0 for a zero or
    non-finite array: NaN/inf stay as they are), in one read; `flag`, a 0-d boolean array,
    read along with them, and whether it is set. On NumPy the arrays are reduced directly,
    without the wrappers' per-call cost."""
    if xp.free_reads and flag is None:
        peaks = np.array([np.abs(a).max() for a in arrays], dtype=float)
    else:
        values = [xp.astype(xp.max(xp.abs(a)), xp.real_dtype(arrays[0])) for a in arrays]
        if flag is not None:
            values.append(xp.astype(flag, xp.real_dtype(arrays[0])))
        peaks = np.asarray(to_numpy(xp.stack(values)), dtype=float)
    flagged = flag is not None and bool(peaks[-1])
    if flag is not None:
        peaks = peaks[:-1]
    usable = np.isfinite(peaks) & (peaks > 0)
    return np.round(np.log2(np.where(usable, peaks, 1.0))).astype(int), flagged


#: how far (in powers of two) two summed trains' running scales may part from an even
#: course before they are spread: a block 2^4 below the other has its squares 2^8 below
_PARTED = 4


def matched(xcores: list, ycores: list, xp: Any) -> tuple[list, list]:
    """Two trains about to be stacked block-diagonally (a sum), each rebalanced by powers
    of two (exact) so that its scale is spread evenly over its cores -- where they would
    otherwise meet at different scales on the way.

    The blocks of a sum share every product of a sweep. When the running products of the
    two trains' peaks part on the way by more than their final ratio does (``x`` with its
    norm on the last core plus ``y`` with it on the first), the smaller block's squares
    sit far below the larger one's: Gram-based steps lose its digits (a retraction at a
    point of norm 1e50 came out 3% wrong), and beyond ``2^(maxexp/2)`` they underflow
    (norms and rounding of ``x * 1e200 - y`` lost ``y``). Beyond ``2^_PARTED`` the trains
    are spread. One read of the cores' peaks (none under tracing).
    """
    out = matched_all([xcores, ycores], xp)
    return out[0], out[1]


def matched_all(trains: list, xp: Any) -> list:
    """:func:`matched` for any number of trains (lists of cores of one length), in one
    read: each is spread when any two part on the way by more than ``2^_PARTED``."""
    if len(trains) < 2 or len(trains[0]) < 2 or any(xp.is_traced(c[0]) for c in trains):
        return trains
    d = len(trains[0])
    exps, _ = peak_exponents([c for cores in trains for c in cores], xp)
    exps = exps.reshape(len(trains), d)
    # each train's running log2 scale less its even course; two part by their difference
    course = np.cumsum(exps, axis=1) - exps.sum(axis=1, keepdims=True) * np.arange(1, d + 1) / d
    if np.max(course.max(axis=0) - course.min(axis=0)) <= _PARTED:
        return trains
    out = []
    for cores, es in zip(trains, exps):  # one exact multiplication per core
        share, extra = divmod(int(np.sum(es)), d)  # each core's even part of the scale
        out.append([times_pow2(c, share + (k < extra) - int(e), xp)
                    for k, (c, e) in enumerate(zip(cores, es))])
    return out


def norm_at_unit_scale(parts: list, norm_of: Callable[[list], Any], xp: Any) -> Any:
    """``norm_of(parts)`` for a format each of whose `parts` enters every entry once
    (CP weights and factors, a Tucker core and factors, HT node arrays), computed on the
    parts divided by powers of two nearest their peaks and multiplied back: formats of
    1e-200 or 1e200, whose squares leave the range, keep their norm. One read."""
    unit, exponent = balanced(parts, xp, always=True)
    return times_pow2(norm_of(unit), exponent, xp)


def dot_at_unit_scale(x_parts: list, y_parts: list, dot_of: Callable[[list, list], Any],
                      xp: Any, where: str, plain: Callable[[], Any]) -> Any:
    """``dot_of(x_parts, y_parts)`` for formats each of whose parts enters every term once
    (CP weights and factors, a Tucker core and factors, HT node arrays), computed on the
    parts divided by powers of two nearest their peaks and multiplied back (one read): a
    product of 1e200 and 1e-200 tensors is exact, one beyond the range is inf (or 0) with
    a :class:`~tnlib.PrecisionWarning` -- not NaN from ``inf - inf`` of the terms. Where
    reads are free, `plain` (the same dot on the parts as they are) is tried first and
    kept when its value is well inside the range."""
    k = len(x_parts)
    if xp.free_reads and not xp.is_traced(x_parts[0]):  # reads are free: try as they are
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            v = plain()
        if 2.0 ** -960 < abs(complex(v)) < math.inf:
            return v
    # divided only where a running product of the peaks could leave the range
    unit, exponent = balanced(list(x_parts) + list(y_parts), xp)
    v = dot_of(unit[:k], unit[k:])
    with np.errstate(over="ignore", under="ignore"):
        out = times_pow2(v, exponent, xp)
    warn_out_of_range(out, xp, where, "scale one of the tensors first", v)
    return out


def warn_out_of_range(out: Any, xp: Any, where: str, hint: str, unit: Any = None) -> None:
    """A :class:`PrecisionWarning` when an eager NumPy result overflowed its dtype, or
    (given its nonzero `unit` part) underflowed to zero. A non-finite `unit` part came from
    non-finite input, not from the range: no warning."""
    if not xp.free_reads:
        return
    value = abs(complex(out))
    if unit is not None and not cmath.isfinite(complex(unit)):
        return
    if not math.isfinite(value):
        warnings.warn(f"{where}: the value exceeds the range of {xp.dtype_name(out)}; {hint}",
                      PrecisionWarning, stacklevel=user_stacklevel())
    elif value == 0 and unit is not None and complex(unit) != 0:
        warnings.warn(f"{where}: the value is nonzero but below the range of "
                      f"{xp.dtype_name(out)}, so it reads 0; {hint}", PrecisionWarning,
                      stacklevel=user_stacklevel())


def spread_pow2(cores: list, exponent: int, xp: Any) -> list:
    """The train times ``2^exponent``, spread evenly over its cores (exact; no single core
    takes a factor that could overflow it)."""
    d = len(cores)
    share, extra = divmod(int(exponent), d)
    return [times_pow2(c, share + (1 if k < extra else 0), xp) for k, c in enumerate(cores)]


def spread_or_warn(cores: list, exponent: int, xp: Any, where: str, what: str) -> list:
    """:func:`spread_pow2`, and where ``2^exponent`` is past the dtype's range whatever the
    cores, a :class:`PrecisionWarning` that `what` (the entries of the result computed by
    `where`) come out as inf or 0, as a dense computation past the range would give."""
    if not exponent:
        return cores
    if abs(exponent) > len(cores) * (_maxexp(cores[0], xp) - 2):
        warnings.warn(PrecisionWarning(
            f"{where}: {what} lie beyond the range of {xp.dtype_name(cores[0])} "
            f"(2^{exponent} times unit-size cores); they come out as inf or 0"),
            stacklevel=user_stacklevel())
    with np.errstate(over="ignore", under="ignore"):
        return spread_pow2(cores, exponent, xp)


def times_scale(cores: list, scale: float | None, xp: Any) -> list:
    """The train times `scale` (what :func:`~tnlib._validation.unit_scale` took out of its
    data): on the last core where that stays in range, else as powers of two spread over
    all cores (the mantissa on the last). The last core of a TT-SVD carries the norm, up
    to the square root of the data's size times its largest entry: near the top of the
    range (float16's 65504) one core cannot hold it, the train can. One read, only for
    scaled data; traced cores take the plain product."""
    if scale is None:
        return cores
    last = cores[-1]
    if xp.is_traced(last):
        return cores[:-1] + [last * scale]
    peak = float(xp.item(xp.max(xp.abs(last))))
    if peak * scale < 2.0 ** int(0.85 * _maxexp(last, xp)):
        return cores[:-1] + [last * scale]
    mantissa, exponent = math.frexp(scale)
    return spread_pow2(cores[:-1] + [last * mantissa], exponent, xp)


def chain_host(mats: list) -> tuple[np.ndarray, int] | None:
    """The product of NumPy matrices ``mats[0] @ mats[1] @ ...`` (the first with one row),
    as ``(v, exponent)`` with the value ``v 2^exponent``: the small running row is kept
    near 1 by exact powers of two, so no peak of the cores needs reading. None when one
    product left the range on its own (an inf, or a row that fell to subnormal numbers or
    zero): the caller then balances the cores instead."""
    v, exponent = mats[0], 0
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for m in mats[1:]:
            v = v @ m
            peak = float(abs(v).max()) if v.size else 0.0
            if not 2.0**-900 < peak < math.inf:
                return None
            k = math.frexp(peak)[1]
            if abs(k) > 300:
                v = v * math.ldexp(1.0, -k)
                exponent += k
    return v, exponent


def not_finite(where: str, place: str, sweep: int) -> NonFiniteError:
    """The error of a solver whose local problem (`place`, e.g. ``"system of core 3"``)
    left the float range in `sweep` although its input is finite and balanced: raise it
    from the Krylov method's error."""
    return NonFiniteError(f"{where}: the local {place} gave non-finite values in sweep "
                          f"{sweep} from finite input: the operator's products overflow the "
                          "float range; scale the operator")

