"""Keras 3 layer :class:`TTDense`, written with ``keras.ops`` only: it runs on every Keras
backend (TensorFlow, JAX, PyTorch). Importing this module imports keras.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from ..errors import ArgumentError, ShapeError
from ._spec import CONTRACTIONS, TTLayerSpec, apply_plan, dense_weight

__all__ = ["TTDense"]


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
        if contraction not in CONTRACTIONS:
            raise ArgumentError(f"TTDense: contraction must be one of {CONTRACTIONS}, "
                                f"got {contraction!r}")
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
