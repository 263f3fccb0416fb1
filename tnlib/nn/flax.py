"""Flax layers :class:`TTDense` (NNX) and :class:`TTDenseLinen` (Linen).

Importing this module imports flax and jax.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import linen, nnx

from ..errors import ArgumentError, ShapeError
from ._spec import CONTRACTIONS, TTLayerSpec, apply_plan, dense_weight

__all__ = ["TTDense", "TTDenseLinen"]


def _apply(spec: TTLayerSpec, contraction: str, x: Any, cores: list, bias: Any,
           dtype: Any = None) -> Any:
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise ArgumentError(f"TTDense: input must be an array, got {type(x).__name__}")
    if dtype is not None:  # the computation's dtype (bfloat16 on float32 parameters, say)
        x, bias = jnp.asarray(x, dtype), None if bias is None else jnp.asarray(bias, dtype)
        cores = [jnp.asarray(c, dtype) for c in cores]
    if x.shape[-1:] != (spec.in_features,):
        raise ShapeError(f"TTDense: input has shape {tuple(x.shape)}, expected (..., "
                         f"{spec.in_features}) for in_shape {spec.in_shape}")
    x2 = jnp.reshape(x, (-1, spec.in_features))
    plan = spec.plan(x2.shape[0], contraction)
    y = apply_plan(plan, spec, x2, cores, jnp.einsum, jnp.reshape, jnp.matmul)
    if bias is not None:
        y = y + bias
    return jnp.reshape(y, x.shape[:-1] + (spec.out_features,))


def _check_contraction(contraction: str) -> str:
    if contraction not in CONTRACTIONS:
        raise ArgumentError(f"TTDense: contraction must be one of {CONTRACTIONS}, "
                            f"got {contraction!r}")
    return contraction


def _check_param_dtype(param_dtype: Any, name: str = "param_dtype") -> None:
    try:
        ok = jnp.issubdtype(jnp.dtype(param_dtype), jnp.inexact)
    except TypeError:
        ok = False
    if not ok:
        raise ArgumentError(f"TTDense: {name} must be a floating-point or complex dtype, "
                            f"got {param_dtype!r}")


class TTDense(nnx.Module):
    """Flax NNX dense layer ``y = x W + b`` whose weight is a TT-matrix.

    The same layer as :class:`tnlib.nn.torch.TTLinear` (cores
    ``(r_{k-1}, in_shape[k], out_shape[k], r_k)``, contraction order per batch
    size, Glorot/He-matched initialization). Parameters: ``cores``, then ``bias``.

    Parameters
    ----------
    in_shape, out_shape : sequence of int
    ranks : int or sequence of int
    use_bias : bool
    init : {"glorot", "he"}
    contraction : {"auto", "chain", "halves", "dense", "sequential"}
    dtype : dtype, optional
        The dtype of the computation (input, cores and bias are cast to it), as in
        ``nnx.Linear``; None: the promoted dtype of the input and the parameters.
    param_dtype : dtype
    rngs : nnx.Rngs

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> from tnlib.nn.flax import TTDense
    >>> layer = TTDense((7, 4, 7, 4), (5, 5, 5, 5), ranks=4, rngs=nnx.Rngs(0))
    >>> layer(jnp.zeros((2, 784))).shape
    (2, 625)
    """

    def __init__(self, in_shape: Any, out_shape: Any, ranks: Any, use_bias: bool = True, *,
                 init: str = "glorot", contraction: str = "auto",
                 dtype: Any = None, param_dtype: Any = jnp.float32, rngs: nnx.Rngs) -> None:
        self.spec = TTLayerSpec(in_shape, out_shape, ranks, "TTDense")
        self.contraction = _check_contraction(contraction)
        if not isinstance(rngs, nnx.Rngs):
            raise ArgumentError(f"TTDense: rngs must be an nnx.Rngs, got {type(rngs).__name__}")
        _check_param_dtype(param_dtype)
        if dtype is not None:
            _check_param_dtype(dtype, "dtype")
        self.dtype = dtype
        std = self.spec.core_std(init)
        self.cores = nnx.List([nnx.Param(std * jax.random.normal(rngs.params(), s, param_dtype))
                               for s in self.spec.core_shapes])
        self.bias = nnx.Param(jnp.zeros((self.spec.out_features,), param_dtype)) if use_bias \
            else None

    def __call__(self, x: Any) -> Any:
        bias = None if self.bias is None else self.bias[...]
        return _apply(self.spec, self.contraction, x, [c[...] for c in self.cores], bias,
                      self.dtype)

    def weight(self) -> Any:
        """The dense ``(in_features, out_features)`` weight."""
        return dense_weight(self.spec, [c[...] for c in self.cores], jnp.einsum, jnp.reshape)


class TTDenseLinen(linen.Module):
    """The same layer as a Flax Linen module (parameters ``core_0 .. core_{d-1}``, ``bias``).

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from tnlib.nn.flax import TTDenseLinen
    >>> m = TTDenseLinen((4, 4), (2, 8), ranks=2)
    >>> params = m.init(jax.random.key(0), jnp.ones((3, 16)))
    >>> m.apply(params, jnp.ones((3, 16))).shape
    (3, 16)
    """

    in_shape: Any
    out_shape: Any
    ranks: Any
    use_bias: bool = True
    init_kind: str = "glorot"
    contraction: str = "auto"
    dtype: Any = None
    param_dtype: Any = jnp.float32

    @linen.compact
    def __call__(self, x: Any) -> Any:
        spec = TTLayerSpec(self.in_shape, self.out_shape, self.ranks, "TTDense")
        _check_param_dtype(self.param_dtype)
        if self.dtype is not None:
            _check_param_dtype(self.dtype, "dtype")
        std = spec.core_std(self.init_kind)
        cores = [self.param(f"core_{k}", lambda key, s: std * jax.random.normal(
            key, s, self.param_dtype), s) for k, s in enumerate(spec.core_shapes)]
        bias = self.param("bias", linen.initializers.zeros, (spec.out_features,),
                          self.param_dtype) if self.use_bias else None
        return _apply(spec, _check_contraction(self.contraction), x, cores, bias, self.dtype)
