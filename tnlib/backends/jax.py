"""The JAX backend: NumPy's API with autodiff and XLA compilation, on CPU, GPU or TPU."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _pytree
from ._numpylike import NumpyLikeBackend


class JaxBackend(NumpyLikeBackend):
    """JAX arrays. Immutable: updates go through ``a.at[...]``.

    tnlib never changes JAX's configuration: with ``jax_enable_x64`` off (JAX's
    default), float64 requests give float32 arrays, exactly as JAX itself does.
    """

    name = "jax"
    _oe_backend = "jax"
    _einsum_blas = False
    supports_grad = True
    supports_jit = True
    shape_compiles = True

    def __init__(self) -> None:
        import jax
        import jax.numpy as jnp
        import jax.scipy.linalg

        self.jax = jax
        self.np = jnp
        self.la = jnp.linalg
        self._scipy_linalg = jax.scipy.linalg
        self._tracer = jax.core.Tracer
        self.version = jax.__version__
        _pytree.register_with_jax()
        # Eager JAX compiles every primitive for every new shape it meets (milliseconds
        # each): composite operations run as one compiled program, one compilation per
        # shape instead of one per step (a QR with its sign fix was eight).
        base = NumpyLikeBackend
        self._qr = jax.jit(lambda a, mode: base.qr(self, a, mode), static_argnums=1)
        self._norm = jax.jit(lambda a, axis: base.norm(self, a, axis), static_argnums=1)
        self._all_finite = jax.jit(lambda a: jnp.all(jnp.isfinite(a)))

    def _svd(self, a: Any, vectors: bool) -> Any:
        """LAPACK's divide and conquer (gesdd) fails to converge on rare, well-scaled
        matrices, and JAX returns NaN for them; the adjoint's problem takes other rotations.
        Eager arrays are checked on the host (the caller reads the spectrum anyway, to
        truncate); traced ones choose by ``lax.cond`` (the retry runs only where needed)."""
        out = self._svd_direct(a, vectors)
        s = out[1] if vectors else out
        if self.is_traced(a):  # (NaN input gives NaN either way)
            return self.jax.lax.cond(self._all_finite(s), lambda m: out,
                                     lambda m: self._svd_adjoint(m, vectors), a)
        return out if bool(self._all_finite(s)) else self._svd_adjoint(a, vectors)

    def _svd_direct(self, a: Any, vectors: bool) -> Any:
        out = self.la.svd(a, full_matrices=False, compute_uv=vectors)
        return tuple(out) if vectors else out

    def _svd_adjoint(self, a: Any, vectors: bool) -> Any:
        def adjoint(m: Any) -> Any:
            return self.np.conj(self.np.swapaxes(m, -1, -2))

        out = self._svd_direct(adjoint(a), vectors)
        return (adjoint(out[2]), out[1], adjoint(out[0])) if vectors else out

    @property
    def default_float_dtype(self) -> str:
        return "float64" if self.jax.config.jax_enable_x64 else "float32"

    def resolve_dtype(self, spec: Any) -> Any:
        if spec is None:
            spec = self.default_float_dtype
        return self.jax.dtypes.canonicalize_dtype(np.dtype(spec) if isinstance(spec, str) else spec)

    def devices(self) -> list[str]:
        return [str(d) for d in self.jax.devices()]

    _dtype_hint = ("Enable 64-bit types with jax.config.update('jax_enable_x64', True) at "
                   "start-up (or JAX_ENABLE_X64=1), or pass dtype=None for JAX's default.")

    def parse_device(self, spec: Any) -> Any:
        name = super().parse_device(spec)
        if not isinstance(name, str):
            return name
        return next(d for d in self.jax.devices() if str(d) == name)

    def _on(self, a: Any, device: Any) -> Any:
        return a if device is None else self.jax.device_put(a, device)

    def asarray(self, data: Any, dtype: Any = None, device: Any = None) -> Any:
        if not isinstance(data, (self.jax.Array, np.ndarray, np.generic, int, float, complex,
                                 bool, list, tuple)):
            from ._dispatch import backend_of

            data = backend_of(data).to_numpy(data)
        dt = None if dtype is None else self.resolve_dtype(dtype)
        return self._on(self.np.asarray(data, dtype=dt), device)

    def to_numpy(self, a: Any) -> np.ndarray:
        try:
            return np.asarray(a)
        except Exception:
            self._read_failed(a)
            raise

    def is_array(self, a: Any) -> bool:
        return isinstance(a, self.jax.Array)

    def device(self, a: Any) -> Any:
        if isinstance(a, self._tracer):
            return None
        devices = a.devices()
        return next(iter(devices)) if len(devices) == 1 else devices

    def is_traced(self, a: Any) -> bool:
        return isinstance(a, self._tracer)

    def host_eligible(self, arrays: Any) -> bool:
        # eager JAX compiles each primitive per new shape: seconds per algorithm
        if not arrays:
            return self.jax.default_backend() == "cpu"
        for a in arrays:
            if isinstance(a, self._tracer) or not isinstance(a, self.jax.Array):
                return False
            devices = a.devices()
            if len(devices) != 1 or next(iter(devices)).platform != "cpu":
                return False
        return True

    def svd(self, a: Any) -> tuple[Any, Any, Any]:
        return self._svd(a, True)

    def svdvals(self, a: Any) -> Any:
        return self._svd(a, False)

    def qr(self, a: Any, mode: str = "reduced", signs: bool = True) -> Any:
        return self._qr(a, mode)  # the sign fix is compiled into the factorization: kept

    def norm(self, a: Any, axis: Any = None) -> Any:
        return self._norm(a, tuple(axis) if isinstance(axis, list) else axis)

    def item(self, a: Any) -> Any:
        return self.to_numpy(a).reshape(()).item()

    def synchronize(self, a: Any) -> Any:
        return a.block_until_ready() if hasattr(a, "block_until_ready") else a

    def index_update(self, a: Any, index: Any, values: Any, reuse: bool = False,
                     divisor: Any = None) -> Any:
        return a.at[index].set(values if divisor is None else values / divisor)

    def index_add(self, a: Any, index: Any, values: Any) -> Any:
        return a.at[index].add(values)

    def copy(self, a: Any) -> Any:
        return self.np.array(a, copy=True)

    def lstsq(self, a: Any, b: Any) -> Any:
        return self.la.lstsq(a, b)[0]

    def solve_triangular(self, a: Any, b: Any, lower: bool = False) -> Any:
        return self._scipy_linalg.solve_triangular(a, b, lower=lower)

    def pinv(self, a: Any) -> Any:
        return self.la.pinv(a)

    def expm(self, a: Any) -> Any:
        return self._scipy_linalg.expm(a)

    def _ascent(self, tree: Any) -> Any:
        """JAX's gradient of a real function of complex leaves is the conjugate of the
        steepest-ascent direction (the contract's, torch's and TensorFlow's); real leaves
        are unchanged."""
        jnp = self.jax.numpy
        return self.jax.tree_util.tree_map(
            lambda g: jnp.conj(g) if jnp.iscomplexobj(g) else g, tree)

    def grad(self, f: Callable, argnums: int = 0) -> Callable:
        g = self.jax.grad(f, argnums=argnums)
        return lambda *args, **kwargs: self._ascent(g(*args, **kwargs))

    def value_and_grad(self, f: Callable, argnums: int = 0) -> Callable:
        vg = self.jax.value_and_grad(f, argnums=argnums)

        def wrapped(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
            value, g = vg(*args, **kwargs)
            return value, self._ascent(g)

        return wrapped

    def hvp(self, f: Callable, primal: Any, tangent: Any) -> tuple[Any, Any, Any]:
        jax = self.jax
        # forward-over-reverse: one linearized pass of value_and_grad
        (value, grads), (_, hv) = jax.jvp(jax.value_and_grad(f), (primal,), (tangent,))
        return value, self._ascent(grads), self._ascent(hv)

    def segment_sum(self, data: Any, segment_ids: Any, num_segments: int) -> Any:
        return self.jax.ops.segment_sum(data, segment_ids, num_segments=num_segments)

    def jit(self, f: Callable, fuse: bool = False, **kwargs: Any) -> Callable:
        return self.jax.jit(f, **kwargs)  # always XLA-compiled

    def stop_gradient(self, a: Any) -> Any:
        return self.jax.lax.stop_gradient(a)
