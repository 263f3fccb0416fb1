"""Argument checks shared by every format: one message style everywhere."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._info import read_floats, user_stacklevel
from .errors import ArgumentError, PrecisionWarning, ShapeError


class TensorFormat:
    """How every tensor format (TT, TT-matrix, CP, Tucker, HT) meets NumPy and the
    frameworks: not as an array. Arithmetic with arrays goes to the format's own operators
    (``__array_priority__``), ufuncs are not mapped over it as an object
    (``__array_ufunc__``), it does not iterate, and ``np.asarray(x)`` -- which would wrap
    it in a 0-d object array that ``np.linalg.norm``, ``np.allclose`` and the rest then
    fail on with messages about multiplication -- is an :class:`ArgumentError` pointing to
    ``x.full()``, which forms the dense array on purpose."""

    __slots__ = ()
    __array_priority__ = 1000  # NumPy defers `ndarray * x` to x.__rmul__
    __array_ufunc__ = None  # ... and never maps a ufunc over x as an object array
    __iter__ = None  # not a sequence (a TT's x[i] fixes a mode, it does not iterate)

    def _converter(self, backend: Any, dtype: Any, device: Any) -> tuple[Any, Any]:
        """The target backend of ``x.to(backend, dtype, device)`` and the conversion of one
        of x's arrays to it (a dtype or device the target lacks: an error here)."""
        from .backends import get

        target = self.backend if backend is None else get(backend)  # type: ignore[attr-defined]
        if dtype is not None and not isinstance(dtype, str):
            try:  # a dtype of x's framework, named for the target's
                dtype = self.backend.dtype_name(dtype)  # type: ignore[attr-defined]
            except (TypeError, KeyError, ValueError, AttributeError):
                pass  # NumPy's or the target's: placement resolves it, or names it
        dtype, device = target.placement(dtype, device, "to")
        return target, lambda a: target.asarray(a, dtype=dtype, device=device)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        shape = getattr(self, "shape", ())
        raise ArgumentError(f"{type(self).__name__}: converting it to an array (np.asarray, "
                            f"torch.as_tensor, ...) is not defined; x.full() forms its dense "
                            f"array of shape {tuple(shape)} ({math.prod(shape):,} entries), "
                            "on its backend (tnlib.to_numpy(x.full()) for NumPy)")


class EntryIndexed:
    """``x[i, j, k]``: one entry of a format by its integer multi-index (negative counts
    from the end), through ``x.evaluate`` -- for the formats (CP, Tucker, HT) whose only
    indexing is by entries; ``evaluate(idx)`` reads many at once."""

    __slots__ = ()

    def __getitem__(self, key: Any) -> Any:
        name, shape = type(self).__name__, self.shape  # type: ignore[attr-defined]
        if not isinstance(key, tuple) or len(key) != len(shape) or not all(
                isinstance(k, numbers.Integral) and not isinstance(k, bool) for k in key):
            raise ShapeError(f"{name} index: give {len(shape)} integers (one entry), got "
                             f"{key!r}; use evaluate(idx) for many")
        for mode, (k, n) in enumerate(zip(key, shape)):
            if not -n <= k < n:
                raise ShapeError(f"{name} index: index {k} is out of range for mode {mode} of "
                                 f"size {n}")
        key = tuple(int(k) % n for k, n in zip(key, shape))
        return self.evaluate(np.asarray([key], dtype=np.int64))[0]  # type: ignore[attr-defined]


class DefaultTol(float):
    """A tolerance's default value, meaning "as fine as the data resolve".

    It is the float it prints as (signatures read ``eps: float = 1e-14``), but
    :func:`honour_eps` raises it to the dtype's resolution without a
    :class:`~tnlib.errors.PrecisionWarning`: float32 data given to ``tt_svd`` with the
    default ``eps`` is not a request the dtype cannot honour. A value the caller passes,
    even the same number, is one, and is warned about.
    """

    __slots__ = ()


def plain(value: Any) -> Any:
    """A NumPy array given where a number or a sequence of numbers is expected, as Python's:
    a 0-d array as its scalar, a 1-d one as a list (ranks computed with NumPy, such as
    ``np.minimum(r, n)``, are accepted as a list of the same ints would be). Anything else
    is returned unchanged: a framework's tensor is not read, which would synchronize a
    device."""
    if isinstance(value, np.ndarray) and value.ndim <= 1:
        return value[()] if value.ndim == 0 else value.tolist()
    return value


def check_eps(eps: Any, where: str, name: str = "eps", ranks: str | None = None) -> float:
    """`eps` as a float >= 0 (a :class:`DefaultTol` kept as one), or an
    :class:`ArgumentError` naming it.

    Given `ranks`, the name of the function's rank bound, `eps` is a relative truncation
    accuracy and must be below 1: 1 or more would allow an error as large as the data
    (anything of rank 1 does), and ``hosvd(a, 3)``, read as ``eps=3``, meant ranks.
    """
    eps = plain(eps)
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not math.isfinite(eps) \
            or eps < 0:
        raise ArgumentError(f"{where}: {name} must be a finite real number >= 0, got {eps!r}")
    if ranks is not None and eps >= 1:
        raise ArgumentError(f"{where}: {name}={eps!r} is a relative accuracy and must be below "
                            f"1 (it would allow an error as large as the data); to set the "
                            f"ranks, pass {ranks}=")
    return eps if isinstance(eps, DefaultTol) else float(eps)


def honour_eps(eps: float, xp: Any, a: Any, where: str, name: str = "eps") -> float:
    """`eps`, raised to what the dtype of `a` resolves (4 machine epsilons), with a warning.

    A relative accuracy below the dtype's resolution cannot be met: truncations would keep
    rounding noise as rank (float32 TT-SVD to 1e-8 keeps full ranks) and iterations would not
    stop. Zero (no truncation) is kept.
    """
    floor = 4.0 * xp.finfo_eps(a)
    if 0.0 < eps < floor:
        if isinstance(eps, DefaultTol):  # the default: the dtype's resolution is what it means
            return floor
        warnings.warn(f"{where}: {name}={eps:g} is below the resolution of {xp.dtype_name(a)} "
                      f"data; using {name}={floor:.2g} (convert the data to float64 for more "
                      "accuracy)", PrecisionWarning, stacklevel=user_stacklevel())
        return floor
    return eps


#: the transformations under which arrays are traced (symbolic, without values)
TRACING = "jax.jit, jax.grad, tf.function"


def traced_read_error(where: str) -> ArgumentError:
    """The error for a value of a traced array read into Python inside `where`: the method
    decides something (a rank, a stopping test, a check) by it, which tracing cannot give."""
    return ArgumentError(f"{where}: needs values of its input in Python (to choose a rank, "
                         f"to stop iterating or to check the data), which traced arrays "
                         f"({TRACING}) do not have; call it outside the traced function, or "
                         "use its fixed-rank form (max_rank or ranks, with eps=0) where it "
                         "has one")


def traced_eps(eps: float, xp: Any, a: Any, where: str, bound: str) -> float:
    """`eps`, or 0 for traced data (``jax.jit``, ``tf.function``), which has no values to
    choose ranks by: a default `eps` then means no truncation by accuracy, one the caller
    set is an :class:`ArgumentError` that names `bound`, the rank bound to pass instead."""
    if not xp.is_traced(a):
        return eps
    if eps > 0 and not isinstance(eps, DefaultTol):
        raise ArgumentError(f"{where}: eps={eps:g} needs the data's values to choose ranks, "
                            f"which tracing ({TRACING}) does not give; pass {bound} (and "
                            "eps=0) under tracing")
    return 0.0


def check_count(value: Any, where: str, name: str, low: int = 0, high: int | None = None
                ) -> int:
    """`value` as an int in ``[low, high]`` (a bool or a float such as 1.5 is refused)."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low or (
            high is not None and value > high):
        span = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ArgumentError(f"{where}: {name} must be an integer {span}, got {value!r}")
    return int(value)


def check_positive_int(value: Any, where: str, name: str) -> int:
    """`value` as an int >= 1."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ArgumentError(f"{where}: {name} must be an integer >= 1, got {value!r}")
    return int(value)


def check_max_rank(max_rank: Any, n_bonds: int, where: str, name: str = "max_rank"
                   ) -> list[int] | None:
    """`max_rank` (None, an int, or one int per bond) as a list of `n_bonds` ints, or None."""
    if max_rank is None:
        return None
    max_rank = plain(max_rank)
    if isinstance(max_rank, numbers.Integral) and not isinstance(max_rank, bool):
        return [check_positive_int(max_rank, where, name)] * n_bonds
    if isinstance(max_rank, Sequence) and not isinstance(max_rank, str):
        values = list(max_rank)
        if len(values) == n_bonds + 2 and values[0] == values[-1] == 1:
            values = values[1:-1]  # a full rank tuple (1, r_1, ..., r_{d-1}, 1) is accepted
        if len(values) != n_bonds:
            raise ShapeError(
                f"{where}: {name} must be an int or have one entry per bond ({n_bonds}), "
                f"got {len(values)} entries: {max_rank!r}"
            )
        return [check_positive_int(v, where, name) for v in values]
    raise ArgumentError(f"{where}: {name} must be None, an int or a sequence of ints, "
                        f"got {max_rank!r}")


def check_shape(shape: Any, where: str, name: str = "shape") -> tuple[int, ...]:
    """A tensor shape: a non-empty tuple of ints >= 1 (an int means a 1-D shape)."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ShapeError(f"{where}: {name} must be a sequence of positive ints, "
                         f"got {shape!r}") from None
    if not dims or any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1
                       for n in dims):
        raise ShapeError(f"{where}: {name} must be a non-empty sequence of positive ints, "
                         f"got {shape!r}")
    return tuple(int(n) for n in dims)


def check_finite(a: Any, xp: Any, where: str, name: str = "a") -> None:
    """Refuse an array holding NaN or inf before a factorization sees it (one reduction).

    LAPACK fails on such input with a foreign ``LinAlgError`` (or loops); the
    message here names the argument and the first bad entry. Skipped while the
    call is traced by ``jax.jit`` / ``tf.function``, where values aren't known.
    """
    if xp.is_traced(a) or bool(xp.item(xp.all(xp.isfinite(a)))):
        return
    _refuse_non_finite(a, xp, where, name)


def _refuse_non_finite(a: Any, xp: Any, where: str, name: str) -> None:
    host = np.asarray(xp.to_numpy(a))
    bad = np.argwhere(~np.isfinite(host))[0]
    index = tuple(int(i) for i in bad)
    raise ArgumentError(f"{where}: {name} holds non-finite values ({host[index]} at index "
                        f"{index}); decompositions need finite data")


def finite_float(a: Any, xp: Any, where: str, name: str = "a") -> Any:
    """`a` ready for a factorization: integer or bool data as the backend's default float
    (as LAPACK would see it), any other non-float dtype refused, an empty axis refused,
    NaN/inf refused."""
    a = float_data(a, xp, where, name)
    check_finite(a, xp, where, name)
    return a


def float_data(a: Any, xp: Any, where: str, name: str = "a") -> Any:
    """:func:`finite_float` without the finiteness check (no read): for the decompositions
    whose :func:`unit_data` makes that check with the others in one read."""
    check_nonempty(tuple(xp.shape(a)), where, name)
    return as_float(a, xp, where, name)


def multiway_data(a: Any, xp: Any, where: str) -> Any:
    """`a` as a float array of `xp` with at least two axes (the data of a CP or Tucker
    fit), or the ShapeError naming it."""
    a = as_array(a, xp, where)
    shape = xp.shape(a)
    if len(shape) < 2:
        raise ShapeError(f"{where}: a must have at least 2 axes, got shape {shape}")
    return float_data(a, xp, where)


def check_nonempty(shape: tuple, where: str, name: str = "a") -> None:
    """A ShapeError naming `name` if `shape` has an axis of size 0 (nothing to factorize)."""
    if 0 in shape:
        raise ShapeError(f"{where}: {name} has an empty axis, shape {shape}")


#: the dtypes the formats hold. bfloat16 is not among them: NumPy has no such type, so
#: host reads, the promotions of mixed operations and torch's NumPy bridge all fail on it.
FLOAT_DTYPES = ("float16", "float32", "float64", "complex64", "complex128")
FLOAT_HINT = "float16, float32, float64, complex64 or complex128"


def check_float_dtype(kind: str, where: str, name: str) -> None:
    """An :class:`ArgumentError` unless the dtype name `kind` is a real or complex float.

    The formats hold floating-point numbers: integer cores would truncate every product
    and quotient the algorithms form, and NumPy's own checks fail deep inside.
    """
    if kind not in FLOAT_DTYPES:
        raise ArgumentError(f"{where}: {name} has dtype {kind}; expected real or complex "
                            f"floating-point numbers ({FLOAT_HINT})")


def as_float(a: Any, xp: Any, where: str, name: str = "a") -> Any:
    """`a` with a float or complex dtype: integer or bool data as the backend's default
    float, any other dtype an ArgumentError naming `name`."""
    kind = xp.dtype_name(a)
    if kind.startswith(("int", "uint")) or kind == "bool":
        return xp.astype(a, xp.resolve_dtype(None))
    if kind not in FLOAT_DTYPES:
        raise ArgumentError(f"{where}: {name} has dtype {kind}; expected real or complex "
                            f"numbers ({FLOAT_HINT}, or integers)")
    return a


def norm_in_range(nrm: float, a: Any, xp: Any) -> bool:
    """Whether `nrm`, a computed 2-norm of `a`, is exact to rounding and far from the limits.

    Backends form norms as square roots of sums of squares: past about ``sqrt(max)``
    they overflow, and below ``sqrt(tiny) / eps`` the squares of the entries that
    matter lose digits to subnormal numbers. Iterative methods use this to decide
    whether a vector (a right-hand side, a start vector) must first be scaled by a
    power of two (:func:`pow2_scaled`).
    """
    if 1e-12 <= nrm <= 1e12:  # inside the range of float32 and float64 (no dtype lookups)
        return True
    eps, tiny, big = xp.finfo_eps(a), xp.finfo_tiny(a), xp.finfo_max(a)
    return math.sqrt(tiny) / eps <= nrm <= math.sqrt(big) * eps


def pow2_scaled(a: Any, xp: Any) -> tuple[Any, int]:
    """`a` divided by the power of two nearest its largest magnitude, and that base-2
    exponent (multiply back with :func:`times_pow2`): exact in binary floating point.
    Zero, non-finite and traced arrays come back as they are, with exponent 0 (one read).
    """
    if xp.is_traced(a):
        return a, 0
    peak = float(xp.item(xp.max(xp.abs(a))))
    if not 0 < peak < math.inf:
        return a, 0
    exponent = math.frexp(peak)[1]
    return times_pow2(a, -exponent, xp), exponent


def times_pow2(a: Any, exponent: int, xp: Any) -> Any:
    """``a * 2**exponent``, in steps the dtype represents (exact unless the result itself
    leaves the range)."""
    if not exponent:
        return a
    limit = maxexp(a, xp) - 2
    while exponent:
        step = max(-limit, min(limit, exponent))
        if xp.free_reads:  # NumPy: a Python float keeps the array's dtype (NEP 50)
            a = a * math.ldexp(1.0, step)
        else:
            a = a * xp.astype(xp.asarray(float(np.ldexp(1.0, step)), device=xp.device(a)),
                              xp.dtype(a))
        exponent -= step
    return a


def maxexp(a: Any, xp: Any) -> int:
    """The base-2 exponent range of `a`'s dtype (1024 for float64, 128 for float32)."""
    return int(np.finfo(np.dtype(xp.dtype_name(a))).maxexp)


def safe_exponent(a: Any, xp: Any) -> int:
    """``maxexp // 3`` of `a`'s dtype (341 for float64, 42 for float32): data, cores and
    operators within ``2^(±safe_exponent)`` are used as they are; beyond, their squares
    (norms, Gram matrices) come near the float limits and they are worked at unit scale."""
    return maxexp(a, xp) // 3


def unit_scale(a: Any, xp: Any) -> tuple[Any, float | None]:
    """`a` divided by its largest magnitude when that is outside ``2^(±maxexp/3)`` (about
    [1e-102, 1e102] for float64, [2e-13, 4e12] for float32), and the divisor (None when `a`
    is left as it is, and always for traced arrays).

    Norms and Gram matrices of data near the float limits under- or overflow; a
    decomposition factors unit-size data and multiplies one factor back.
    """
    if xp.is_traced(a):
        return a, None
    return divided_by_peak(a, float(xp.item(xp.max(xp.abs(a)))), xp)


def divided_by_peak(a: Any, peak: float, xp: Any) -> tuple[Any, float | None]:
    """:func:`unit_scale` given the largest magnitude `peak` of `a`."""
    limit = 2.0 ** safe_exponent(a, xp)
    if peak > 0 and not 1.0 / limit < peak < limit:
        return a / peak, peak
    return a, None


def unit_data(a: Any, xp: Any, where: str, name: str = "a", norm: bool = True
              ) -> tuple[Any, float | None, float | None]:
    """What a decomposition needs of its float data `a` (:func:`float_data`) before it
    starts: NaN/inf refused (:func:`check_finite`), `a` at unit scale and the scale
    (:func:`unit_scale`), and the Frobenius norm of the scaled `a` (None if not `norm`).

    On an accelerator the three come back in one read (the finiteness flag, the largest
    magnitude and the norm of `a` stacked), where each read waits for the device; the norm
    is read again only for data that had to be scaled. Where reads are free, one by one
    (no extra reductions). Under tracing, no checks: ``(a, None, None)``.
    """
    if xp.is_traced(a):
        return a, None, None
    if not xp.reads_synchronize(a):
        check_finite(a, xp, where, name)
        a, scale = unit_scale(a, xp)
        return a, scale, float(xp.item(xp.norm(a))) if norm else None
    peak = xp.max(xp.abs(a))
    values = [xp.astype(xp.all(xp.isfinite(a)), xp.dtype(peak)), peak]
    with np.errstate(over="ignore", under="ignore"):  # data to scale: its norm is read again
        finite, top, *nrm = read_floats(xp, *values, *([xp.norm(a)] if norm else []))
    if not finite:
        _refuse_non_finite(a, xp, where, name)
    a, scale = divided_by_peak(a, top, xp)
    if not norm:
        return a, scale, None
    return a, scale, float(xp.item(xp.norm(a))) if scale is not None else nrm[0]


def scaled_back(part: Any, scale: float | None, xp: Any, where: str) -> Any:
    """`part` of a decomposition times the `scale` :func:`unit_scale` took out of the data.

    The part that carries the norm (a Tucker or HT core, CP weights) exceeds the data's
    largest entry by up to the square root of its size: data near the top of the dtype's
    range (float16's 65504, say) can give a norm beyond it. That is a
    :class:`~tnlib.errors.NonFiniteError` naming a wider dtype, not inf entries. One
    reduction, only for data that was scaled (never under tracing).
    """
    if scale is None:
        return part
    with np.errstate(over="ignore"):  # NumPy's overflow warning: the error below says more
        out = part * scale
    return within_range(out, xp, where, f"the result's norm-carrying part (the data's largest "
                                        f"entry is {scale:.3g})")


def within_range(out: Any, xp: Any, where: str, what: str) -> Any:
    """`out`, a result brought back to the caller's dtype (multiplied by a scale, or cast
    from the wider dtype it was computed in), checked to have stayed finite: inf entries are
    a :class:`~tnlib.errors.NonFiniteError` naming a wider dtype. One reduction (none under
    tracing)."""
    if not xp.is_traced(out) and not bool(xp.item(xp.all(xp.isfinite(out)))):
        from .errors import NonFiniteError

        raise NonFiniteError(f"{where}: {what} exceeds the range of {xp.dtype_name(out)} "
                             f"(largest finite value {xp.finfo_max(out):.6g}); decompose the "
                             "data in a wider dtype")
    return out


def as_array(a: Any, xp: Any, where: str, name: str = "a") -> Any:
    """`a` as an array of `xp`: arrays pass; nested lists, tuples and numbers are converted;
    anything else (None, strings, tensor-network objects) is a ShapeError naming `name`."""
    if xp.is_array(a):
        return a
    if isinstance(a, (list, tuple, numbers.Number)) and not isinstance(a, bool):
        try:
            return xp.asarray(a)
        except Exception as exc:  # ragged or non-numeric nesting
            raise ShapeError(f"{where}: {name} could not be read as an array ({exc})") from None
    raise ShapeError(f"{where}: {name} must be an array, got {type(a).__name__}")


def as_sequence(items: Any, where: str, name: str, what: str) -> tuple:
    """`items` (a list, tuple or other iterable of `what`) as a tuple; a single object,
    a string or a non-iterable is a ShapeError naming `name`."""
    if isinstance(items, (str, bytes)) or hasattr(items, "cores") or not hasattr(
            items, "__iter__") or getattr(items, "ndim", None) == 0:
        raise ShapeError(f"{where}: {name} must be a list or tuple of {what}, got "
                         f"{type(items).__name__}")
    return tuple(items)


def check_real(value: Any, where: str, name: str) -> float:
    """`value` as a finite Python float (a bool, a string or a complex number is refused)."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(
            value):
        raise ArgumentError(f"{where}: {name} must be a finite real number, got {value!r}")
    return float(value)


def rng_of(seed: Any, where: str) -> np.random.Generator:
    """A NumPy Generator from `seed` -- None, a non-negative int or a sequence of them, a
    ``SeedSequence``, or a Generator (returned as it is) -- else an ArgumentError naming it."""
    if not isinstance(seed, bool):
        try:
            return np.random.default_rng(seed)
        except (TypeError, ValueError):
            pass
    raise ArgumentError(f"{where}: seed must be None, a non-negative integer or a "
                        f"numpy.random.Generator, got {seed!r}")


def seed_of(seed: Any, where: str) -> Any:
    """`seed` checked (see :func:`rng_of`): None or an int as given, anything else as a
    Generator, so that a caller drawing several times continues one stream."""
    rng = rng_of(seed, where)
    return seed if seed is None or isinstance(seed, numbers.Integral) else rng


def scalar_factor(c: Any, xp: Any, where: str, part: Any = None, kind: str = "") -> Any:
    """`c` if it is a number or a 0-d array of `xp` (a factor a format's ``*`` takes), else
    an ArgumentError naming `where` (an array would broadcast into one part). With `part`,
    the array of the format that `c` multiplies: see :func:`check_scalar_kind`."""
    if not isinstance(c, numbers.Number) and not (xp.is_array(c) and xp.ndim(c) == 0):
        raise ArgumentError(f"{where}: only scalars, got {type(c).__name__}")
    if part is not None:
        check_scalar_kind(c, xp, part, where, kind)
        c = cast_factor(c, xp, part)
    return c


def cast_factor(c: Any, xp: Any, part: Any) -> Any:
    """A 0-d array factor `c` in the dtype of the `part` it multiplies, so that the format
    keeps its dtype: NumPy would promote a float32 part times a float64 0-d array to
    float64, and TensorFlow refuses a real factor of a complex part. A NumPy scalar
    becomes a Python number (which no framework promotes by); numbers as given."""
    if isinstance(c, np.generic):
        return c.item()
    if isinstance(c, numbers.Number) or xp.dtype_name(c) == xp.dtype_name(part):
        return c
    return xp.astype(c, xp.dtype(part))


def check_scalar_kind(c: Any, xp: Any, part: Any, where: str, kind: str) -> None:
    """An ArgumentError for a complex scalar `c` (Python, NumPy or a 0-d array) times a real
    format (`kind`, its class name), whose `part` it would multiply: that part alone would
    turn complex, the format's dtype would no longer describe it, and torch refuses the
    mixed products later. Every format converts with ``.to(dtype=...)`` first."""
    complex_c = (xp.is_complex(c) if xp.is_array(c)
                 else isinstance(c, numbers.Complex) and not isinstance(c, numbers.Real))
    if complex_c and not xp.is_complex(part):
        raise ArgumentError(f"{where}: a complex scalar times a real {kind}; convert x with "
                            ".to(dtype='complex128') first")


def check_option(value: Any, options: Sequence[str], where: str, name: str) -> str:
    """`value` if it is one of the strings `options`, else an ArgumentError naming them (an
    array given is refused here, not by NumPy's ambiguous truth value)."""
    if not isinstance(value, str) or value not in options:
        raise ArgumentError(f"{where}: {name} must be one of {tuple(options)}, got {value!r}")
    return value


def check_callable(f: Any, where: str, name: str = "f") -> Any:
    """`f` if it is callable, else an ArgumentError naming it."""
    if not callable(f):
        raise ArgumentError(f"{where}: {name} must be callable, got {type(f).__name__}")
    return f


def check_finite_cores(x: Any, where: str, name: str) -> None:
    """Refuse a tensor network (``.cores``) holding NaN or inf: one reduction per core, one
    read for all."""
    xp = x.backend
    cores = x.cores
    if xp.is_traced(cores[0]):  # no values to check under jit / tf.function
        return
    # one flag per core, read together: one device synchronization, not one per core
    flags = xp.to_numpy(xp.stack([xp.all(xp.isfinite(c)) for c in cores]))
    for k, c in enumerate(cores):
        if not flags[k]:
            check_finite(c, xp, where, f"{name}.cores[{k}]")


def checked_scalar(value: Any, xp: Any, where: str, name: str = "f") -> Any:
    """`value`, what the user's function `name` returned, as the 0-d real array autodiff
    differentiates, or a named error: a tensor-network object, a Python number (no path
    back to the arguments), a vector or a complex value reached the framework's autograd
    as a TypeError or RuntimeError. A one-element array counts as the scalar."""
    if not xp.is_array(value):
        raise ArgumentError(f"{where}: {name} must return a real scalar computed from its "
                            f"argument (a 0-d {xp.name} array), got {type(value).__name__}")
    if xp.size(value) != 1:
        raise ArgumentError(f"{where}: {name} must return a real scalar, got an array of "
                            f"shape {tuple(xp.shape(value))}")
    if xp.is_complex(value):
        raise ArgumentError(f"{where}: {name} must return a real scalar, got a complex value "
                            "(minimize the squared modulus or the real part)")
    return xp.reshape(value, ()) if xp.ndim(value) else value


def host_indices(idx: Any, shape: tuple[int, ...], where: str, name: str = "idx") -> np.ndarray:
    """`idx` as a checked host int64 (N, d) array."""
    from .backends import backend_of

    try:
        host = np.asarray(backend_of(idx).to_numpy(idx)) if not isinstance(
            idx, (list, tuple, np.ndarray)) else np.asarray(idx)
    except Exception as exc:
        raise ShapeError(f"{where}: {name} must be an int array of shape (N, {len(shape)}), "
                         f"got {type(idx).__name__}") from exc
    if host.ndim != 2 or host.shape[1] != len(shape):
        raise ShapeError(f"{where}: {name} must have shape (N, {len(shape)}), got "
                         f"{host.shape}")
    if host.size and not np.issubdtype(host.dtype, np.integer):
        if np.issubdtype(host.dtype, np.floating) and np.all(np.isfinite(host)) and \
                np.all(host == np.round(host)):
            raise ShapeError(f"{where}: {name} must be an integer array, got dtype "
                             f"{host.dtype}; convert with .astype(int)")
        raise ShapeError(f"{where}: {name} must be an integer array, got dtype {host.dtype}")
    host = host.astype(np.int64, copy=False)
    if host.size:
        lo, hi = host.min(axis=0), host.max(axis=0)
        bad = np.nonzero((lo < 0) | (hi >= np.asarray(shape)))[0]
        if bad.size:
            k = int(bad[0])
            raise ShapeError(f"{where}: {name}[:, {k}] has values in [{lo[k]}, {hi[k]}] but mode "
                             f"{k} has size {shape[k]}")
    return host
