"""Keras 3 layers :class:`TTDense` and :class:`TTEmbedding`, written with ``keras.ops``
only: they run on every Keras backend (TensorFlow, JAX, PyTorch). Importing this module
imports keras.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from .._validation import check_option
from ..errors import ArgumentError, ShapeError
from ._embedding import TTEmbeddingSpec, lookup
from ._regression import TRLSpec
from ._spec import CONTRACTIONS, TTLayerSpec, apply_plan, dense_weight

__all__ = ["TRL", "TTDense", "TTEmbedding"]


@keras.saving.register_keras_serializable(package="tnlib")
class TTDense(keras.layers.Layer):
    """Dense layer ``y = activation(x W + b)`` whose weight is a TT-matrix.

    The same layer as :class:`tnlib.nn.torch.TTLinear`: cores
    ``(r_{k-1}, in_shape[k], out_shape[k], r_k)``, the contraction order chosen
    for the batch size by opt_einsum (256 rows are assumed while tracing with an
    unknown batch), initialization with the variance of the matching dense
    Glorot/He init. Weights: the cores, then the bias.

    Parameters
    ----------
    in_shape, out_shape : sequence of int
        Factorizations of the input and output sizes, one factor per core.
    ranks : int or sequence of int
    use_bias : bool
    activation : str or callable, optional
    init : {"glorot", "he"}
    contraction : {"auto", "chain", "halves", "dense", "sequential"}

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.nn.keras import TTDense
    >>> layer = TTDense((7, 4, 7, 4), (5, 5, 5, 5), ranks=4)
    >>> tuple(layer(np.zeros((2, 784), "float32")).shape)
    (2, 625)
    >>> layer.count_params()
    1725
    """

    def __init__(self, in_shape: Any, out_shape: Any, ranks: Any, use_bias: bool = True,
                 activation: Any = None, init: str = "glorot", contraction: str = "auto",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not keras.backend.is_float_dtype(self.variable_dtype):  # its cores are Gaussian
            raise ArgumentError(f"TTDense: dtype must be a floating-point dtype or policy, got "
                                f"{self.dtype_policy.name!r}")
        self.spec = TTLayerSpec(in_shape, out_shape, ranks, "TTDense")
        check_option(contraction, CONTRACTIONS, "TTDense", "contraction")
        self.std = self.spec.core_std(init)
        self.use_bias, self.init, self.contraction = bool(use_bias), init, contraction
        try:
            self.activation = keras.activations.get(activation)
        except ValueError as exc:
            raise ArgumentError(f"TTDense: activation {activation!r} is not a Keras activation "
                                f"({exc})") from None

    def build(self, input_shape: Any) -> None:
        if not isinstance(input_shape, (tuple, list)) or not input_shape:
            raise ArgumentError(f"TTDense: input must be a tensor of shape (..., "
                                f"{self.spec.in_features}), got input shape {input_shape!r}")
        if input_shape[-1] is not None and input_shape[-1] != self.spec.in_features:
            raise ShapeError(f"TTDense: input has shape {tuple(input_shape)}, expected (..., "
                             f"{self.spec.in_features}) for in_shape {self.spec.in_shape}")
        init = keras.initializers.RandomNormal(stddev=self.std)
        self.cores = [self.add_weight(shape=s, initializer=init, name=f"core_{k}")
                      for k, s in enumerate(self.spec.core_shapes)]
        self.bias = self.add_weight(shape=(self.spec.out_features,), initializer="zeros",
                                    name="bias") if self.use_bias else None

    def call(self, x: Any) -> Any:
        spec = self.spec
        if not hasattr(x, "shape"):
            raise ArgumentError(f"TTDense: input must be a tensor, got {type(x).__name__}")
        if tuple(x.shape[-1:]) not in ((spec.in_features,), (None,)):  # a built layer
            # meets a new input size in call only: say so before the reshape fails
            raise ShapeError(f"TTDense: input has shape {tuple(x.shape)}, expected (..., "
                             f"{spec.in_features}) for in_shape {spec.in_shape}")
        lead = tuple(x.shape[1:-1])
        x2 = ops.reshape(x, (-1, spec.in_features))
        plan = spec.plan(x2.shape[0], self.contraction)
        y = apply_plan(plan, spec, x2, [ops.convert_to_tensor(c) for c in self.cores],
                       ops.einsum, ops.reshape, ops.matmul)
        if self.bias is not None:
            y = y + self.bias
        if self.activation is not None:
            y = self.activation(y)
        if len(x.shape) == 1:  # one sample without a batch axis, as keras.ops.matmul takes it
            return ops.reshape(y, (spec.out_features,))
        return ops.reshape(y, (-1,) + lead + (spec.out_features,)) if lead else y

    def weight(self) -> Any:
        """The dense ``(in_features, out_features)`` weight."""
        return dense_weight(self.spec, [ops.convert_to_tensor(c) for c in self.cores],
                            ops.einsum, ops.reshape)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape[:-1]) + (self.spec.out_features,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"in_shape": list(self.spec.in_shape),
                       "out_shape": list(self.spec.out_shape),
                       "ranks": list(self.spec.ranks), "use_bias": self.use_bias,
                       "activation": keras.activations.serialize(self.activation),
                       "init": self.init, "contraction": self.contraction})
        return config


@keras.saving.register_keras_serializable(package="tnlib")
class TTEmbedding(keras.layers.Layer):
    """Embedding layer whose ``(input_dim, output_dim)`` table is a TT-matrix.

    The same layer as :class:`tnlib.nn.torch.TTEmbedding` (cores
    ``(r_{k-1}, voc_shape[k], emb_shape[k], r_k)``; each index gathers one slice per core
    and contracts them, the table is never formed), called like
    ``keras.layers.Embedding``: integer indices of any shape give ``(..., output_dim)``.
    Indices out of range give NaN rows (checking them would need their values, which a
    traced ``fit`` step does not have).

    Parameters
    ----------
    input_dim, output_dim : int
        The vocabulary size and the embedding width.
    ranks : int or sequence of int
    voc_shape, emb_shape : sequence of int, optional
        Factorizations of the rows (product ``>= input_dim``) and of `output_dim`.
    mask_zero : bool
        As for ``keras.layers.Embedding``: index 0 is padding, masked downstream.
    std : float
        The standard deviation of the table's entries at initialization (the default is
        that of ``keras.layers.Embedding``'s ``uniform(-0.05, 0.05)``).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.nn.keras import TTEmbedding
    >>> layer = TTEmbedding(10000, 64, ranks=16)
    >>> tuple(layer(np.array([[1, 2, 3], [9999, 0, 5]])).shape)
    (2, 3, 64)
    >>> layer.count_params()
    25280
    """

    def __init__(self, input_dim: int, output_dim: int, ranks: Any, voc_shape: Any = None,
                 emb_shape: Any = None, mask_zero: bool = False, std: float = 0.029,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not keras.backend.is_float_dtype(self.variable_dtype):
            raise ArgumentError(f"TTEmbedding: dtype must be a floating-point dtype or "
                                f"policy, got {self.dtype_policy.name!r}")
        self.spec = TTEmbeddingSpec(input_dim, output_dim, ranks, voc_shape, emb_shape)
        self.core_std, self.std = self.spec.core_std(std), float(std)
        self.mask_zero = bool(mask_zero)
        init = keras.initializers.RandomNormal(stddev=self.core_std)
        self.cores = [self.add_weight(shape=s, initializer=init, name=f"core_{k}")
                      for k, s in enumerate(self.spec.core_shapes)]
        self.built = True

    def call(self, idx: Any) -> Any:
        spec = self.spec
        if not hasattr(idx, "shape"):
            idx = ops.convert_to_tensor(idx)
        if not keras.backend.is_int_dtype(keras.backend.standardize_dtype(idx.dtype)):
            raise ArgumentError(f"TTEmbedding: indices must be integers, got dtype "
                                f"{keras.backend.standardize_dtype(idx.dtype)}")
        flat = ops.reshape(ops.cast(idx, "int32"), (-1,))
        inside = ops.logical_and(flat >= 0, flat < spec.num_embeddings)
        safe = ops.where(inside, flat, ops.zeros_like(flat))
        rows = lookup(spec, safe, [ops.convert_to_tensor(c) for c in self.cores], _take_rows,
                      ops.einsum, ops.reshape)
        rows = ops.where(ops.expand_dims(inside, 1), rows, ops.full_like(rows, float("nan")))
        return ops.reshape(rows, tuple(-1 if n is None else n for n in idx.shape)
                           + (spec.embedding_dim,))

    def compute_mask(self, idx: Any, mask: Any = None) -> Any:
        return ops.not_equal(idx, 0) if self.mask_zero else None

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape) + (self.spec.embedding_dim,)

    def weight(self) -> Any:
        """The dense ``(input_dim, output_dim)`` table."""
        return self(ops.arange(self.spec.num_embeddings))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"input_dim": self.spec.num_embeddings,
                       "output_dim": self.spec.embedding_dim, "ranks": list(self.spec.ranks),
                       "voc_shape": list(self.spec.voc_shape),
                       "emb_shape": list(self.spec.emb_shape), "mask_zero": self.mask_zero,
                       "std": self.std})
        return config


def _take_rows(core: Any, digits: Any) -> Any:
    return ops.take(ops.transpose(core, (1, 0, 2, 3)), digits, axis=0)


@keras.saving.register_keras_serializable(package="tnlib")
class TRL(keras.layers.Layer):
    """Tensor regression layer: ``y = <x, W> + b`` with a low-rank (Tucker, CP or TT)
    weight ``W`` of shape ``input_shape + output_shape``, on any Keras backend.

    The same layer as :class:`tnlib.nn.torch.TRL` (the weight as a product of two
    matrices, or the activation contracted with its factors: whichever costs less).
    Weights: the factors (or cores), then the bias.

    Parameters
    ----------
    input_shape : sequence of int
        The activation's shape without the batch.
    output_shape : int or sequence of int
    rank : int or sequence of int
    factorization : {"tucker", "cp", "tt"}
    use_bias : bool

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.nn.keras import TRL
    >>> layer = TRL((64, 8, 8), 10, rank=(16, 4, 4, 10))
    >>> tuple(layer(np.zeros((32, 64, 8, 8), "float32")).shape), layer.count_params()
    ((32, 10), 3758)
    """

    def __init__(self, input_shape: Any, output_shape: Any, rank: Any,
                 factorization: str = "tucker", use_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = TRLSpec(input_shape, output_shape, rank, factorization)
        self.use_bias = bool(use_bias)
        self.factors = [
            self.add_weight(shape=s, initializer=keras.initializers.RandomNormal(stddev=std),
                            name=f"factor_{k}")
            for k, (s, std) in enumerate(zip(self.spec.parameter_shapes(), self.spec.stds()))]
        self.bias = self.add_weight(shape=self.spec.output_shape, initializer="zeros",
                                    name="bias") if self.use_bias else None
        self.built = True

    def call(self, x: Any) -> Any:
        if not hasattr(x, "shape"):
            x = ops.convert_to_tensor(x)
        self.spec.check_input(tuple(x.shape))
        y = self.spec.forward(x, [ops.convert_to_tensor(f) for f in self.factors], ops.einsum,
                              ops.reshape, ops.transpose)
        return y if self.bias is None else y + self.bias

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0],) + self.spec.output_shape

    def full_weight(self) -> Any:
        """The dense ``input_shape + output_shape`` weight."""
        return ops.einsum(self.spec.dense_equation(), *self.factors)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"input_shape": list(self.spec.input_shape),
                       "output_shape": list(self.spec.output_shape),
                       "rank": list(self.spec.ranks),
                       "factorization": self.spec.factorization, "use_bias": self.use_bias})
        return config
