"""The PyTorch TT layer: parameters held by torch, plans run with ``torch.einsum``/``matmul``."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .. import backends
from .._validation import check_eps, check_finite, check_max_rank, check_option
from ..errors import ArgumentError, ShapeError
from ..tt import TTMatrix, tt_matrix
from ._spec import CONTRACTIONS, TTLayerSpec, apply_plan, auto_shapes, dense_weight


def _reshape(a: torch.Tensor, shape: tuple) -> torch.Tensor:
    return a.reshape(shape)


class TTLinear(nn.Module):
    """Fully connected layer ``y = x W + b`` whose weight is a TT-matrix (TensorNet).

    ``W`` has shape ``(prod(in_shape), prod(out_shape))`` and cores
    ``(r_{k-1}, in_shape[k], out_shape[k], r_k)``, the layout of
    :class:`tnlib.tt.TTMatrix`. The forward pass contracts the input with the
    cores in the order opt_einsum finds cheapest for the batch size at hand, or
    builds the dense ``W`` when that costs less (e.g. small layers with large
    ranks). Without gradients (``torch.no_grad``, inference) the dense weight is
    built once and kept until a core changes, when that is cheaper per call.

    Parameters
    ----------
    in_shape, out_shape : sequence of int
        Factorizations of ``in_features`` and ``out_features``, one factor per core.
    ranks : int or sequence of int
        TT-ranks: one for every bond, ``d - 1`` bond ranks, or ``(1, r_1, ..., 1)``.
    bias : bool
        Learn an additive bias (initialized to zero).
    init : {"glorot", "he"}
        Core entries are i.i.d. normal with the variance that gives ``W`` the
        variance of the matching dense initialization, ``2 / (fan_in + fan_out)``
        or ``2 / fan_in``.
    contraction : {"auto", "chain", "halves", "dense", "sequential"}
        Force a contraction route (all compute the same function).
    device, dtype : optional
        As for ``nn.Linear``.

    Examples
    --------
    >>> import torch
    >>> from tnlib.nn.torch import TTLinear
    >>> layer = TTLinear((7, 4, 7, 4), (5, 5, 5, 5), ranks=4)
    >>> sum(p.numel() for p in layer.parameters())
    1725
    >>> layer(torch.randn(32, 784)).shape
    torch.Size([32, 625])

    References
    ----------
    A. Novikov, D. Podoprikhin, A. Osokin, D. Vetrov, "Tensorizing neural
    networks", NeurIPS 2015.
    """

    def __init__(self, in_shape: Any, out_shape: Any, ranks: Any, bias: bool = True, *,
                 init: str = "glorot", contraction: str = "auto", device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.spec = TTLayerSpec(in_shape, out_shape, ranks, "TTLinear")
        self.contraction = check_option(contraction, CONTRACTIONS, "TTLinear", "contraction")
        std = self.spec.core_std(init)
        kw = factory_kwargs(device, dtype, "TTLinear")
        self.cores = nn.ParameterList(
            [nn.Parameter(torch.randn(s, **kw) * std) for s in self.spec.core_shapes])
        if bias:
            self.bias = nn.Parameter(torch.zeros(self.spec.out_features, **kw))
        else:
            self.register_parameter("bias", None)
        self._cache: tuple | None = None  # (key, dense W) for gradient-free calls

    in_features = property(lambda self: self.spec.in_features)
    out_features = property(lambda self: self.spec.out_features)
    in_shape = property(lambda self: self.spec.in_shape)
    out_shape = property(lambda self: self.spec.out_shape)
    ranks = property(lambda self: self.spec.ranks)

    def extra_repr(self) -> str:
        return (f"in_shape={self.spec.in_shape}, out_shape={self.spec.out_shape}, "
                f"ranks={self.spec.ranks}, bias={self.bias is not None}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spec = self.spec
        if not isinstance(x, torch.Tensor):
            raise ArgumentError(f"TTLinear: input must be a torch.Tensor, got {type(x).__name__}")
        if x.shape[-1:] != (spec.in_features,):
            raise ShapeError(f"TTLinear: input has shape {tuple(x.shape)}, expected (..., "
                             f"{spec.in_features}) for in_shape {spec.in_shape}")
        dtype = self.cores[0].dtype
        if x.dtype != dtype and not torch.is_autocast_enabled(x.device.type):
            raise ArgumentError(f"TTLinear: input has dtype {x.dtype}, the layer {dtype}; convert "
                                f"one of them (x.to({dtype}) or layer.to({x.dtype}))")
        lead = x.shape[:-1]
        x2 = x.reshape(-1, spec.in_features)
        cores = list(self.cores)
        grad_free = not (torch.is_grad_enabled() and any(c.requires_grad for c in cores))
        plan = spec.plan(x2.shape[0], self.contraction, dense_cached=grad_free)
        weight = self._cached_weight(cores) if grad_free and plan.route == "dense" else None
        y = apply_plan(plan, spec, x2, cores, torch.einsum, _reshape, torch.matmul, weight)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(lead + (spec.out_features,))

    def _cached_weight(self, cores: list) -> torch.Tensor:
        key = tuple((c.data_ptr(), c._version, c.dtype, c.device) for c in cores)
        if self._cache is None or self._cache[0] != key:
            with torch.no_grad():
                self._cache = (key, dense_weight(self.spec, cores, torch.einsum, _reshape))
        return self._cache[1]

    def weight(self) -> torch.Tensor:
        """The dense ``(in_features, out_features)`` weight (differentiable)."""
        return dense_weight(self.spec, list(self.cores), torch.einsum, _reshape)

    def to_tt_matrix(self) -> TTMatrix:
        """The weight as a :class:`tnlib.tt.TTMatrix` on the torch backend (sharing the cores)."""
        return TTMatrix(list(self.cores))

    @classmethod
    def from_linear(cls, linear: nn.Linear, ranks: Any = None, eps: float | None = None, *,
                    in_shape: Any = None, out_shape: Any = None) -> TTLinear:
        """A TT layer from a trained ``nn.Linear`` by TT-SVD of its weight.

        Parameters
        ----------
        linear : nn.Linear
        ranks : int or sequence of int, optional
            Upper bounds on the TT-ranks.
        eps : float, optional
            Relative Frobenius accuracy of the weight, ``‖W - W_tt‖ <= eps ‖W‖``.
            With neither `ranks` nor `eps`, the weight is kept to four units of its
            dtype's roundoff.
        in_shape, out_shape : sequence of int, optional
            Factorizations of the sizes; by default chosen with modes of about
            4-8 (:func:`tnlib.nn._spec.auto_shapes`).

        Examples
        --------
        >>> import torch
        >>> from tnlib.nn.torch import TTLinear
        >>> dense = torch.nn.Linear(64, 256)
        >>> layer = TTLinear.from_linear(dense, ranks=4)
        >>> layer.in_shape, layer.out_shape, layer.ranks
        ((4, 4, 4), (8, 8, 4), (1, 4, 4, 1))
        >>> TTLinear.from_linear(dense, eps=0.5, in_shape=(8, 8), out_shape=(16, 16)).ranks[1] < 64
        True
        """
        if not isinstance(linear, nn.Linear):
            raise ArgumentError(f"TTLinear.from_linear: linear must be a torch.nn.Linear, got "
                                f"{type(linear).__name__}")
        n_in, n_out = linear.in_features, linear.out_features
        if in_shape is None or out_shape is None:
            auto_in, auto_out = auto_shapes(n_in, n_out)
            in_shape = auto_in if in_shape is None else in_shape
            out_shape = auto_out if out_shape is None else out_shape
        spec = TTLayerSpec(in_shape, out_shape, 1, "TTLinear.from_linear")
        if (spec.in_features, spec.out_features) != (n_in, n_out):
            raise ShapeError(f"TTLinear.from_linear: in_shape {spec.in_shape} and out_shape "
                             f"{spec.out_shape} give a {spec.in_features} x {spec.out_features} "
                             f"weight, the layer is {n_in} x {n_out}")
        where = "TTLinear.from_linear"
        if ranks is not None:  # checked here, naming this function (tt_matrix's would not)
            check_max_rank(ranks, len(spec.in_shape) - 1, where, "ranks")
        w = linear.weight.detach()
        if eps is None:  # as exact as the weights' dtype resolves, without a warning
            eps = 4 * torch.finfo(w.dtype).eps
        eps = check_eps(eps, where, ranks="ranks")
        m = tt_matrix(to_factorize(w, where).T, spec.in_shape, spec.out_shape, eps=eps,
                      max_rank=ranks)
        layer = cls(spec.in_shape, spec.out_shape, m.ranks, bias=linear.bias is not None,
                    device=w.device, dtype=w.dtype)
        with torch.no_grad():
            for p, c in zip(layer.cores, m.cores):
                p.copy_(c)
            if linear.bias is not None:
                layer.bias.copy_(linear.bias)
        return layer


def factory_kwargs(device: Any, dtype: Any, where: str) -> dict:
    """``{"device": ..., "dtype": ...}`` for a layer's parameters, checked: `dtype` a
    floating-point or complex torch dtype or its name ("float32"), `device` one torch
    knows; None leaves torch's defaults."""
    given = dtype
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype, None)
    if given is not None and not (isinstance(dtype, torch.dtype) and (
            dtype.is_floating_point or dtype.is_complex)):
        raise ArgumentError(f"{where}: dtype must be a floating-point or complex torch dtype "
                            f"(or its name), got {given!r}")
    if device is not None:
        try:
            device = torch.device(device)
        except (RuntimeError, TypeError, ValueError) as exc:
            raise ArgumentError(f"{where}: device {device!r} is not a torch device "
                                f"({str(exc).splitlines()[0][:80]})") from None
    return {"device": device, "dtype": dtype}


def to_factorize(w: torch.Tensor, where: str) -> torch.Tensor:
    """A layer's weight as the decompositions take it: half precision as float32 (bfloat16
    is not a dtype of tnlib's formats, and float16 arithmetic would cost the fit digits the
    half-precision layer can still hold); the new layer is made in the weight's own dtype.
    NaN or inf in the weight is an error naming `where` (not the decomposition it calls)."""
    w = w.float() if w.dtype in (torch.bfloat16, torch.float16) else w
    check_finite(w, backends.get("torch"), where, "the layer's weight")
    return w


def _check_float(value: Any, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or not 0 <= value < 1:
        raise ArgumentError(f"{where}: {name} must be a number in [0, 1), got {value!r}")
    return float(value)
