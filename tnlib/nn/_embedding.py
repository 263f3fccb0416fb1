"""The framework-free half of a TT embedding: shapes, ranks, initialization, the lookup.

A TT embedding stores the ``(num_embeddings, embedding_dim)`` table as a TT-matrix
with row shape ``voc_shape`` (whose product may exceed ``num_embeddings``: the rows past
it are never read) and column shape ``emb_shape`` (whose product is ``embedding_dim``),
cores ``(r_{k-1}, voc_shape[k], emb_shape[k], r_k)`` in tnlib's
:class:`~tnlib.tt.TTMatrix` layout (Khrulkov, Hrinchuk, Mirvakhabova, Oseledets,
"Tensorized embedding layers", 2020). Row ``i`` has the digits ``i_k`` of ``i`` in
``voc_shape`` (most significant first, as NumPy's ``unravel_index``) and is the product
of the core slices ``G_k[:, i_k, :, :]``: a lookup gathers ``d`` slices per index and
contracts them left to right, never forming the table. The torch, Keras and Flax layers
hold the cores and run :func:`lookup` with their own operations.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from .._validation import check_shape
from ..errors import ArgumentError, ShapeError
from ._spec import TTLayerSpec, factor_shape

DEFAULT_CORES = 3  # the usual choice for vocabularies of 10^4 - 10^7 rows


class TTEmbeddingSpec:
    """Sizes, shapes and ranks of a TT embedding, validated once.

    Parameters
    ----------
    num_embeddings, embedding_dim : int
    ranks : int or sequence of int
        As for :class:`~tnlib.nn._spec.TTLayerSpec` (lowered to what the shapes allow).
    voc_shape, emb_shape : sequence of int, optional
        The row and column factorizations, one factor per core; by default
        :data:`DEFAULT_CORES` (or ``len`` of the one given) near-equal factors, the
        vocabulary's rounded up by at most a few percent (:func:`vocabulary_shape`), the
        embedding's smallest on the inner cores (:func:`embedding_shape`).
    where : str
        The caller's name, for error messages.
    """

    def __init__(self, num_embeddings: Any, embedding_dim: Any, ranks: Any,
                 voc_shape: Any = None, emb_shape: Any = None, where: str = "TTEmbedding"):
        self.num_embeddings = _positive(num_embeddings, where, "num_embeddings")
        self.embedding_dim = _positive(embedding_dim, where, "embedding_dim")
        given = voc_shape if voc_shape is not None else emb_shape
        d = DEFAULT_CORES if given is None else len(check_shape(given, where, "shape"))
        voc = vocabulary_shape(self.num_embeddings, d) if voc_shape is None else \
            check_shape(voc_shape, where, "voc_shape")
        emb = embedding_shape(self.embedding_dim, d) if emb_shape is None else \
            check_shape(emb_shape, where, "emb_shape")
        if math.prod(voc) < self.num_embeddings:
            raise ShapeError(f"{where}: voc_shape {voc} holds {math.prod(voc)} rows, fewer "
                             f"than num_embeddings={self.num_embeddings}")
        if math.prod(emb) != self.embedding_dim:
            raise ShapeError(f"{where}: emb_shape {emb} has product {math.prod(emb)}, "
                             f"expected embedding_dim={self.embedding_dim}")
        self.layer = TTLayerSpec(voc, emb, ranks, where)
        self.strides = tuple(math.prod(voc[k + 1:]) for k in range(len(voc)))
        self.where = where

    voc_shape = property(lambda self: self.layer.in_shape)
    emb_shape = property(lambda self: self.layer.out_shape)
    ranks = property(lambda self: self.layer.ranks)
    core_shapes = property(lambda self: self.layer.core_shapes)

    def split_for(self, batch: int | None) -> int:
        """How many leading cores :func:`lookup` merges into one block for `batch` indices
        (1: none; None, unknown while tracing: 256).

        Per index, the chain gathers ``r e_k r'`` numbers per core and runs small matrix
        products; a block of the first ``s`` cores is built by large products, once per
        call, and then read one row per index. The cost model, in flop units (calibrated
        on one CPU core, torch, forward and backward): ``0.3`` per flop of the block's
        construction, ``1`` per flop of the per-index products, ``8`` per number gathered
        from a core and ``44`` per number of a block row (a random read from a large
        array, and its gradient scattered back). For 10^6 x 256 at rank 32 the two-core
        block pays from ~3,500 indices on (1.6x faster at 12,800).
        """
        n = 256 if batch is None else max(int(batch), 1)
        e, v, r, d = self.emb_shape, self.voc_shape, self.ranks, len(self.voc_shape)

        def cost(s: int) -> float:
            build = sum(2 * math.prod(v[:k + 1]) * math.prod(e[:k + 1]) * r[k] * r[k + 1]
                        for k in range(1, s))
            row = math.prod(e[:s]) * r[s]
            chain = sum(2 * math.prod(e[:k]) * r[k] * e[k] * r[k + 1] + 8 * r[k] * e[k] *
                        r[k + 1] for k in range(s, d))
            return 0.3 * build + n * (chain + (44 if s > 1 else 8) * row)

        return min(range(1, d), key=cost) if d > 1 else 1

    def n_params(self) -> int:
        return self.layer.n_params(bias=False)

    def core_std(self, std: float) -> float:
        """Standard deviation of i.i.d. zero-mean core entries that gives the table's entries
        the standard deviation `std` (see :meth:`TTLayerSpec.core_std`)."""
        if isinstance(std, bool) or not isinstance(std, numbers.Real) or not \
                math.isfinite(std) or std <= 0:
            raise ArgumentError(f"{self.where}: std must be a finite number > 0, got {std!r}")
        paths = math.prod(self.ranks[1:-1])
        # (std² / paths)^(1 / 2d), in logs: the square of a std past 1e154 overflows
        return math.exp((2 * math.log(std) - math.log(paths)) / (2 * len(self.voc_shape)))

    def __repr__(self) -> str:
        return (f"TTEmbeddingSpec(num_embeddings={self.num_embeddings}, embedding_dim="
                f"{self.embedding_dim}, voc_shape={self.voc_shape}, emb_shape={self.emb_shape}, "
                f"ranks={self.ranks})")


def lookup(spec: TTEmbeddingSpec, idx: Any, cores: list, take_rows: Callable,
           einsum: Callable, reshape: Callable, split: int | None = None) -> Any:
    """Rows `idx` (a 1-D integer array) of the table: ``(len(idx), embedding_dim)``.

    `take_rows(core, digits)` gathers the slices ``core[:, digits[n], :, :]`` batch-first,
    ``(N, r, e_k, r')``; `einsum` and `reshape` are the framework's own. `idx` is assumed
    in range (the layers check it, or mark rows out of range, as their framework does).

    The first `split` cores (:meth:`TTEmbeddingSpec.split_for` the batch, by default) are
    merged into one block of ``v_1 ... v_s`` rows by large products, read one row per
    index; the slices of the rest are gathered and contracted left to right, a batch of
    small matrix products, into the running ``(N, e_1 ... e_k, r_k)`` product.
    """
    e, v, r, d = spec.emb_shape, spec.voc_shape, spec.ranks, len(cores)
    if split is None:
        shape = getattr(idx, "shape", (None,))
        split = spec.split_for(shape[0] if shape and isinstance(shape[0], int) else None)
    block = cores[0]
    for k in range(1, split):  # (1, v_1..v_k, e_1..e_k, r_k): the combined digits' rows
        block = reshape(einsum("avpb,bwqc->avwpqc", block, cores[k]),
                        (1, math.prod(v[:k + 1]), math.prod(e[:k + 1]), r[k + 1]))
    acc = reshape(take_rows(block, idx // spec.strides[split - 1]),
                  (-1, math.prod(e[:split]), r[split]))
    for k in range(split, d):
        piece = take_rows(cores[k], (idx // spec.strides[k]) % v[k])
        acc = reshape(einsum("npr,nrqs->npqs", acc, piece), (-1, math.prod(e[:k + 1]), r[k + 1]))
    return reshape(acc, (-1, spec.embedding_dim))


def embedding_shape(n: int, d: int) -> tuple[int, ...]:
    """`n` in `d` near-equal factors (:func:`~tnlib.nn._spec.factor_shape`), the largest
    on the outer cores and the smallest inside: 256 in three is ``(8, 4, 8)``, whose
    lookup gathers half the numbers per index of ``(8, 8, 4)`` and runs ~1.7x faster."""
    factors = sorted(factor_shape(n, d), reverse=True)
    out: list[int] = [0] * d
    lo, hi = 0, d - 1
    for i, f in enumerate(factors):
        if i % 2 == 0:
            out[lo], lo = f, lo + 1
        else:
            out[hi], hi = f, hi - 1
    return tuple(out)


def vocabulary_shape(n: int, d: int) -> tuple[int, ...]:
    """`d` near-equal factors whose product is the smallest such one >= `n`: each
    ``ceil(n ** (1/d))``, then lowered one at a time while the product still covers `n`
    (10^4 rows, 3 cores: ``(22, 22, 21)``, 10,164 rows)."""
    q = max(1, math.ceil(round(n ** (1.0 / d), 9)))
    shape = [q] * d
    k = d - 1
    while k >= 0 and shape[k] > 1:
        trial = shape[:k] + [shape[k] - 1] + shape[k + 1:]
        if math.prod(trial) < n:
            k -= 1
            continue
        shape = trial
    return tuple(sorted(shape, reverse=True))


def _positive(value: Any, where: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ArgumentError(f"{where}: {name} must be an integer >= 1, got {value!r}")
    return int(value)
