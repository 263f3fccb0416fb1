"""Flax layers :class:`TTDense` and :class:`TTEmbed` (NNX), :class:`TTDenseLinen` (Linen).

Importing this module imports flax and jax.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import linen, nnx

from .._validation import check_option
from ..errors import ArgumentError, ShapeError
from ._embedding import TTEmbeddingSpec, lookup
from ._regression import TRLSpec
from ._spec import CONTRACTIONS, TTLayerSpec, apply_plan, dense_weight

__all__ = ["TRL", "TTDense", "TTDenseLinen", "TTEmbed"]


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
    return check_option(contraction, CONTRACTIONS, "TTDense", "contraction")


def _check_param_dtype(param_dtype: Any, name: str = "param_dtype",
                       where: str = "TTDense") -> None:
    try:
        ok = jnp.issubdtype(jnp.dtype(param_dtype), jnp.inexact)
    except TypeError:
        ok = False
    if not ok:
        raise ArgumentError(f"{where}: {name} must be a floating-point or complex dtype, "
                            f"got {param_dtype!r}")


def _check_nnx(rngs: Any, param_dtype: Any, dtype: Any, where: str) -> None:
    """The arguments every NNX layer takes: an ``nnx.Rngs``, a floating-point or complex
    parameter dtype and computation dtype (None: promoted)."""
    if not isinstance(rngs, nnx.Rngs):
        raise ArgumentError(f"{where}: rngs must be an nnx.Rngs, got {type(rngs).__name__}")
    _check_param_dtype(param_dtype, where=where)
    if dtype is not None:
        _check_param_dtype(dtype, "dtype", where)


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
        _check_nnx(rngs, param_dtype, dtype, "TTDense")
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


class TTEmbed(nnx.Module):
    """Flax NNX embedding whose ``(num_embeddings, features)`` table is a TT-matrix.

    The same layer as :class:`tnlib.nn.torch.TTEmbedding` (each index gathers one slice
    per core and contracts them; the table is never formed), called like ``nnx.Embed``:
    integer indices of any shape give ``(..., features)``; indices out of range give NaN
    rows, as ``nnx.Embed``'s do. Parameters: ``cores``.

    Parameters
    ----------
    num_embeddings, features : int
    ranks : int or sequence of int
    voc_shape, emb_shape : sequence of int, optional
        Factorizations of the rows (product ``>= num_embeddings``) and of `features`.
    std : float, optional
        Standard deviation of the table's entries at initialization; default
        ``features ** -0.5``, ``nnx.Embed``'s.
    dtype : dtype, optional
        The dtype of the computation (the cores are cast to it).
    param_dtype : dtype
    rngs : nnx.Rngs

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> from tnlib.nn.flax import TTEmbed
    >>> layer = TTEmbed(10000, 64, ranks=16, rngs=nnx.Rngs(0))
    >>> layer(jnp.array([[1, 2, 3], [9999, 0, 5]])).shape
    (2, 3, 64)
    """

    def __init__(self, num_embeddings: int, features: int, ranks: Any, *,
                 voc_shape: Any = None, emb_shape: Any = None, std: float | None = None,
                 dtype: Any = None, param_dtype: Any = jnp.float32, rngs: nnx.Rngs) -> None:
        self.spec = TTEmbeddingSpec(num_embeddings, features, ranks, voc_shape, emb_shape,
                                    "TTEmbed")
        _check_nnx(rngs, param_dtype, dtype, "TTEmbed")
        self.dtype = dtype
        scale = self.spec.core_std(self.spec.embedding_dim ** -0.5 if std is None else std)
        self.cores = nnx.List([nnx.Param(scale * jax.random.normal(rngs.params(), s,
                                                                   param_dtype))
                               for s in self.spec.core_shapes])

    def __call__(self, idx: Any) -> Any:
        spec = self.spec
        idx = jnp.asarray(idx)
        if not jnp.issubdtype(idx.dtype, jnp.integer):
            raise ArgumentError(f"TTEmbed: indices must be integers, got dtype {idx.dtype}")
        cores = [c[...] for c in self.cores]
        if self.dtype is not None:
            cores = [jnp.asarray(c, self.dtype) for c in cores]
        flat = jnp.reshape(idx, (-1,))
        inside = (flat >= 0) & (flat < spec.num_embeddings)
        rows = lookup(spec, jnp.where(inside, flat, 0), cores, _take_rows, jnp.einsum,
                      jnp.reshape)
        rows = jnp.where(inside[:, None], rows, jnp.nan)
        return jnp.reshape(rows, idx.shape + (spec.embedding_dim,))

    def weight(self) -> Any:
        """The dense ``(num_embeddings, features)`` table."""
        return self(jnp.arange(self.spec.num_embeddings))


def _take_rows(core: Any, digits: Any) -> Any:
    return jnp.take(jnp.transpose(core, (1, 0, 2, 3)), digits, axis=0)


class TRL(nnx.Module):
    """Flax NNX tensor regression layer: ``y = <x, W> + b`` with a low-rank (Tucker, CP or
    TT) weight ``W`` of shape ``input_shape + output_shape``.

    The same layer as :class:`tnlib.nn.torch.TRL` (the weight as a product of two
    matrices, or the activation contracted with its factors: whichever costs less).
    Parameters: ``factors``, then ``bias``.

    Parameters
    ----------
    input_shape : sequence of int
    output_shape : int or sequence of int
    rank : int or sequence of int
    factorization : {"tucker", "cp", "tt"}
    use_bias : bool
    dtype : dtype, optional
        The dtype of the computation.
    param_dtype : dtype
    rngs : nnx.Rngs

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> from tnlib.nn.flax import TRL
    >>> layer = TRL((64, 8, 8), 10, rank=(16, 4, 4, 10), rngs=nnx.Rngs(0))
    >>> layer(jnp.zeros((32, 64, 8, 8))).shape
    (32, 10)
    """

    def __init__(self, input_shape: Any, output_shape: Any, rank: Any,
                 factorization: str = "tucker", use_bias: bool = True, *, dtype: Any = None,
                 param_dtype: Any = jnp.float32, rngs: nnx.Rngs) -> None:
        self.spec = TRLSpec(input_shape, output_shape, rank, factorization)
        _check_nnx(rngs, param_dtype, dtype, "TRL")
        self.dtype = dtype
        self.factors = nnx.List([
            nnx.Param(std * jax.random.normal(rngs.params(), s, param_dtype))
            for s, std in zip(self.spec.parameter_shapes(), self.spec.stds())])
        self.bias = nnx.Param(jnp.zeros(self.spec.output_shape, param_dtype)) if use_bias \
            else None

    def __call__(self, x: Any) -> Any:
        x = jnp.asarray(x)
        self.spec.check_input(tuple(x.shape))
        factors = [f[...] for f in self.factors]
        if self.dtype is not None:
            x, factors = jnp.asarray(x, self.dtype), [jnp.asarray(f, self.dtype)
                                                      for f in factors]
        y = self.spec.forward(x, factors, jnp.einsum, jnp.reshape, jnp.transpose)
        if self.bias is None:
            return y
        return y + (self.bias[...] if self.dtype is None else jnp.asarray(self.bias[...],
                                                                          self.dtype))

    def full_weight(self) -> Any:
        """The dense ``input_shape + output_shape`` weight."""
        return jnp.einsum(self.spec.dense_equation(), *[f[...] for f in self.factors])
