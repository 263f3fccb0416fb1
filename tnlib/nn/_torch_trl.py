"""The PyTorch tensor regression layer: parameters held by torch, one ``torch.einsum``."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._regression import TRLSpec
from ._torch_linear import factory_kwargs


def _reshape(a: torch.Tensor, shape: tuple) -> torch.Tensor:
    return a.reshape(shape)


class TRL(nn.Module):
    """Tensor regression layer: ``y = <x, W> + b`` with a low-rank (Tucker, CP or TT)
    regression weight ``W`` of shape ``input_shape + output_shape``.

    It replaces flattening and a fully connected layer at the end of a network: the
    activation keeps its modes (channels, height, width) and the weight's factors act on
    each. Small weights with large batches (a CNN's head) are applied as a product of two
    matrices built from the factors (for Tucker, the dense weight); large activations are
    contracted with the factors, ``W`` never formed -- whichever costs less
    (:mod:`tnlib.nn._regression`).

    Parameters
    ----------
    input_shape : sequence of int
        The activation's shape without the batch, e.g. ``(channels, height, width)``.
    output_shape : int or sequence of int
    rank : int or sequence of int
        Tucker: per mode of ``W`` (input modes, then output modes), or one for all; CP: the
        number of components; TT: the bond ranks (one fewer than the modes of ``W``), or
        one for all. Ranks above what a mode (or unfolding) allows are clipped.
    factorization : {"tucker", "cp", "tt"}, optional
    bias : bool, optional
    device, dtype : optional

    Examples
    --------
    >>> import torch
    >>> from tnlib.nn.torch import TRL
    >>> layer = TRL((64, 8, 8), 10, rank=(16, 4, 4, 10))
    >>> layer(torch.randn(32, 64, 8, 8)).shape
    torch.Size([32, 10])
    >>> sum(p.numel() for p in layer.parameters())    # a dense layer: 40,970
    3758

    References
    ----------
    J. Kossaifi, Z. C. Lipton, A. Kolbeinsson, A. Khanna, T. Furlanello, A. Anandkumar,
    "Tensor regression networks", JMLR 21 (2020).
    """

    def __init__(self, input_shape: Any, output_shape: Any, rank: Any,
                 factorization: str = "tucker", bias: bool = True, *, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.spec = TRLSpec(input_shape, output_shape, rank, factorization)
        kw = factory_kwargs(device, dtype, "TRL")
        self.factors = nn.ParameterList(
            [nn.Parameter(torch.randn(s, **kw) * std)
             for s, std in zip(self.spec.parameter_shapes(), self.spec.stds())])
        self.bias = nn.Parameter(torch.zeros(self.spec.output_shape, **kw)) if bias else None

    input_shape = property(lambda self: self.spec.input_shape)
    output_shape = property(lambda self: self.spec.output_shape)
    rank = property(lambda self: self.spec.ranks)
    factorization = property(lambda self: self.spec.factorization)

    def extra_repr(self) -> str:
        return f"{self.spec!r}, bias={self.bias is not None}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.spec.check_input(tuple(x.shape))
        y = self.spec.forward(x, list(self.factors), torch.einsum, _reshape, torch.t)
        return y if self.bias is None else y + self.bias

    def full_weight(self) -> torch.Tensor:
        """The dense ``input_shape + output_shape`` weight (for checks and export)."""
        return torch.einsum(self.spec.dense_equation(), *self.factors)
