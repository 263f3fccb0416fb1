"""The backend contract: one class, one method per array operation tnlib needs.

Algorithm code receives a :class:`Backend` (conventionally named ``xp``) and
calls only these methods, Python operators on native arrays (``+ - * / @``,
unary ``-``, basic slicing ``a[i, :, 1:3]`` and ``a[..., None]``) and nothing
else. Each framework's quirks are fixed once, in its own module.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import opt_einsum

from .._info import entry_point
from .._validation import FLOAT_DTYPES, FLOAT_HINT, rng_of, traced_read_error
from ..errors import ArgumentError, BackendError, NonFiniteError

__all__ = ["Backend", "DTYPE_NAMES"]

#: dtype names understood by :meth:`Backend.resolve_dtype` on every backend.
DTYPE_NAMES = (
    "float32",
    "float64",
    "complex64",
    "complex128",
    "int32",
    "int64",
    "bool",
)

#: factorizations frameworks lack in half precision (NumPy, torch, TF and JAX alike)
_FACTORIZATIONS = ("svd", "svdvals", "qr", "eigh", "solve", "solve_triangular", "cholesky",
                   "inv", "expm")
_HALF = ("float16", "bfloat16")


def _half_in_single(method: Callable) -> Callable:
    """`method` (a factorization of its array arguments) that, where the framework refuses
    half-precision input, factorizes in float32 and returns the input's dtype.

    This is what torch's autocast does with its linear algebra; the result carries the
    accuracy of the half-precision data. Other failures propagate unchanged; the wrapper
    costs a call on success.
    """
    @functools.wraps(method)
    def run(self: Backend, a: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, a, *args, **kwargs)
        except Exception:
            if not self.is_array(a) or self.dtype_name(a) not in _HALF:
                raise
        kind = self.dtype_name(a)
        up = [self.astype(b, "float32") if self.is_array(b) else b for b in (a, *args)]
        out = method(self, *up, **kwargs)
        if isinstance(out, tuple):
            return tuple(self.astype(o, kind) if self.is_array(o) else o for o in out)
        return self.astype(out, kind)

    return run


_FINFO = {"float16": np.finfo(np.float16), "float32": np.finfo(np.float32),
          "complex64": np.finfo(np.float32), "float64": np.finfo(np.float64)}

# opt_einsum contraction expressions, keyed by (equation, shapes). The plan does
# not depend on the backend, so one cache serves all of them.
_EINSUM_CACHE: dict[tuple, Any] = {}


class Backend:
    """Array operations on one framework, with the same semantics everywhere.

    Instances are singletons per framework, obtained with
    :func:`tnlib.get_backend`, :func:`tnlib.backend_of` or ``tnlib.backends.get``.

    Attributes
    ----------
    name : str
        ``"numpy"``, ``"torch"``, ``"tensorflow"``, ``"jax"`` or ``"cupy"``.
    supports_grad : bool
        Whether :meth:`grad` and :meth:`value_and_grad` work.
    supports_jit : bool
        Whether :meth:`jit` compiles.
    free_reads : bool
        Whether reading a value into Python costs nothing: host memory, no device
        synchronization, never a tracer (NumPy). Loops may then decide per step.
    shape_compiles : bool
        Whether eager operations compile once per new shape (JAX): batches handed
        to user code of varying length are then padded to a few sizes.

    Examples
    --------
    >>> import numpy as np, tnlib
    >>> xp = tnlib.backend_of(np.eye(3))
    >>> xp.name
    'numpy'
    >>> u, s, vh = xp.svd(np.diag([3.0, 2.0, 1.0]))
    >>> s.tolist()
    [3.0, 2.0, 1.0]
    """

    name: str = "abstract"
    supports_grad: bool = False
    supports_jit: bool = False
    free_reads: bool = False
    shape_compiles: bool = False
    #: framework name as opt_einsum knows it
    _oe_backend: str = "numpy"
    #: pairwise steps by tensordot (True, for NumPy whose einsum skips BLAS) or by the
    #: framework's own einsum (False, which maps onto batched matmul without copies)
    _einsum_blas: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _FACTORIZATIONS:  # each backend's own factorizations take half precision
            if name in cls.__dict__:
                setattr(cls, name, _half_in_single(cls.__dict__[name]))

    def __repr__(self) -> str:
        return f"<tnlib backend {self.name!r}>"

    def __reduce__(self):  # pickled containers refer to the backend by name
        from ._dispatch import get as _get

        return (_get, (self.name,))

    def _missing(self, what: str, why: str = "") -> NotImplementedError:
        return NotImplementedError(
            f"the {self.name} backend does not provide {what}" + (f": {why}" if why else "")
        )

    # ------------------------------------------------------------------ dtypes
    @property
    def default_float_dtype(self) -> str:
        """Name of the dtype creation functions use when none is given: ``"float64"``."""
        return "float64"

    def resolve_dtype(self, spec: Any) -> Any:
        """Framework dtype object for `spec`.

        Parameters
        ----------
        spec : str, numpy dtype, framework dtype or None
            ``None`` gives :attr:`default_float_dtype`.

        Returns
        -------
        dtype
            The framework's own dtype object.
        """
        raise self._missing("resolve_dtype")

    def dtype_name(self, x: Any) -> str:
        """Canonical name (``"float64"``, ``"complex128"``, ...) of an array's or a dtype's type."""
        raise self._missing("dtype_name")

    def dtype(self, a: Any) -> Any:
        """The framework dtype of array `a`."""
        return a.dtype

    def is_complex(self, x: Any) -> bool:
        """True if the array or dtype `x` is complex."""
        return self.dtype_name(x).startswith("complex")

    def real_dtype(self, x: Any) -> Any:
        """The real dtype matching array or dtype `x` (complex128 -> float64)."""
        name = self.dtype_name(x)
        return self.resolve_dtype({"complex64": "float32", "complex128": "float64"}.get(name, name))

    def result_dtype(self, *arrays: Any) -> Any:
        """The dtype of a product of `arrays` (NumPy promotion of their dtype names)."""
        names = [self.dtype_name(a) for a in arrays]
        return self.resolve_dtype(str(np.result_type(*names)))

    def finfo_eps(self, x: Any) -> float:
        """Machine epsilon of the (real part of the) dtype of `x`, as a Python float."""
        return float(self._finfo(x).eps)

    def finfo_tiny(self, x: Any) -> float:
        """Smallest positive normal number of the (real part of the) dtype of `x`."""
        return float(self._finfo(x).tiny)

    def finfo_max(self, x: Any) -> float:
        """Largest finite number of the (real part of the) dtype of `x`."""
        return float(self._finfo(x).max)

    def _finfo(self, x: Any) -> Any:
        """NumPy's float limits for `x`: float16 and float32 (complex64) for theirs, else
        float64."""
        return _FINFO.get(self.dtype_name(x), _FINFO["float64"])

    # -------------------------------------------------------------- conversion
    def asarray(self, data: Any, dtype: Any = None, device: Any = None) -> Any:
        """Native array from `data` (array of any backend, NumPy array, list, scalar).

        Parameters
        ----------
        data : array_like
            Arrays of another backend are converted through NumPy.
        dtype : str or dtype, optional
            ``None`` keeps the dtype of `data` (Python floats become float64).
        device : optional
            Framework device (``"cpu"``, ``"cuda:0"``, a ``jax.Device``, ...);
            ``None`` keeps the device of a native `data`, else the framework default.
        """
        raise self._missing("asarray")

    def to_numpy(self, a: Any) -> np.ndarray:
        """NumPy copy (or view) of `a`, moved to host memory, detached from autodiff."""
        raise self._missing("to_numpy")

    def is_array(self, a: Any) -> bool:
        """True if `a` is a native array of this backend."""
        raise self._missing("is_array")

    def device(self, a: Any) -> Any:
        """The device `a` lives on (``"cpu"`` for NumPy)."""
        raise self._missing("device")

    def reads_synchronize(self, a: Any) -> bool:
        """Whether reading a value of `a` into Python waits for an accelerator (a GPU
        array): algorithms then gather their decisions into as few reads as they can."""
        return not self.free_reads and "cpu" not in str(self.device(a)).lower()

    #: flops that cost as much time as one kernel launch on an accelerator (about 10 us
    #: of launch and dispatch at the ~2e13 flop/s that small batched float64 products
    #: reach on a data-centre GPU); a model constant for choosing between algorithms
    _LAUNCH_FLOPS: float = 2e8

    def launch_flops(self, a: Any) -> float:
        """Flops worth one array operation on the device of `a`: ``0.0`` on the host,
        where an operation costs only its arithmetic, and ``_LAUNCH_FLOPS`` where every
        operation is a kernel launch (:meth:`reads_synchronize`). Algorithms with a
        short-and-wide and a long-and-narrow variant compare ``flops + launches *
        launch_flops`` to pick one. ``0.0`` for traced arrays too: a compiled program
        has no per-operation dispatch, and a tracer need not know its device."""
        if self.is_traced(a):
            return 0.0
        return self._LAUNCH_FLOPS if self.reads_synchronize(a) else 0.0

    def astype(self, a: Any, dtype: Any) -> Any:
        """`a` converted to `dtype` (a name or a framework dtype)."""
        raise self._missing("astype")

    def shape(self, a: Any) -> tuple[int, ...]:
        """Shape of `a` as a tuple of Python ints."""
        return tuple(int(n) for n in a.shape)

    def ndim(self, a: Any) -> int:
        """Number of axes of `a`."""
        return len(a.shape)

    def size(self, a: Any) -> int:
        """Number of elements of `a`."""
        return math.prod(self.shape(a))

    def item(self, a: Any) -> Any:
        """Python scalar of a one-element array (synchronizes with the device)."""
        return self.to_numpy(a).reshape(()).item()

    def _read_failed(self, a: Any) -> None:
        """Called where a read of `a` failed: a traced array raises the
        :func:`~tnlib._validation.traced_read_error` of the function the user called (the
        framework's own error says only that a tracer was converted); else returns, and
        the caller re-raises the framework's error."""
        if self.is_traced(a):
            raise traced_read_error(entry_point()) from None

    def parse_device(self, spec: Any) -> Any:
        """The device named `spec` (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"gpu"``) on this backend.

        Returns what the creation functions take as ``device=``; None stays None and a
        framework's own device object passes through. A name the backend does not have is a
        :class:`~tnlib.errors.BackendError` listing the devices it has.
        """
        if spec is None or not isinstance(spec, str):
            return spec
        names = self.devices()
        want = _device_key(spec)
        for name in names:
            key = _device_key(name)
            if key == want or key.split(":")[0] == want:
                return name
        raise BackendError(f"device {spec!r} is not available on backend {self.name!r}; "
                           f"it has {names}")

    def placement(self, dtype: Any, device: Any, where: str,
                  floating: bool = True) -> tuple[Any, Any]:
        """`dtype` and `device` checked for this backend: ``(dtype, device)`` to create with.

        A device the backend lacks, or an explicit dtype it would silently replace (float64
        on JAX without ``jax_enable_x64``), is a :class:`~tnlib.errors.BackendError`; with
        `floating`, a dtype other than a real or complex float is an
        :class:`~tnlib.errors.ArgumentError` (tensor formats hold floating-point numbers).
        """
        try:
            device = self.parse_device(device)
        except BackendError as exc:
            raise BackendError(f"{where}: {exc}") from None
        if dtype is not None:
            try:
                kind = self.dtype_name(self.resolve_dtype(dtype))
            except (TypeError, KeyError, ValueError, AttributeError):
                raise ArgumentError(f"{where}: dtype {dtype!r} is not a data type of backend "
                                    f"{self.name!r}; use a name such as 'float64' or "
                                    "'complex64'") from None
            if floating and kind not in FLOAT_DTYPES:
                raise ArgumentError(f"{where}: dtype {kind!r} is not a floating-point type the "
                                    f"formats hold; use {FLOAT_HINT}")
        if dtype is not None and isinstance(dtype, (str, np.dtype, type)):
            try:
                want = np.dtype(dtype).name
            except TypeError:
                return dtype, device
            got = self.dtype_name(self.resolve_dtype(dtype))
            if got != want:
                raise BackendError(f"{where}: dtype={want!r} is not available on backend "
                                   f"{self.name!r} as configured (it would give {got}). "
                                   f"{self._dtype_hint}")
        return dtype, device

    _dtype_hint = ""

    def synchronize(self, a: Any) -> Any:
        """Wait until the device has finished computing `a` (timing); returns `a`.

        A no-op on synchronous backends (NumPy, TensorFlow and torch on the CPU).
        """
        return a

    def is_traced(self, a: Any) -> bool:
        """True while `a` is a symbolic value under tracing (``jax.jit``, ``tf.function``).

        Algorithms use it to pick a path with static shapes; eager arrays give False.
        """
        return False

    def host_view(self, a: Any) -> Any:
        """A NumPy view of a host array where the framework allows one (read-only: the
        caller must not write to it), else a copy. For host execution."""
        return self.to_numpy(a)

    def differentiating(self, arrays: Sequence[Any]) -> bool:
        """Whether autodiff may be recording operations on `arrays` (traced by
        ``jax.grad``, a ``tf.GradientTape``, torch tensors that require gradients). A
        method may then prefer a formula whose derivative is stable to a more accurate
        value (see :func:`tnlib.tt.norm`)."""
        return any(self.is_traced(a) for a in arrays)

    def host_eligible(self, arrays: Sequence[Any]) -> bool:
        """Whether an algorithm on `arrays` may run through NumPy on the host.

        True only where that is invisible to the caller apart from speed:
        concrete (untraced) arrays on the CPU that no autodiff is recording
        (see :mod:`tnlib.backends._host`). `arrays` may be empty: then the
        question is whether the backend's default device is the CPU.
        """
        return False

    # ---------------------------------------------------------------- creation
    def zeros(self, shape: Sequence[int], dtype: Any = None, device: Any = None) -> Any:
        """Array of zeros; `dtype` defaults to :attr:`default_float_dtype`."""
        raise self._missing("zeros")

    def ones(self, shape: Sequence[int], dtype: Any = None, device: Any = None) -> Any:
        """Array of ones; `dtype` defaults to :attr:`default_float_dtype`."""
        raise self._missing("ones")

    def full(self, shape: Sequence[int], value: Any, dtype: Any = None, device: Any = None) -> Any:
        """Array filled with `value`."""
        return self.ones(shape, dtype=dtype, device=device) * value

    def eye(self, n: int, m: int | None = None, dtype: Any = None, device: Any = None) -> Any:
        """``(n, m)`` identity matrix (``m = n`` by default)."""
        raise self._missing("eye")

    def arange(
        self, start: int, stop: int | None = None, step: int = 1, dtype: Any = None,
        device: Any = None,
    ) -> Any:
        """Evenly spaced values, like :func:`numpy.arange` (int64 unless `dtype` is given)."""
        values = np.arange(start, stop, step) if stop is not None else np.arange(start)
        if dtype is None and values.dtype.kind == "i":
            values = values.astype(np.int64)
        return self.asarray(values, dtype=dtype, device=device)

    def zeros_like(self, a: Any) -> Any:
        """Zeros with the shape, dtype and device of `a`."""
        return self.zeros(self.shape(a), dtype=self.dtype(a), device=self.device(a))

    def ones_like(self, a: Any) -> Any:
        """Ones with the shape, dtype and device of `a`."""
        return self.ones(self.shape(a), dtype=self.dtype(a), device=self.device(a))

    def random_normal(
        self, shape: Sequence[int], seed: Any = None, dtype: Any = None, device: Any = None
    ) -> Any:
        """Standard normal samples, the same numbers on every backend for one seed.

        Samples are drawn on the host by ``numpy.random.default_rng(seed)`` in
        float64 and converted, so a seed names one array whatever the backend.
        Complex dtypes get independent real and imaginary parts, each of
        variance 1/2.

        Parameters
        ----------
        shape : sequence of int
        seed : int, numpy Generator or None
        dtype, device : optional
        """
        rng = rng_of(seed, "random_normal")
        dtype = self.default_float_dtype if dtype is None else dtype
        values = rng.standard_normal(tuple(shape))
        if self.is_complex(self.resolve_dtype(dtype)):
            values = (values + 1j * rng.standard_normal(tuple(shape))) / math.sqrt(2.0)
        return self.asarray(values, dtype=dtype, device=device)

    def random_uniform(
        self, shape: Sequence[int], seed: Any = None, low: float = 0.0, high: float = 1.0,
        dtype: Any = None, device: Any = None,
    ) -> Any:
        """Uniform samples on ``[low, high)``, identical on every backend for one seed."""
        rng = rng_of(seed, "random_uniform")
        dtype = self.default_float_dtype if dtype is None else dtype
        return self.asarray(rng.uniform(low, high, tuple(shape)), dtype=dtype, device=device)

    # ------------------------------------------------------------------ layout
    def reshape(self, a: Any, shape: Sequence[int]) -> Any:
        """`a` with a new shape, C (row-major) order."""
        raise self._missing("reshape")

    def transpose(self, a: Any, axes: Sequence[int] | None = None) -> Any:
        """Axes permuted; ``None`` reverses them."""
        raise self._missing("transpose")

    def moveaxis(self, a: Any, source: int, destination: int) -> Any:
        """Move axis `source` of `a` to position `destination`."""
        nd = self.ndim(a)
        order = [i for i in range(nd) if i != source % nd]
        order.insert(destination % nd, source % nd)
        return self.transpose(a, order)

    def concatenate(self, arrays: Sequence[Any], axis: int = 0) -> Any:
        """Join arrays along an existing axis."""
        raise self._missing("concatenate")

    def stack(self, arrays: Sequence[Any], axis: int = 0) -> Any:
        """Join arrays along a new axis."""
        raise self._missing("stack")

    def diag(self, a: Any) -> Any:
        """Vector -> diagonal matrix; matrix -> its diagonal."""
        raise self._missing("diag")

    def take(self, a: Any, indices: Any, axis: int = 0) -> Any:
        """Entries of `a` at integer `indices` along `axis` (``numpy.take``)."""
        raise self._missing("take")

    def take_along_axis(self, a: Any, indices: Any, axis: int) -> Any:
        """``numpy.take_along_axis``."""
        raise self._missing("take_along_axis")

    def index_update(self, a: Any, index: Any, values: Any, reuse: bool = False,
                     divisor: Any = None) -> Any:
        """New array equal to `a` except ``out[index] = values``; `a` is untouched.

        `index` is anything basic NumPy indexing accepts (ints, slices, tuples of
        them) or an integer array for the first axis. Gradients flow to both `a`
        (outside `index`) and `values`.

        ``reuse=True``: the caller owns `a` and never reads it again, so a backend
        with mutable arrays may write into it instead of copying it (NumPy, CuPy,
        and torch when no gradient is recorded through `a` or `values`); a Krylov
        basis filled row by row then costs one row per step, not the whole basis.

        ``divisor``: store ``values / divisor`` (a number or a 0-d array). Where `a` is
        written in place at an integer `index`, the quotient goes straight into the row:
        one operation (one kernel on a GPU) instead of a division and a copy.
        """
        raise self._missing("index_update")

    def index_add(self, a: Any, index: Any, values: Any) -> Any:
        """New array equal to `a` with `values` added at `index` (repeated indices accumulate)."""
        raise self._missing("index_add")

    def segment_sum(self, data: Any, segment_ids: Any, num_segments: int) -> Any:
        """Sums of the rows of `data` by segment: ``out[j] = sum(data[segment_ids == j])``.

        Parameters
        ----------
        data : (N, ...) array
        segment_ids : (N,) int array, values in ``[0, num_segments)``, any order
        num_segments : int

        Returns
        -------
        (num_segments, ...) array, differentiable in `data`.
        """
        out = self.zeros((num_segments,) + tuple(self.shape(data)[1:]), dtype=self.dtype(data),
                         device=self.device(data))
        return self.index_add(out, segment_ids, data)

    def flip(self, a: Any, axis: int) -> Any:
        """Reverse the order of entries along `axis`."""
        raise self._missing("flip")

    def tril(self, a: Any, k: int = 0) -> Any:
        """Lower triangle of a matrix."""
        raise self._missing("tril")

    def triu(self, a: Any, k: int = 0) -> Any:
        """Upper triangle of a matrix."""
        raise self._missing("triu")

    def squeeze(self, a: Any, axis: int | None = None) -> Any:
        """Remove axes of length one."""
        raise self._missing("squeeze")

    def expand_dims(self, a: Any, axis: int) -> Any:
        """Insert an axis of length one."""
        raise self._missing("expand_dims")

    def broadcast_to(self, a: Any, shape: Sequence[int]) -> Any:
        """`a` broadcast to `shape`."""
        raise self._missing("broadcast_to")

    def copy(self, a: Any) -> Any:
        """A copy of `a` (differentiable)."""
        raise self._missing("copy")

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        """Elementwise ``a if cond else b``."""
        raise self._missing("where")

    def argsort(self, a: Any, axis: int = -1) -> Any:
        """Indices that sort `a` (stable) along `axis`."""
        raise self._missing("argsort")

    def sort(self, a: Any, axis: int = -1) -> Any:
        """`a` sorted along `axis`."""
        raise self._missing("sort")

    # ------------------------------------------------------------- elementwise
    def abs(self, a: Any) -> Any:
        """Absolute value (modulus for complex)."""
        raise self._missing("abs")

    def sqrt(self, a: Any) -> Any:
        """Square root."""
        raise self._missing("sqrt")

    def exp(self, a: Any) -> Any:
        """Exponential."""
        raise self._missing("exp")

    def log(self, a: Any) -> Any:
        """Natural logarithm."""
        raise self._missing("log")

    def sin(self, a: Any) -> Any:
        """Sine."""
        raise self._missing("sin")

    def cos(self, a: Any) -> Any:
        """Cosine."""
        raise self._missing("cos")

    def sign(self, a: Any) -> Any:
        """Sign (``x / |x|`` for complex, 0 at 0)."""
        raise self._missing("sign")

    def conj(self, a: Any) -> Any:
        """Complex conjugate (identity on real arrays)."""
        raise self._missing("conj")

    def real(self, a: Any) -> Any:
        """Real part."""
        raise self._missing("real")

    def imag(self, a: Any) -> Any:
        """Imaginary part."""
        raise self._missing("imag")

    def maximum(self, a: Any, b: Any) -> Any:
        """Elementwise maximum."""
        raise self._missing("maximum")

    def minimum(self, a: Any, b: Any) -> Any:
        """Elementwise minimum."""
        raise self._missing("minimum")

    def clip(self, a: Any, low: Any, high: Any) -> Any:
        """`a` clipped to ``[low, high]``."""
        return self.minimum(self.maximum(a, low), high)

    def isfinite(self, a: Any) -> Any:
        """Elementwise test for finite values (not NaN, not inf)."""
        raise self._missing("isfinite")

    # -------------------------------------------------------------- reductions
    def sum(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        """Sum over `axis` (all axes by default); a 0-d array for a full reduction."""
        raise self._missing("sum")

    def prod(self, a: Any, axis: Any = None) -> Any:
        """Product over `axis`."""
        raise self._missing("prod")

    def max(self, a: Any, axis: Any = None) -> Any:
        """Maximum over `axis`."""
        raise self._missing("max")

    def min(self, a: Any, axis: Any = None) -> Any:
        """Minimum over `axis`."""
        raise self._missing("min")

    def mean(self, a: Any, axis: Any = None) -> Any:
        """Mean over `axis`."""
        raise self._missing("mean")

    def argmax(self, a: Any, axis: int | None = None) -> Any:
        """Index of the maximum (of the flattened array when `axis` is None)."""
        raise self._missing("argmax")

    def argmin(self, a: Any, axis: int | None = None) -> Any:
        """Index of the minimum (of the flattened array when `axis` is None)."""
        raise self._missing("argmin")

    def norm(self, a: Any, axis: Any = None) -> Any:
        """Frobenius norm of the whole array, or 2-norms along `axis` (real result)."""
        raise self._missing("norm")

    def all(self, a: Any) -> Any:
        """True if every entry is true."""
        raise self._missing("all")

    def any(self, a: Any) -> Any:
        """True if some entry is true."""
        raise self._missing("any")

    def cumsum(self, a: Any, axis: int = 0) -> Any:
        """Cumulative sum along `axis`."""
        raise self._missing("cumsum")

    # ------------------------------------------------------------- contraction
    def einsum(self, equation: str, *operands: Any) -> Any:
        """Einstein summation through ``opt_einsum`` with the plan cached.

        The contraction path is computed once per (equation, shapes) and reused;
        the same plan runs on every backend.

        Examples
        --------
        >>> import numpy as np, tnlib
        >>> xp = tnlib.backend_of(np.ones(2))
        >>> float(xp.einsum("i,i->", np.ones(3), np.arange(3.0)))
        3.0
        """
        shapes = tuple(tuple(op.shape) for op in operands)
        key = (equation, shapes, self._einsum_blas)
        expr = _EINSUM_CACHE.get(key)
        if expr is None:
            expr = opt_einsum.contract_expression(equation, *shapes, optimize="auto",
                                                  use_blas=self._einsum_blas)
            if len(_EINSUM_CACHE) > 4096:
                _EINSUM_CACHE.clear()
            _EINSUM_CACHE[key] = expr
        return expr(*operands, backend=self._oe_backend)

    def tensordot(self, a: Any, b: Any, axes: Any = 2) -> Any:
        """``numpy.tensordot``."""
        raise self._missing("tensordot")

    def matmul(self, a: Any, b: Any) -> Any:
        """Matrix product, batched over leading axes."""
        return a @ b

    def matmul_sub(self, c: Any, a: Any, b: Any) -> Any:
        """``c - a @ b`` (a vector or matrix `b`, `c` of the product's shape): one fused
        kernel where the framework has one (torch's ``addmv``/``addmm``), the update of
        the Krylov methods' Gram-Schmidt steps."""
        return c - self.matmul(a, b)

    def matmul_wide(self, s: Any, b: Any, b_t: Any) -> Any:
        """``s @ b`` for a short, wide `s` (few rows) and a large `b` stored twice.

        `b_t` is a stored copy of ``b``'s transpose. A large product with a
        thin side runs at very different speeds in the two orientations
        ``s @ b`` and ``(b_t @ s^T)^T`` depending on the framework's GEMM; each
        backend uses its faster one. Hot loops that keep both layouts of a big
        operand (CP-ALS, HOOI) call this.
        """
        return s @ b

    def kron(self, a: Any, b: Any) -> Any:
        """Kronecker product of two matrices."""
        (m, n), (p, q) = self.shape(a), self.shape(b)
        return self.reshape(a[:, None, :, None] * b[None, :, None, :], (m * p, n * q))

    # ----------------------------------------------------------- linear algebra
    def svd(self, a: Any) -> tuple[Any, Any, Any]:
        """Reduced SVD ``a = u @ diag(s) @ vh``.

        Returns
        -------
        u : (m, k) array
        s : (k,) real array, descending
        vh : (k, n) array, with ``k = min(m, n)``
        """
        raise self._missing("svd")

    def svdvals(self, a: Any) -> Any:
        """Singular values only, descending (cheaper than :meth:`svd`)."""
        return self.svd(a)[1]

    def qr(self, a: Any, mode: str = "reduced", signs: bool = True) -> Any:
        """Reduced QR with ``diag(r) >= 0``, for tall and wide matrices.

        Parameters
        ----------
        a : (m, n) array
        mode : {"reduced", "r"}
            ``"r"`` returns only ``r`` and skips forming ``q`` where the framework can.
        signs : bool, optional
            ``False``: the caller needs only an orthonormal ``q`` and its ``r``, so the
            backend may leave the diagonal's signs as its factorization made them (making
            them non-negative costs four array operations, kernel launches on a GPU).

        Returns
        -------
        q : (m, k) array with orthonormal columns, ``k = min(m, n)``
        r : (k, n) upper triangular (trapezoidal) array with a real,
            non-negative diagonal
        """
        raise self._missing("qr")

    def eigh(self, a: Any) -> tuple[Any, Any]:
        """Eigen-decomposition of a Hermitian matrix: ``(w, v)``, `w` ascending."""
        raise self._missing("eigh")

    def solve(self, a: Any, b: Any, check: bool = True) -> Any:
        """Solution ``x`` of ``a @ x = b`` for a square `a`; `b` a vector or a matrix.

        ``check=False``: the caller tests the result for non-finite values itself, so a
        singular `a` may give inf or NaN instead of an error, and the backend need not
        read its factorization's status back (on a GPU, a synchronization per call)."""
        raise self._missing("solve")

    def lstsq(self, a: Any, b: Any) -> Any:
        """Minimum-norm least-squares solution of ``a @ x = b`` (via SVD)."""
        u, s, vh = self.svd(a)
        tol = self.finfo_eps(a) * max(self.shape(a)) * self.max(s)
        inv = self.where(s > tol, 1.0 / self.where(s > tol, s, self.ones_like(s)), 0.0 * s)
        inv = self.astype(inv, self.dtype(a))
        ub = self.conj(self.transpose(u)) @ b
        ub = inv[:, None] * ub if self.ndim(b) == 2 else inv * ub
        return self.conj(self.transpose(vh)) @ ub

    def solve_triangular(self, a: Any, b: Any, lower: bool = False) -> Any:
        """Solution of ``a @ x = b`` for a triangular `a` (matrix or vector `b`)."""
        raise self._missing("solve_triangular")

    def cholesky(self, a: Any) -> Any:
        """Lower Cholesky factor ``l`` with ``a = l @ l^H``."""
        raise self._missing("cholesky")

    def inv(self, a: Any) -> Any:
        """Inverse of a square matrix."""
        n = self.shape(a)[0]
        return self.solve(a, self.eye(n, dtype=self.dtype(a), device=self.device(a)))

    def pinv(self, a: Any) -> Any:
        """Moore-Penrose pseudo-inverse (via SVD)."""
        m = self.shape(a)[0]
        return self.lstsq(a, self.eye(m, dtype=self.dtype(a), device=self.device(a)))

    def expm(self, a: Any) -> Any:
        """Matrix exponential (scaling and squaring with the [13/13] Padé approximant).

        Frameworks with a native ``expm`` use it; this generic version serves
        the others and is written in contract calls only.
        """
        return _expm_pade13(self, a)

    # ----------------------------------------------------------------- autodiff
    def grad(self, f: Callable, argnums: int = 0) -> Callable:
        """Function returning the gradient of scalar `f` with respect to argument `argnums`.

        The argument may be an array or any tnlib container (``TTTensor``, ...);
        the gradient has the same structure. For a real `f` of complex inputs
        the result is the steepest-ascent direction ``g`` with
        ``f(z + dz) ≈ f(z) + Re <g, dz>`` (``2 df/d conj(z)``) on every backend:
        torch's and TensorFlow's convention; JAX's own gradient is its conjugate.
        """
        raise self._missing("grad", "the framework has no automatic differentiation")

    def value_and_grad(self, f: Callable, argnums: int = 0) -> Callable:
        """Like :meth:`grad`, returning ``(f(...), gradient)``."""
        raise self._missing("value_and_grad", "the framework has no automatic differentiation")

    def hvp(self, f: Callable, primal: Any, tangent: Any) -> tuple[Any, Any, Any]:
        """Value, gradient and Hessian-vector product of scalar `f` at `primal`.

        `primal` and `tangent` are arrays or matching nests of arrays (lists,
        tuples, tnlib containers). Returns ``(f(primal), grad, H @ tangent)``,
        the last two with the structure of `primal`, by second-order autodiff
        (forward-over-reverse where the framework has it). For complex inputs,
        the gradient as in :meth:`grad` and ``H @ tangent`` its derivative along
        `tangent` (the real Hessian of `f` on ``C^n = R^2n``).
        """
        raise self._missing("hvp", "the framework has no automatic differentiation")

    def jit(self, f: Callable, fuse: bool = False, **kwargs: Any) -> Callable:
        """Compiled version of `f` (``jax.jit``, ``tf.function``).

        ``fuse=True`` compiles the whole function to native code where the
        framework offers that as an option (XLA on TensorFlow).
        """
        raise self._missing("jit", "the framework has no tracing compiler")

    def stop_gradient(self, a: Any) -> Any:
        """`a` with gradients blocked."""
        return a


# ---------------------------------------------------------------------- helpers
_PADE13 = (
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
    129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
    40840800.0, 960960.0, 16380.0, 182.0, 1.0,
)


def _expm_pade13(xp: Backend, a: Any) -> Any:
    """Higham (2005) scaling and squaring; the norm decides the number of squarings."""
    n = xp.shape(a)[0]
    if n != xp.shape(a)[1]:
        raise ArgumentError(f"expm: a must be square, got shape {xp.shape(a)}")
    norm1 = float(np.max(np.sum(np.abs(xp.to_numpy(a)), axis=0))) if n else 0.0
    if not math.isfinite(norm1):
        raise NonFiniteError(f"expm: the matrix's 1-norm is {norm1} (NaN or inf entries, or "
                             "beyond the float range); its exponential has no finite value")
    squarings = max(0, int(math.ceil(math.log2(norm1 / 5.371920351148152))) if norm1 > 0 else 0)
    a = a / (2.0**squarings)
    ident = xp.eye(n, dtype=xp.dtype(a), device=xp.device(a))
    b = _PADE13
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2
             + b[1] * ident)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 \
        + b[0] * ident
    r = xp.solve(v - u, v + u)
    for _ in range(squarings):
        r = r @ r
    return r


def _device_key(name: str) -> str:
    """Device name in one spelling: ``"/device:GPU:0"``, ``"gpu:0"`` -> ``"cuda:0"``."""
    key = name.lower().replace("/device:", "").replace("/job:localhost/replica:0/task:0", "")
    key = key.replace("tfrt_cpu_", "cpu:").replace("gpu", "cuda")
    return key
