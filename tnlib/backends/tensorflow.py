"""The TensorFlow backend: eager tensors, GradientTape autodiff, ``tf.function`` compilation."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import _pytree
from ._base import Backend


class TensorflowBackend(Backend):
    """TensorFlow tensors (and variables, which are read as tensors)."""

    name = "tensorflow"
    _oe_backend = "tensorflow"
    _einsum_blas = False
    supports_grad = True
    supports_jit = True

    def __init__(self) -> None:
        import tensorflow as tf

        self.tf = tf
        self.version = tf.__version__
        self._types = (tf.Tensor, tf.Variable)

    def devices(self) -> list[str]:
        return [d.name for d in self.tf.config.list_logical_devices()]

    def _where(self, device: Any) -> Any:
        return contextlib.nullcontext() if device is None else self.tf.device(device)

    # ------------------------------------------------------------------ dtypes
    def resolve_dtype(self, spec: Any) -> Any:
        if spec is None:
            spec = self.default_float_dtype
        if isinstance(spec, self.tf.DType):
            return spec
        if isinstance(spec, str) and spec == "bfloat16":  # no NumPy dtype of that name
            return self.tf.bfloat16
        return self.tf.as_dtype(np.dtype(spec).name)

    def dtype_name(self, x: Any) -> str:
        dt = x.dtype if hasattr(x, "dtype") else x
        return self.tf.as_dtype(dt).name

    # -------------------------------------------------------------- conversion
    def asarray(self, data: Any, dtype: Any = None, device: Any = None) -> Any:
        tf = self.tf
        dt = None if dtype is None else self.resolve_dtype(dtype)
        if isinstance(data, self._types):
            with self._where(device):
                out = tf.identity(data) if device is not None else tf.convert_to_tensor(data)
                return out if dt is None or dt == out.dtype else self._cast(out, dt)
        if not isinstance(data, (np.ndarray, np.generic, int, float, complex, bool, list, tuple)):
            from ._dispatch import backend_of

            data = backend_of(data).to_numpy(data)
        arr = np.asarray(data)  # Python floats become float64, as on every backend
        with self._where(device):
            return tf.convert_to_tensor(arr if dt is None else arr.astype(dt.as_numpy_dtype))

    def to_numpy(self, a: Any) -> np.ndarray:
        try:
            return a.numpy() if hasattr(a, "numpy") else np.asarray(a)
        except Exception:
            self._read_failed(a)
            raise

    def is_array(self, a: Any) -> bool:
        return isinstance(a, self._types)

    def device(self, a: Any) -> Any:
        return a.device

    def astype(self, a: Any, dtype: Any) -> Any:
        return self._cast(a, self.resolve_dtype(dtype))

    def _cast(self, a: Any, dtype: Any) -> Any:
        """``tf.cast``, but real to complex as ``tf.complex(a, 0)``: the gradient of a cast
        casts back and TF logs "casting complex128 to float64 discards the imaginary part"
        at every backward pass through it (the discarding is right: `a` is real)."""
        tf = self.tf
        a = tf.convert_to_tensor(a)
        if dtype.is_complex and not a.dtype.is_complex:
            re = tf.cast(a, dtype.real_dtype)
            return tf.complex(re, tf.zeros_like(re))
        return tf.cast(a, dtype)

    def shape(self, a: Any) -> tuple[int, ...]:
        return tuple(a.shape.as_list())

    def is_traced(self, a: Any) -> bool:
        return self.tf.is_symbolic_tensor(a)

    def host_eligible(self, arrays: Any) -> bool:
        # eager TensorFlow pays tens of microseconds of dispatch per operation
        tf = self.tf
        if not tf.executing_eagerly() or self._recording():
            return False
        if not arrays:
            return not tf.config.list_logical_devices("GPU")
        for a in arrays:
            if tf.is_symbolic_tensor(a) or "CPU" not in (getattr(a, "device", "") or ""):
                return False
        return True

    def host_view(self, a: Any) -> Any:
        # .numpy() copies; the eager tensor's own buffer is shared read-only by _numpy()
        view = getattr(a, "_numpy", None)
        if view is not None:
            try:
                out = view()
            except Exception:  # noqa: BLE001 - a variable or an older TensorFlow: copy
                return self.to_numpy(a)
            if isinstance(out, np.ndarray):
                out.flags.writeable = False
                return out
        return self.to_numpy(a)

    def differentiating(self, arrays: Any) -> bool:
        return self._recording() or any(self.tf.is_symbolic_tensor(a) for a in arrays)

    def _recording(self) -> bool:
        """True while a GradientTape or forward accumulator could record an operation."""
        try:
            from tensorflow.python.eager import record
        except ImportError:  # a TensorFlow without the module: assume the worst
            return True
        return bool(record.could_possibly_record())

    def item(self, a: Any) -> Any:
        return np.asarray(self.to_numpy(a)).reshape(()).item()

    def synchronize(self, a: Any) -> Any:
        if "GPU" in getattr(a, "device", ""):
            self.tf.test.experimental.sync_devices()
        return a

    # ---------------------------------------------------------------- creation
    def zeros(self, shape: Sequence[int], dtype: Any = None, device: Any = None) -> Any:
        with self._where(device):
            return self.tf.zeros(tuple(shape), dtype=self.resolve_dtype(dtype))

    def ones(self, shape: Sequence[int], dtype: Any = None, device: Any = None) -> Any:
        with self._where(device):
            return self.tf.ones(tuple(shape), dtype=self.resolve_dtype(dtype))

    def eye(self, n: int, m: int | None = None, dtype: Any = None, device: Any = None) -> Any:
        with self._where(device):
            return self.tf.eye(n, m, dtype=self.resolve_dtype(dtype))

    def zeros_like(self, a: Any) -> Any:
        return self.tf.zeros_like(a)

    def ones_like(self, a: Any) -> Any:
        return self.tf.ones_like(a)

    # ------------------------------------------------------------------ layout
    def reshape(self, a: Any, shape: Sequence[int]) -> Any:
        return self.tf.reshape(a, tuple(shape))

    def transpose(self, a: Any, axes: Sequence[int] | None = None) -> Any:
        return self.tf.transpose(a, axes)

    def concatenate(self, arrays: Sequence[Any], axis: int = 0) -> Any:
        return self.tf.concat(list(arrays), axis=axis)

    def stack(self, arrays: Sequence[Any], axis: int = 0) -> Any:
        return self.tf.stack(list(arrays), axis=axis)

    def diag(self, a: Any) -> Any:
        return self.tf.linalg.diag(a) if len(a.shape) == 1 else self.tf.linalg.diag_part(a)

    def take(self, a: Any, indices: Any, axis: int = 0) -> Any:
        return self.tf.gather(a, indices, axis=axis)

    def take_along_axis(self, a: Any, indices: Any, axis: int) -> Any:
        return self.tf.experimental.numpy.take_along_axis(a, indices, axis)

    def _flat_positions(self, shape: tuple, index: Any) -> np.ndarray:
        # TF has no sliced assignment: find the flat positions the index selects on
        # the host (shapes are static) and scatter there.
        if isinstance(index, tuple):
            index = tuple(self.to_numpy(i) if self.is_array(i) else i for i in index)
        elif self.is_array(index):
            index = self.to_numpy(index)
        return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)[index]

    def _scatter(self, a: Any, index: Any, values: Any, op: Callable) -> Any:
        tf = self.tf
        shape = self.shape(a)
        pos = self._flat_positions(shape, index)
        vals = tf.broadcast_to(tf.cast(tf.convert_to_tensor(values), a.dtype), pos.shape)
        flat = op(tf.reshape(a, (-1,)), pos.reshape(-1, 1), tf.reshape(vals, (-1,)))
        return tf.reshape(flat, shape)

    def index_update(self, a: Any, index: Any, values: Any, reuse: bool = False,
                     divisor: Any = None) -> Any:
        values = values if divisor is None else values / divisor
        return self._scatter(a, index, values, self.tf.tensor_scatter_nd_update)

    def index_add(self, a: Any, index: Any, values: Any) -> Any:
        return self._scatter(a, index, values, self.tf.tensor_scatter_nd_add)

    def flip(self, a: Any, axis: int) -> Any:
        return self.tf.reverse(a, [axis])

    def _band(self, a: Any, k: int, lower: bool) -> Any:
        m, n = self.shape(a)[-2:]
        mask = np.tril(np.ones((m, n)), k) if lower else np.triu(np.ones((m, n)), k)
        return self.tf.where(mask.astype(bool), a, self.tf.zeros_like(a))

    def tril(self, a: Any, k: int = 0) -> Any:
        return self._band(a, k, lower=True)

    def triu(self, a: Any, k: int = 0) -> Any:
        return self._band(a, k, lower=False)

    def squeeze(self, a: Any, axis: int | None = None) -> Any:
        return self.tf.squeeze(a, axis)

    def expand_dims(self, a: Any, axis: int) -> Any:
        return self.tf.expand_dims(a, axis)

    def broadcast_to(self, a: Any, shape: Sequence[int]) -> Any:
        return self.tf.broadcast_to(a, tuple(shape))

    def copy(self, a: Any) -> Any:
        return self.tf.identity(a)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        ref = a if self.is_array(a) else b
        a = a if self.is_array(a) else self.tf.cast(a, ref.dtype)
        b = b if self.is_array(b) else self.tf.cast(b, ref.dtype)
        return self.tf.where(cond, a, b)

    def argsort(self, a: Any, axis: int = -1) -> Any:
        return self.tf.argsort(a, axis=axis, stable=True)

    def sort(self, a: Any, axis: int = -1) -> Any:
        return self.tf.sort(a, axis=axis)

    # ------------------------------------------------------------- elementwise
    def abs(self, a: Any) -> Any:
        return self.tf.abs(a)

    def sqrt(self, a: Any) -> Any:
        return self.tf.sqrt(a)

    def exp(self, a: Any) -> Any:
        return self.tf.exp(a)

    def log(self, a: Any) -> Any:
        return self.tf.math.log(a)

    def sin(self, a: Any) -> Any:
        return self.tf.sin(a)

    def cos(self, a: Any) -> Any:
        return self.tf.cos(a)

    def sign(self, a: Any) -> Any:
        return self.tf.sign(a)

    def conj(self, a: Any) -> Any:
        return self.tf.math.conj(a)

    def real(self, a: Any) -> Any:
        return self.tf.math.real(a)

    def imag(self, a: Any) -> Any:
        return self.tf.math.imag(a)

    def maximum(self, a: Any, b: Any) -> Any:
        return self.tf.maximum(a, b)

    def minimum(self, a: Any, b: Any) -> Any:
        return self.tf.minimum(a, b)

    def clip(self, a: Any, low: Any, high: Any) -> Any:
        return self.tf.clip_by_value(a, low, high)

    def isfinite(self, a: Any) -> Any:
        if a.dtype.is_complex:  # tf.math.is_finite rejects complex input
            return self.tf.math.logical_and(self.tf.math.is_finite(self.tf.math.real(a)),
                                            self.tf.math.is_finite(self.tf.math.imag(a)))
        return self.tf.math.is_finite(a)

    # -------------------------------------------------------------- reductions
    def sum(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self.tf.reduce_sum(a, axis=axis, keepdims=keepdims)

    def prod(self, a: Any, axis: Any = None) -> Any:
        return self.tf.reduce_prod(a, axis=axis)

    def max(self, a: Any, axis: Any = None) -> Any:
        return self.tf.reduce_max(a, axis=axis)

    def min(self, a: Any, axis: Any = None) -> Any:
        return self.tf.reduce_min(a, axis=axis)

    def mean(self, a: Any, axis: Any = None) -> Any:
        return self.tf.reduce_mean(a, axis=axis)

    def argmax(self, a: Any, axis: int | None = None) -> Any:
        return self.tf.argmax(self.tf.reshape(a, (-1,)) if axis is None else a, axis=axis or 0)

    def argmin(self, a: Any, axis: int | None = None) -> Any:
        return self.tf.argmin(self.tf.reshape(a, (-1,)) if axis is None else a, axis=axis or 0)

    def norm(self, a: Any, axis: Any = None) -> Any:
        if a.dtype.is_complex:  # tf.norm keeps the complex dtype; the contract is real
            a = self.tf.abs(a)
        return self.tf.norm(a, axis=axis) if axis is not None else self.tf.norm(
            self.tf.reshape(a, (-1,)))

    def all(self, a: Any) -> Any:
        return self.tf.reduce_all(a)

    def any(self, a: Any) -> Any:
        return self.tf.reduce_any(a)

    def cumsum(self, a: Any, axis: int = 0) -> Any:
        return self.tf.cumsum(a, axis=axis)

    # ------------------------------------------------------------- contraction
    def tensordot(self, a: Any, b: Any, axes: Any = 2) -> Any:
        return self.tf.tensordot(a, b, axes=axes)

    def matmul(self, a: Any, b: Any) -> Any:
        # tf.matmul wants matrices: give vectors a unit axis, as NumPy's matmul does
        if len(b.shape) == 1:
            return self.matmul(a, b[:, None])[..., 0]
        if len(a.shape) == 1:
            return self.matmul(a[None, :], b)[..., 0, :]
        return self.tf.linalg.matmul(a, b)

    def matmul_wide(self, s: Any, b: Any, b_t: Any) -> Any:
        # TF's (Eigen) float64 GEMM runs a long contraction with a small output
        # 1.3-2x faster with the big operand on the left: (b_t @ s^T)^T
        tf = self.tf
        if b.shape[0] > b.shape[1]:
            return tf.transpose(tf.linalg.matmul(b_t, s, transpose_b=True))
        return tf.linalg.matmul(s, b)

    # ----------------------------------------------------------- linear algebra
    def svd(self, a: Any) -> tuple[Any, Any, Any]:
        # tf.linalg.svd returns (s, u, v), with v not yet conjugate-transposed
        s, u, v = self.tf.linalg.svd(a, full_matrices=False)
        return u, s, self.tf.linalg.adjoint(v)

    def svdvals(self, a: Any) -> Any:
        return self.tf.linalg.svd(a, compute_uv=False)

    def _diag_phase(self, r: Any) -> Any:
        tf = self.tf
        d = tf.linalg.diag_part(r)
        mag = self._cast(tf.abs(d), d.dtype)
        ones = tf.ones_like(d)
        return tf.where(tf.equal(mag, 0), ones, d / tf.where(tf.equal(mag, 0), ones, mag))

    def qr(self, a: Any, mode: str = "reduced", signs: bool = True) -> Any:
        tf = self.tf
        # TF's Householder QR is not scaled: entries near 1e300 give NaN. Factor a / max|a|
        # (one reduction) and scale R back, per matrix of a batch.
        peak = tf.reduce_max(tf.abs(a), axis=(-2, -1), keepdims=True)
        peak = tf.where(peak > 0, peak, tf.ones_like(peak))
        q, r = tf.linalg.qr(a / self._cast(peak, a.dtype), full_matrices=False)
        r = r * self._cast(peak, r.dtype)
        s = self._diag_phase(r)  # diag(R) >= 0 on every backend
        r = self.tf.math.conj(s)[..., :, None] * r
        if mode == "r":
            return r
        return q * s[..., None, :], r

    def eigh(self, a: Any) -> tuple[Any, Any]:
        w, v = self.tf.linalg.eigh(a)
        return (self.tf.math.real(w) if w.dtype.is_complex else w), v  # TF keeps w complex

    def solve(self, a: Any, b: Any, check: bool = True) -> Any:
        if len(b.shape) == 1:  # tf.linalg.solve wants a matrix right-hand side
            return self.tf.linalg.solve(a, b[:, None])[:, 0]
        return self.tf.linalg.solve(a, b)

    def solve_triangular(self, a: Any, b: Any, lower: bool = False) -> Any:
        vec = len(b.shape) == 1
        x = self.tf.linalg.triangular_solve(a, b[:, None] if vec else b, lower=lower)
        return x[:, 0] if vec else x

    def cholesky(self, a: Any) -> Any:
        return self.tf.linalg.cholesky(a)

    def inv(self, a: Any) -> Any:
        return self.tf.linalg.inv(a)

    def expm(self, a: Any) -> Any:
        return self.tf.linalg.expm(a)

    # ----------------------------------------------------------------- autodiff
    def value_and_grad(self, f: Callable, argnums: int = 0) -> Callable:
        tf = self.tf

        def wrapped(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
            leaves, rebuild = _pytree.flatten(args[argnums])
            leaves = [tf.convert_to_tensor(leaf) for leaf in leaves]
            new_args = list(args)
            with tf.GradientTape() as tape:
                for leaf in leaves:
                    tape.watch(leaf)
                new_args[argnums] = rebuild(leaves)
                value = f(*new_args, **kwargs)
            grads = tape.gradient(value, leaves,
                                  unconnected_gradients=tf.UnconnectedGradients.ZERO)
            return value, rebuild(list(grads))

        return wrapped

    def hvp(self, f: Callable, primal: Any, tangent: Any) -> tuple[Any, Any, Any]:
        tf = self.tf
        leaves, rebuild = _pytree.flatten(primal)
        dirs, _ = _pytree.flatten(tangent)
        leaves = [tf.convert_to_tensor(leaf) for leaf in leaves]
        zero = tf.UnconnectedGradients.ZERO
        # forward-over-reverse: the JVP of the gradient along `tangent`; TF logs that a
        # complex primal "must be floating" but differentiates it correctly
        with _quiet_tf_log("dtype of the watched primal"), \
                tf.autodiff.ForwardAccumulator(leaves, [tf.convert_to_tensor(t) for t in dirs]) \
                as acc:
            with tf.GradientTape() as tape:
                for leaf in leaves:
                    tape.watch(leaf)
                value = f(rebuild(leaves))
            grads = tape.gradient(value, leaves, unconnected_gradients=zero)
        hv = acc.jvp(grads, unconnected_gradients=zero)
        return value, rebuild(list(grads)), rebuild(list(hv))

    def segment_sum(self, data: Any, segment_ids: Any, num_segments: int) -> Any:
        ids = self.tf.convert_to_tensor(segment_ids)
        return self.tf.math.unsorted_segment_sum(data, ids, num_segments)

    def grad(self, f: Callable, argnums: int = 0) -> Callable:
        vg = self.value_and_grad(f, argnums)
        return lambda *args, **kwargs: vg(*args, **kwargs)[1]

    def jit(self, f: Callable, fuse: bool = False, **kwargs: Any) -> Callable:
        # tnlib code has no data-dependent Python control flow to convert
        kwargs.setdefault("autograph", False)
        if fuse:
            kwargs.setdefault("jit_compile", True)
        return self.tf.function(f, **kwargs)

    def stop_gradient(self, a: Any) -> Any:
        return self.tf.stop_gradient(a)


@contextlib.contextmanager
def _quiet_tf_log(fragment: str) -> Any:
    """Drop TensorFlow log records containing `fragment` while the block runs."""
    import logging

    def keep(record: logging.LogRecord) -> bool:
        return fragment not in record.getMessage()

    logger = logging.getLogger("tensorflow")
    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)
