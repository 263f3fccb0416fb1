"""The PyTorch TT embedding: cores held by torch, the lookup run with ``index_select``."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .._validation import check_eps, check_max_rank
from ..errors import ArgumentError, ShapeError
from ..tt import TTMatrix, tt_matrix
from ._embedding import TTEmbeddingSpec, lookup
from ._torch_linear import factory_kwargs, to_factorize


def _take_rows(core: torch.Tensor, digits: torch.Tensor) -> torch.Tensor:
    return torch.index_select(core, 1, digits).transpose(0, 1)


def _reshape(a: torch.Tensor, shape: tuple) -> torch.Tensor:
    return a.reshape(shape)


class TTEmbedding(nn.Module):
    """Embedding layer whose ``(num_embeddings, embedding_dim)`` table is a TT-matrix.

    Called like ``nn.Embedding``: integer indices of any shape give their rows, shape
    ``(*idx.shape, embedding_dim)``. The table is never formed: each index gathers one
    slice of every core and contracts them (:mod:`tnlib.nn._embedding`), so memory and
    parameters are those of the cores -- a 10^6 x 256 table at rank 32 is ~0.2 % of the
    dense one.

    Parameters
    ----------
    num_embeddings, embedding_dim : int
    ranks : int or sequence of int
        TT-ranks: one for every bond, ``d - 1`` bond ranks, or ``(1, r_1, ..., 1)``.
    voc_shape, emb_shape : sequence of int, optional
        Factorizations of the rows (product ``>= num_embeddings``) and of
        ``embedding_dim``, one factor per core; by default three near-equal factors each.
    padding_idx : int, optional
        As for ``nn.Embedding``: that index gives zeros and no gradient.
    std : float
        Core entries are i.i.d. normal with the variance that gives the table's entries
        standard deviation `std` (1: ``nn.Embedding``'s ``N(0, 1)``).
    device, dtype : optional
        As for ``nn.Embedding``.

    Examples
    --------
    >>> import torch
    >>> from tnlib.nn.torch import TTEmbedding
    >>> emb = TTEmbedding(10000, 64, ranks=16)
    >>> emb.voc_shape, emb.emb_shape, sum(p.numel() for p in emb.parameters())
    ((22, 22, 21), (4, 4, 4), 25280)
    >>> emb(torch.tensor([[1, 2, 3], [9999, 0, 5]])).shape
    torch.Size([2, 3, 64])

    References
    ----------
    V. Khrulkov, O. Hrinchuk, L. Mirvakhabova, I. Oseledets, "Tensorized embedding
    layers", Findings of EMNLP 2020.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, ranks: Any, *,
                 voc_shape: Any = None, emb_shape: Any = None, padding_idx: int | None = None,
                 std: float = 1.0, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.spec = TTEmbeddingSpec(num_embeddings, embedding_dim, ranks, voc_shape, emb_shape)
        self.padding_idx = _check_padding(padding_idx, self.spec.num_embeddings)
        kw = factory_kwargs(device, dtype, "TTEmbedding")
        scale = self.spec.core_std(std)
        self.cores = nn.ParameterList(
            [nn.Parameter(torch.randn(s, **kw) * scale) for s in self.spec.core_shapes])

    num_embeddings = property(lambda self: self.spec.num_embeddings)
    embedding_dim = property(lambda self: self.spec.embedding_dim)
    voc_shape = property(lambda self: self.spec.voc_shape)
    emb_shape = property(lambda self: self.spec.emb_shape)
    ranks = property(lambda self: self.spec.ranks)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return (f"{self.num_embeddings}, {self.embedding_dim}, voc_shape={self.voc_shape}, "
                f"emb_shape={self.emb_shape}, ranks={self.ranks}{pad}")

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        if not isinstance(idx, torch.Tensor) or idx.dtype.is_floating_point or \
                idx.dtype.is_complex or idx.dtype == torch.bool:
            got = idx.dtype if isinstance(idx, torch.Tensor) else type(idx).__name__
            raise ArgumentError(f"TTEmbedding: indices must be an integer torch.Tensor, "
                                f"got {got}")
        flat = idx.reshape(-1).long()
        outside = (flat < 0) | (flat >= self.num_embeddings)
        if bool(outside.any()):  # one read (nn.Embedding's IndexError, named)
            raise ShapeError(f"TTEmbedding: index {int(flat[outside][0])} is out of range "
                             f"for num_embeddings={self.num_embeddings}")
        rows = lookup(self.spec, flat, list(self.cores), _take_rows, torch.einsum, _reshape)
        if self.padding_idx is not None:  # zeros, and so no gradient, for the padding rows
            rows = rows * (flat != self.padding_idx).unsqueeze(1).to(rows.dtype)
        return rows.reshape(tuple(idx.shape) + (self.embedding_dim,))

    def weight(self) -> torch.Tensor:
        """The dense ``(num_embeddings, embedding_dim)`` table (differentiable)."""
        idx = torch.arange(self.num_embeddings, device=self.cores[0].device)
        return self(idx)

    def to_tt_matrix(self) -> TTMatrix:
        """The table as a :class:`tnlib.tt.TTMatrix` of ``prod(voc_shape)`` rows (those past
        ``num_embeddings`` never read), on the torch backend, sharing the cores."""
        return TTMatrix(list(self.cores))

    @classmethod
    def from_embedding(cls, embedding: nn.Embedding, ranks: Any = None,
                       eps: float | None = None, *, voc_shape: Any = None,
                       emb_shape: Any = None) -> TTEmbedding:
        """A TT embedding from a trained ``nn.Embedding`` by TT-SVD of its table (the rows
        past ``num_embeddings`` that `voc_shape` adds are zero).

        Parameters
        ----------
        embedding : nn.Embedding
        ranks : int or sequence of int, optional
            Upper bounds on the TT-ranks.
        eps : float, optional
            Relative Frobenius accuracy of the table; with neither `ranks` nor `eps`,
            four units of its dtype's roundoff.
        voc_shape, emb_shape : sequence of int, optional

        Examples
        --------
        >>> import torch
        >>> from tnlib.nn.torch import TTEmbedding
        >>> dense = torch.nn.Embedding(1000, 32)
        >>> emb = TTEmbedding.from_embedding(dense, ranks=8)
        >>> emb.voc_shape, emb.emb_shape, emb.ranks
        ((10, 10, 10), (4, 2, 4), (1, 8, 8, 1))
        """
        where = "TTEmbedding.from_embedding"
        if not isinstance(embedding, nn.Embedding):
            raise ArgumentError(f"{where}: embedding must be a torch.nn.Embedding, got "
                                f"{type(embedding).__name__}")
        n, dim = embedding.num_embeddings, embedding.embedding_dim
        spec = TTEmbeddingSpec(n, dim, 1, voc_shape, emb_shape, where)
        if ranks is not None:
            check_max_rank(ranks, len(spec.voc_shape) - 1, where, "ranks")
        w = embedding.weight.detach()
        if eps is None:
            eps = 4 * torch.finfo(w.dtype).eps
        eps = check_eps(eps, where, ranks="ranks")
        w = to_factorize(w, where)
        rows = math.prod(spec.voc_shape)
        table = torch.cat([w, w.new_zeros((rows - n, dim))]) if rows > n else w
        m = tt_matrix(table, spec.voc_shape, spec.emb_shape, eps=eps, max_rank=ranks)
        layer = cls(n, dim, m.ranks, voc_shape=spec.voc_shape, emb_shape=spec.emb_shape,
                    padding_idx=embedding.padding_idx, device=w.device,
                    dtype=embedding.weight.dtype)
        with torch.no_grad():
            for p, c in zip(layer.cores, m.cores):
                p.copy_(c)
        return layer


def _check_padding(padding_idx: Any, n: int) -> int | None:
    """`padding_idx` as ``nn.Embedding`` takes it (negative counts from the end)."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, int) or \
            not -n <= padding_idx < n:
        raise ArgumentError(f"TTEmbedding: padding_idx must be an int in [-{n}, {n}), got "
                            f"{padding_idx!r}")
    return padding_idx % n
