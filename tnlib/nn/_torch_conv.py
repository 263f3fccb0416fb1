"""Low-rank replacements of a trained ``nn.Conv2d``: CP (Lebedev et al.) and Tucker-2.

The kernel ``K[t, s, i, j]`` (out channels, in channels, height, width) is
factorized by tnlib's CP-ALS or HOOI on the torch backend, and the factors become
the weights of thin convolutions whose composition is the low-rank convolution.
Stride, padding (any mode), dilation and the bias carry over: the padding and
striding of the 2-D convolution split exactly into a vertical and a horizontal
pass because the CP kernel is separable.
"""

from __future__ import annotations

import numbers
from typing import Any

import torch
from torch import nn

from .._validation import DefaultTol, plain
from ..cp import cp_als
from ..errors import ArgumentError
from ..tucker import hooi
from ._torch_linear import to_factorize


def cp_conv2d(conv: nn.Conv2d, rank: int, *, max_iter: int = 500, tol: float = DefaultTol(1e-10),
              seed: Any = 0) -> nn.Sequential:
    """A ``Conv2d`` as four thin convolutions from a rank-`rank` CP decomposition of its kernel.

    ``K[t, s, i, j] ≈ Σ_r A_t[t, r] A_s[s, r] A_h[i, r] A_w[j, r]`` becomes, in order:
    a 1x1 convolution to `rank` channels (``A_s``), a ``kh x 1`` depthwise
    convolution (``A_h``; the vertical stride, padding and dilation), a ``1 x kw``
    depthwise convolution (``A_w``; the horizontal ones) and a 1x1 convolution to
    the output channels (``A_t`` and the bias). The CP weights are folded into
    ``A_t``.

    Parameters
    ----------
    conv : nn.Conv2d
        A trained convolution with ``groups=1``.
    rank : int
        CP rank: the channels of the three inner convolutions.
    max_iter, tol, seed
        Passed to :func:`tnlib.cp.cp_als`.

    Returns
    -------
    nn.Sequential
        Same device and dtype as `conv`; parameters ``R (C_in + kh + kw + C_out) + C_out``.

    References
    ----------
    V. Lebedev, Y. Ganin, M. Rakhuba, I. Oseledets, V. Lempitsky, "Speeding-up
    convolutional neural networks using fine-tuned CP-decomposition", ICLR 2015.

    Examples
    --------
    >>> import torch
    >>> from tnlib.nn.torch import cp_conv2d
    >>> _ = torch.manual_seed(0)
    >>> conv = torch.nn.Conv2d(16, 32, 3, padding=1)
    >>> fast = cp_conv2d(conv, rank=8)
    >>> fast(torch.randn(2, 16, 10, 10)).shape
    torch.Size([2, 32, 10, 10])
    """
    _check_conv(conv, "cp_conv2d")
    rank = _check_rank(rank, "cp_conv2d", "rank")
    c_out, c_in, kh, kw = conv.weight.shape
    x = cp_als(to_factorize(conv.weight.detach(), "cp_conv2d"), rank, max_iter=max_iter,
               tol=tol, seed=seed)
    a_out, a_in, a_h, a_w = x.factors
    a_out = a_out * x.weights
    (sh, sw), (dh, dw) = conv.stride, conv.dilation
    if isinstance(conv.padding, str):  # 'same' / 'valid': the 1-wide axis gets no padding
        pad_v = pad_h = conv.padding
    else:
        pad_v, pad_h = (conv.padding[0], 0), (0, conv.padding[1])
    kw_ = {"device": conv.weight.device, "dtype": conv.weight.dtype}
    first = nn.Conv2d(c_in, rank, 1, bias=False, **kw_)
    vertical = nn.Conv2d(rank, rank, (kh, 1), stride=(sh, 1), padding=pad_v,
                         dilation=(dh, 1), groups=rank, bias=False,
                         padding_mode=conv.padding_mode, **kw_)
    horizontal = nn.Conv2d(rank, rank, (1, kw), stride=(1, sw), padding=pad_h,
                           dilation=(1, dw), groups=rank, bias=False,
                           padding_mode=conv.padding_mode, **kw_)
    last = nn.Conv2d(rank, c_out, 1, bias=conv.bias is not None, **kw_)
    with torch.no_grad():
        first.weight.copy_(a_in.T.reshape(rank, c_in, 1, 1))
        vertical.weight.copy_(a_h.T.reshape(rank, 1, kh, 1))
        horizontal.weight.copy_(a_w.T.reshape(rank, 1, 1, kw))
        last.weight.copy_(a_out.reshape(c_out, rank, 1, 1))
        if conv.bias is not None:
            last.bias.copy_(conv.bias)
    return nn.Sequential(first, vertical, horizontal, last)


def tucker_conv2d(conv: nn.Conv2d, ranks: Any, *, max_iter: int = 50) -> nn.Sequential:
    """A ``Conv2d`` as 1x1, ``kh x kw`` and 1x1 convolutions from a Tucker-2 decomposition.

    ``K ≈ G ×_1 U_out ×_2 U_in`` with ``G`` of shape ``(R_out, R_in, kh, kw)``
    (HOOI on the two channel modes): a 1x1 convolution to ``R_in`` channels, the
    core convolution (stride, padding, dilation of `conv`) to ``R_out`` channels,
    and a 1x1 convolution to the output channels with the bias.

    Parameters
    ----------
    conv : nn.Conv2d
        A trained convolution with ``groups=1``.
    ranks : int or (int, int)
        ``(R_out, R_in)``; one int sets both.
    max_iter : int
        Most HOOI sweeps (they stop once the relative error changes by less than 1e-6).

    References
    ----------
    Y.-D. Kim, E. Park, S. Yoo, T. Choi, L. Yang, D. Shin, "Compression of deep
    convolutional neural networks for fast and low power mobile applications", ICLR 2016.

    Examples
    --------
    >>> import torch
    >>> from tnlib.nn.torch import tucker_conv2d
    >>> _ = torch.manual_seed(0)
    >>> conv = torch.nn.Conv2d(16, 32, 3, stride=2)
    >>> tucker_conv2d(conv, (8, 4))(torch.randn(1, 16, 9, 9)).shape
    torch.Size([1, 32, 4, 4])
    """
    _check_conv(conv, "tucker_conv2d")
    ranks = plain(ranks)
    if isinstance(ranks, numbers.Integral) and not isinstance(ranks, bool):
        ranks = (ranks, ranks)
    if not isinstance(ranks, (tuple, list)) or len(ranks) != 2:
        raise ArgumentError(f"tucker_conv2d: ranks must be an int or (R_out, R_in), "
                            f"got {ranks!r}")
    c_out, c_in, kh, kw = conv.weight.shape
    r_out = min(_check_rank(ranks[0], "tucker_conv2d", "ranks"), c_out)
    r_in = min(_check_rank(ranks[1], "tucker_conv2d", "ranks"), c_in)
    # a change of 1e-6 in the relative error is far below what a network notices (and a
    # half-precision weight resolves only 4 of its epsilons)
    w = to_factorize(conv.weight.detach(), "tucker_conv2d")
    tol = max(1e-6, 4.0 * torch.finfo(conv.weight.dtype).eps)
    x = hooi(w, (r_out, r_in, kh, kw), max_iter=max_iter, tol=tol)
    u_out, u_in, u_h, u_w = x.factors
    # a Tucker rank is at most the product of the others: a 1x1 convolution from 8 to 16
    # channels has R_out <= R_in <= 8, whatever was asked
    r_out, r_in = x.core.shape[:2]
    core = torch.einsum("abcd,ic,jd->abij", x.core, u_h, u_w)
    kw_ = {"device": conv.weight.device, "dtype": conv.weight.dtype}
    first = nn.Conv2d(c_in, r_in, 1, bias=False, **kw_)
    middle = nn.Conv2d(r_in, r_out, (kh, kw), stride=conv.stride, padding=conv.padding,
                       dilation=conv.dilation, bias=False, padding_mode=conv.padding_mode,
                       **kw_)
    last = nn.Conv2d(r_out, c_out, 1, bias=conv.bias is not None, **kw_)
    with torch.no_grad():
        first.weight.copy_(u_in.T.reshape(r_in, c_in, 1, 1))
        middle.weight.copy_(core)
        last.weight.copy_(u_out.reshape(c_out, r_out, 1, 1))
        if conv.bias is not None:
            last.bias.copy_(conv.bias)
    return nn.Sequential(first, middle, last)


def _check_conv(conv: Any, where: str) -> None:
    if not isinstance(conv, nn.Conv2d):
        raise ArgumentError(f"{where}: conv must be a torch.nn.Conv2d, got {type(conv).__name__}")
    if conv.groups != 1:
        raise ArgumentError(f"{where}: conv has groups={conv.groups}; only groups=1 "
                            "convolutions are decomposed")


def _check_rank(rank: Any, where: str, name: str) -> int:
    if isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or rank < 1:
        raise ArgumentError(f"{where}: {name} must be an integer >= 1, got {rank!r}")
    return int(rank)
