"""The PyTorch tensor regression layer: parameters held by torch, one ``torch.einsum``."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .._validation import check_eps, check_shape
from ..errors import ArgumentError, ShapeError
from ._regression import TRLSpec
from ._torch_linear import factory_kwargs, to_factorize


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

    @classmethod
    def from_linear(cls, linear: nn.Linear, input_shape: Any, rank: Any = None,
                    factorization: str = "tucker", eps: float | None = None) -> TRL:
        """A TRL from a trained ``nn.Linear`` on the flattened activation, by decomposing
        its weight reshaped to ``input_shape + (out_features,)``: truncated HOSVD
        (Tucker), TT-SVD (TT) or CP-ALS (CP, `rank` required).

        Parameters
        ----------
        linear : nn.Linear
            With ``in_features == prod(input_shape)`` (the activation flattened in C order,
            as ``nn.Flatten`` does).
        input_shape : sequence of int
        rank : int or sequence of int, optional
            Bounds on the ranks (Tucker, TT) or the CP rank.
        factorization : {"tucker", "cp", "tt"}
        eps : float, optional
            Relative accuracy of the weight for Tucker and TT (with `rank`, the stricter
            wins); with neither, the weight is kept to four units of its dtype's roundoff.

        Examples
        --------
        >>> import torch
        >>> from tnlib.nn.torch import TRL
        >>> head = torch.nn.Linear(64 * 8 * 8, 10)
        >>> trl = TRL.from_linear(head, (64, 8, 8), rank=(16, 4, 4, 10))
        >>> trl.rank, trl(torch.randn(2, 64, 8, 8)).shape
        ((16, 4, 4, 10), torch.Size([2, 10]))
        """
        from .. import cp, tt, tucker

        where = "TRL.from_linear"
        if not isinstance(linear, nn.Linear):
            raise ArgumentError(f"{where}: linear must be a torch.nn.Linear, got "
                                f"{type(linear).__name__}")
        shape = check_shape(input_shape, where, "input_shape")
        if math.prod(shape) != linear.in_features:
            raise ShapeError(f"{where}: input_shape {shape} has {math.prod(shape)} entries, "
                             f"the layer takes {linear.in_features}")
        w = to_factorize(linear.weight.detach(), where)
        weight = w.T.reshape(shape + (linear.out_features,))
        if eps is None:
            eps = 4 * torch.finfo(w.dtype).eps
        eps = check_eps(eps, where)
        spec = TRLSpec(shape, linear.out_features, 1 if rank is None else rank,
                       factorization, where)
        bound = None if rank is None else spec.ranks
        if factorization == "tucker":
            x = tucker.hosvd(weight, eps=eps, ranks=bound)
            params, ranks = [*x.factors, x.core], x.ranks
        elif factorization == "tt":
            x = tt.tt_svd(weight, eps=eps, max_rank=None if bound is None else list(bound))
            params, ranks = list(x.cores), x.ranks[1:-1]
        else:
            if rank is None:
                raise ArgumentError(f"{where}: factorization='cp' needs rank")
            x = cp.cp_als(weight, spec.ranks[0], tol=1e-10, max_iter=500)
            params = [x.factors[0] * x.weights[None, :], *x.factors[1:]]
            ranks = spec.ranks[0]
        layer = cls(shape, linear.out_features, ranks, factorization,
                    bias=linear.bias is not None, device=w.device,
                    dtype=linear.weight.dtype)
        with torch.no_grad():
            for p, v in zip(layer.factors, params):
                p.copy_(v)
            if linear.bias is not None:
                layer.bias.copy_(linear.bias)
        return layer
