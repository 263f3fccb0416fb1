"""TuckerTensor: a core tensor multiplied by a factor matrix along every mode."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .._pytree import register_container
from .._validation import EntryIndexed, TensorFormat, check_float_dtype, scalar_factor
from ..backends import Backend, backend_of
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from ..linalg.tensor_ops import multi_mode_product

__all__ = ["TuckerTensor"]


@register_container
class TuckerTensor(TensorFormat, EntryIndexed):
    """A tensor in Tucker format, ``x = core ×_1 U_1 ×_2 ... ×_d U_d``.

    Parameters
    ----------
    core : array of shape (r_1, ..., r_d)
    factors : sequence of (n_k, r_k) arrays

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tucker
    >>> x = tucker.TuckerTensor(np.ones((2, 2)), [np.ones((3, 2)), np.ones((4, 2))])
    >>> x.shape, x.ranks, float(x.full()[0, 0])
    ((3, 4), (2, 2), 4.0)
    """

    __slots__ = ("_core", "_factors", "_backend")

    def __init__(self, core: Any, factors: Sequence[Any]) -> None:
        factors = tuple(factors)
        xp = backend_of(core, factors)
        if not xp.is_array(core):
            raise ShapeError(f"TuckerTensor: core must be a {xp.name} array, got "
                             f"{type(core).__name__}")
        cshape = xp.shape(core)
        check_float_dtype(xp.dtype_name(core), "TuckerTensor", "core")
        if len(factors) != len(cshape) or not factors:
            raise ShapeError(f"TuckerTensor: core has {len(cshape)} axes but {len(factors)} "
                             "factors were given")
        for k, f in enumerate(factors):
            if not xp.is_array(f) or xp.ndim(f) != 2 or xp.shape(f)[1] != cshape[k]:
                raise ShapeError(f"TuckerTensor: factor {k} must have shape (n, {cshape[k]}) "
                                 f"to match core axis {k}, got {getattr(f, 'shape', None)}")
            if xp.dtype_name(f) != xp.dtype_name(core):
                raise ShapeError(f"TuckerTensor: factor {k} has dtype {xp.dtype_name(f)} but "
                                 f"the core has {xp.dtype_name(core)}")
        self._core, self._factors, self._backend = core, factors, xp

    @classmethod
    def _from(cls, core: Any, factors: Sequence[Any], backend: Backend | None = None
              ) -> TuckerTensor:
        obj = object.__new__(cls)
        obj._core, obj._factors, obj._backend = core, tuple(factors), backend
        return obj

    def _tree_flatten(self) -> tuple[tuple, None]:
        return (self._core, *self._factors), None

    @classmethod
    def _tree_unflatten(cls, aux: Any, children: Sequence[Any]) -> TuckerTensor:
        return cls._from(children[0], children[1:])

    def __getstate__(self) -> dict:
        return {"core": self._core, "factors": self._factors}

    def __setstate__(self, state: dict) -> None:
        self._core, self._factors, self._backend = state["core"], state["factors"], None

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = backend_of(self._core)
        return self._backend

    @property
    def core(self) -> Any:
        return self._core

    @property
    def factors(self) -> tuple[Any, ...]:
        return self._factors

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(f.shape[0]) for f in self._factors)

    @property
    def ranks(self) -> tuple[int, ...]:
        return tuple(int(f.shape[1]) for f in self._factors)

    @property
    def ndim(self) -> int:
        return len(self._factors)

    @property
    def dtype(self) -> Any:
        return self.backend.dtype(self._core)

    def __repr__(self) -> str:
        xp = self.backend
        params = math.prod(self.ranks) + sum(n * r for n, r in zip(self.shape, self.ranks))
        return (f"TuckerTensor(shape={self.shape}, ranks={self.ranks}, "
                f"dtype={xp.dtype_name(self._core)}, backend={xp.name}, "
                f"compression={math.prod(self.shape) / params:.3g})")

    def to(self, backend: Any = None, dtype: Any = None, device: Any = None) -> TuckerTensor:
        """Copy on another backend, dtype or device.

        Examples
        --------
        >>> import numpy as np
        >>> from tnlib import tucker
        >>> x = tucker.hosvd(np.ones((3, 4, 5)), ranks=1).to(dtype="float32")
        >>> str(x.dtype), x.ranks
        ('float32', (1, 1, 1))
        """
        target, convert = self._converter(backend, dtype, device)
        return TuckerTensor._from(convert(self._core), [convert(f) for f in self._factors],
                                  target)

    @host_eager
    def full(self) -> Any:
        """The dense tensor (core and factors multiplied at unit scale, the scale put back
        at the end: no overflow or underflow where the entries are in range)."""
        from ..tt._scale import balanced, times_pow2

        xp = self.backend
        (core, *factors), exponent = balanced([self._core, *self._factors], xp, always=True)
        return times_pow2(multi_mode_product(core, factors), exponent, xp)

    @host_eager
    def norm(self) -> Any:
        """Frobenius norm from the core and the factor Grams (no dense tensor), computed
        on the parts brought to unit size by powers of two (each enters every entry once):
        tensors of 1e-200 or 1e200 keep their norm."""
        from ..tt._gram import squares
        from ..tt._scale import norm_at_unit_scale

        xp = self.backend

        def norm_of(parts: list) -> Any:
            unit = TuckerTensor._from(parts[0], parts[1:], xp)
            return xp.sqrt(squares(unit._dot(unit), xp, parts))

        return norm_at_unit_scale([self._core, *self._factors], norm_of, xp)

    @host_eager
    def dot(self, other: TuckerTensor) -> Any:
        """``sum(conj(self) * other)`` via ``core_x ×_k (U_k^H V_k)``, on the parts
        brought to unit size by powers of two (one read)."""
        from ..tt._scale import dot_at_unit_scale

        if not isinstance(other, TuckerTensor) or other.shape != self.shape:
            raise ShapeError(f"TuckerTensor.dot: needs a TuckerTensor of shape {self.shape}")
        xp = backend_of(self, other)

        def dot_of(xs: list, ys: list) -> Any:
            return TuckerTensor._from(xs[0], xs[1:], xp)._dot(
                TuckerTensor._from(ys[0], ys[1:], xp))

        return dot_at_unit_scale([self._core, *self._factors], [other.core, *other.factors],
                                 dot_of, xp, "TuckerTensor.dot", lambda: self._dot(other))

    def _dot(self, other: TuckerTensor) -> Any:
        xp = self.backend
        grams = [xp.conj(xp.transpose(u)) @ v for u, v in zip(self._factors, other.factors)]
        projected = multi_mode_product(other.core, grams)
        return xp.sum(xp.conj(self._core) * projected)

    def mode_product(self, m: Any, mode: int) -> TuckerTensor:
        """``self ×_mode m``: the factor of `mode` becomes ``m @ U_mode``."""
        xp = backend_of(self, m)
        if not -self.ndim <= mode < self.ndim:
            raise ShapeError(f"TuckerTensor.mode_product: mode {mode} out of range")
        mode %= self.ndim
        if xp.ndim(m) != 2 or xp.shape(m)[1] != self.shape[mode]:
            raise ShapeError(f"TuckerTensor.mode_product: m must have shape (p, "
                             f"{self.shape[mode]}), got {xp.shape(m)}")
        factors = list(self._factors)
        factors[mode] = m @ factors[mode]
        return TuckerTensor._from(self._core, factors, xp)

    @host_eager
    def to_tt(self) -> Any:
        """Exact TTTensor: TT-SVD of the core, then each core's mode times its factor.

        Examples
        --------
        >>> import numpy as np
        >>> from tnlib import tucker
        >>> x = tucker.hosvd(np.random.default_rng(0).standard_normal((4, 5, 6)), ranks=2)
        >>> bool(np.allclose(x.to_tt().full(), x.full()))
        True
        """
        from ..tt import TTTensor, tt_svd
        from ..tt._scale import balanced, spread_pow2

        xp = self.backend
        # the core and factors at unit scale, their scale spread over the cores: a core
        # times a factor cannot overflow where the tensor's entries do not
        (core, *factors), exponent = balanced([self._core, *self._factors], xp, always=True)
        t = tt_svd(core, eps=0.0)
        cores = [xp.einsum("arb,nr->anb", c, f) for c, f in zip(t.cores, factors)]
        return TTTensor._from_cores(spread_pow2(cores, exponent, xp), xp)

    @host_eager
    def evaluate(self, idx: Any) -> Any:
        """Entries at integer multi-indices ``idx`` of shape ``(N, d)``."""
        from ..tt.algebra import _check_index

        xp = self.backend
        dev, _ = _check_index(idx, self.shape, xp, "TuckerTensor.evaluate")
        ranks = self.ranks
        t = xp.take(self._factors[0], dev[:, 0], axis=0) @ xp.reshape(self._core, (ranks[0], -1))
        for k in range(1, self.ndim):
            rows = xp.take(self._factors[k], dev[:, k], axis=0)  # (N, r_k)
            t = xp.sum(xp.reshape(t, (-1, ranks[k], math.prod(ranks[k + 1:]))) *
                       rows[:, :, None], axis=1)
        return xp.reshape(t, (-1,))

    def __mul__(self, c: Any) -> TuckerTensor:
        c = scalar_factor(c, self.backend, "TuckerTensor *", self._core, "TuckerTensor")
        return TuckerTensor._from(self._core * c, self._factors, self._backend)

    def __rmul__(self, c: Any) -> TuckerTensor:
        return self.__mul__(c)

    def __truediv__(self, c: Any) -> TuckerTensor:
        c = scalar_factor(c, self.backend, "TuckerTensor /", self._core, "TuckerTensor")
        return self * (1.0 / c)

    def __neg__(self) -> TuckerTensor:
        return self * -1.0

    def __add__(self, other: Any) -> TuckerTensor:
        """Exact sum: the cores on the block diagonal, the factors side by side (ranks
        add); :meth:`round` brings the ranks back down."""
        if not isinstance(other, TuckerTensor):
            raise ArgumentError(f"TuckerTensor +: expected a TuckerTensor, got "
                                f"{type(other).__name__}")
        xp = backend_of(self, other)
        if other.shape != self.shape:
            raise ShapeError(f"TuckerTensor +: shapes differ, {self.shape} and {other.shape}")
        dx, dy = xp.dtype_name(self._core), xp.dtype_name(other.core)
        if dx != dy:
            raise ArgumentError(f"TuckerTensor +: dtypes differ, {dx} and {dy}; convert one "
                                f"with .to(dtype=...)")
        core = _block_diagonal(self._core, other.core, xp)
        factors = [xp.concatenate([u, v], axis=1) for u, v in zip(self._factors, other.factors)]
        return TuckerTensor._from(core, factors, xp)

    def __sub__(self, other: Any) -> TuckerTensor:
        if not isinstance(other, TuckerTensor):
            raise ArgumentError(f"TuckerTensor -: expected a TuckerTensor, got "
                                f"{type(other).__name__}")
        return self + (-other)

    @host_eager
    def round(self, eps: float = 0.0, max_rank: Any = None) -> TuckerTensor:
        """Recompression to accuracy `eps` and/or at most `max_rank` per mode.

        Each factor is orthonormalized by a QR factorization (``U_k = Q_k R_k``), the
        small core ``core ×_k R_k`` is truncated by the sequentially truncated HOSVD
        (:func:`tnlib.tucker.hosvd`) and its factors are mapped back by ``Q_k``. Since
        the ``Q_k`` are orthonormal, ``‖x - y‖_F <= eps ‖x‖_F`` as for the HOSVD. Cost
        ``O(sum_k n_k r_k^2 + r^(d+1))``: the dense tensor is never formed.

        Parameters
        ----------
        eps : float
            Relative accuracy in the Frobenius norm (0: only `max_rank` truncates).
        max_rank : int or sequence of int, optional
            Upper bounds on the multilinear ranks.

        Examples
        --------
        >>> import numpy as np
        >>> from tnlib import tucker
        >>> x = tucker.hosvd(np.random.default_rng(0).standard_normal((5, 6, 7)), ranks=2)
        >>> y = (x + x).round(1e-10)
        >>> y.ranks, bool(np.allclose(y.full(), 2 * x.full()))
        ((2, 2, 2), True)
        """
        from .._validation import check_eps, check_finite, honour_eps
        from ..tt._scale import balanced, times_pow2
        from .hosvd import hosvd

        xp = self.backend
        where = "TuckerTensor.round"
        eps = honour_eps(check_eps(eps, where, ranks="max_rank"), xp, self._core, where)
        check_finite(self._core, xp, where, "the core")  # not the inner hosvd's "a"
        for k, u in enumerate(self._factors):
            check_finite(u, xp, where, f"factor {k}")
        qs, rs = zip(*(xp.qr(u) for u in self._factors))
        # the core and the R factors at unit size (their product cannot leave the range
        # where the tensor's entries do not), the scale put back on the new core
        (core, *rs), exponent = balanced([self._core, *rs], xp, always=True)
        small = hosvd(multi_mode_product(core, rs), eps=eps, ranks=max_rank)
        return TuckerTensor._from(times_pow2(small.core, exponent, xp),
                                  [q @ w for q, w in zip(qs, small.factors)], xp)


def _block_diagonal(a: Any, b: Any, xp: Backend) -> Any:
    """The tensor with `a` in its leading block, `b` in its trailing one, zeros elsewhere."""
    sa, sb = xp.shape(a), xp.shape(b)
    dt, dev = xp.dtype(a), xp.device(a)
    for k in range(len(sa)):
        # after mode k, both blocks span sa[k] + sb[k] along it
        pad_a = tuple(sa[j] + sb[j] if j < k else (sb[j] if j == k else sa[j])
                      for j in range(len(sa)))
        pad_b = tuple(sa[j] + sb[j] if j < k else (sa[j] if j == k else sb[j])
                      for j in range(len(sa)))
        a = xp.concatenate([a, xp.zeros(pad_a, dtype=dt, device=dev)], axis=k)
        b = xp.concatenate([xp.zeros(pad_b, dtype=dt, device=dev), b], axis=k)
    return a + b


def random(shape: Sequence[int], ranks: Any, seed: Any = None, dtype: Any = None,
           device: Any = None, backend: Any = None) -> TuckerTensor:
    """Random TuckerTensor with a standard Gaussian core and factors; one seed gives the
    same tensor on every backend.

    Parameters
    ----------
    shape : sequence of int
    ranks : int or sequence of int
        One rank for every mode (capped at the mode's size, as the rank of a mode cannot
        exceed it), or one per mode, used as given.
    seed : int or numpy Generator, optional
    dtype, device, backend : optional
        Defaults: float64 (float32 on JAX without x64), the framework's default device,
        the active default backend.

    Examples
    --------
    >>> from tnlib import tucker
    >>> x = tucker.random((3, 4, 5), 4, seed=0)
    >>> x.shape, x.ranks
    ((3, 4, 5), (3, 4, 4))
    """
    from .._validation import check_positive_int, check_shape, plain, rng_of
    from ..backends import resolve

    where = "tucker.random"
    shape = check_shape(shape, where)
    ranks = plain(ranks)
    if isinstance(ranks, Sequence) and not isinstance(ranks, str):
        if len(ranks) != len(shape):
            raise ShapeError(f"{where}: ranks must be an int or one per mode ({len(shape)}), "
                             f"got {ranks!r}")
        r = [check_positive_int(v, where, "ranks") for v in ranks]
    else:
        r = [min(check_positive_int(ranks, where, "ranks"), n) for n in shape]
    xp = resolve(backend)
    dtype, device = xp.placement(dtype, device, where)
    rng = rng_of(seed, where)
    core = xp.random_normal(tuple(r), seed=rng, dtype=dtype, device=device)
    factors = [xp.random_normal((n, k), seed=rng, dtype=dtype, device=device)
               for n, k in zip(shape, r)]
    return TuckerTensor._from(core, factors, xp)
