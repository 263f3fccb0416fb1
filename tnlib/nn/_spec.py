"""The framework-free half of a TT layer: shapes, ranks, initialization, contraction plans.

A TT layer computes ``y = x W (+ b)`` for ``x`` of shape ``(batch, prod(in_shape))``
and a weight ``W`` of shape ``(prod(in_shape), prod(out_shape))`` stored as a
TT-matrix with cores ``G_k`` of shape ``(r_{k-1}, m_k, n_k, r_k)`` (tnlib's
:class:`~tnlib.tt.TTMatrix` layout). The torch, Keras and Flax adapters hold the
cores as parameters and run the plans made here with their own ``einsum``, so the
three layers compute the same function from the same cores.

A plan is a list of pairwise einsum steps, chosen by opt_einsum for the batch size
at hand, or the dense route (contract the cores into ``W``, then one GEMM) when
that costs fewer operations: small layers with large ranks, or a weight cached
between inference calls.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import opt_einsum

from .._validation import check_option, check_shape, plain
from ..errors import ArgumentError, ShapeError

# One framework call costs about this many flops of launch and bookkeeping overhead
# on a CPU core (a few microseconds); it breaks ties towards plans with fewer steps.
STEP_OVERHEAD_FLOPS = 2e4
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
CONTRACTIONS = ("auto", "chain", "halves", "dense", "sequential")
# The two-block route runs as two GEMMs with the batch leading and no transposed copy of
# the large intermediate, which einsum's generic pairwise steps often make; at equal flop
# counts it measures 1.3-1.7x faster (torch, 1 thread), so it wins ties up to this factor.
HALVES_PREFERENCE = 0.7
INITS = ("glorot", "he")


@dataclass(frozen=True)
class Plan:
    """How one forward pass is computed.

    Attributes
    ----------
    route : {"chain", "halves", "dense"}
        ``"chain"``: contract the input with the cores; ``"halves"``: merge the
        cores left and right of bond `split` into two blocks, then two GEMM-shaped
        contractions with the batch leading; ``"dense"``: build ``W``.
    steps : tuple of (positions, subscripts)
        Pairwise einsum steps over the operand list ``[x, G_1, ..., G_d]``
        (chain) or ``[G_1, ..., G_d]`` (dense); each pops `positions` (in that
        order) and appends ``einsum(subscripts, *popped)``.
    flops : float
        Estimated floating-point operations of one forward pass.
    split : int
        The bond of the ``"halves"`` route.
    """

    route: str
    steps: tuple
    flops: float
    split: int = 0


class TTLayerSpec:
    """Shapes and ranks of a TT layer, validated once.

    Parameters
    ----------
    in_shape, out_shape : sequence of int
        Factorizations of the input and output sizes, one factor per core.
    ranks : int or sequence of int
        One rank for every bond, the ``d - 1`` bond ranks, or the full tuple
        ``(1, r_1, ..., r_{d-1}, 1)``. A rank above the largest one the shapes
        allow (the rank of the unfolding) is lowered to it: the layer represents
        the same set of matrices with fewer parameters.
    where : str
        The caller's name, for error messages.
    """

    def __init__(self, in_shape: Any, out_shape: Any, ranks: Any, where: str = "TTLinear"):
        self.in_shape = check_shape(in_shape, where, "in_shape")
        self.out_shape = check_shape(out_shape, where, "out_shape")
        d = len(self.in_shape)
        if len(self.out_shape) != d:
            raise ShapeError(f"{where}: in_shape {self.in_shape} and out_shape {self.out_shape} "
                             "must have the same number of factors (one per core)")
        self.ranks = _clip_ranks(_parse_ranks(ranks, d, where), self.in_shape, self.out_shape)
        self.where = where

    # ------------------------------------------------------------ properties
    @property
    def ndim(self) -> int:
        return len(self.in_shape)

    @property
    def in_features(self) -> int:
        return math.prod(self.in_shape)

    @property
    def out_features(self) -> int:
        return math.prod(self.out_shape)

    @property
    def core_shapes(self) -> list[tuple[int, int, int, int]]:
        r = self.ranks
        return [(r[k], self.in_shape[k], self.out_shape[k], r[k + 1]) for k in range(self.ndim)]

    def n_params(self, bias: bool = True) -> int:
        """Number of scalars in the cores (and the bias)."""
        return sum(math.prod(s) for s in self.core_shapes) + (self.out_features if bias else 0)

    def __repr__(self) -> str:
        return f"TTLayerSpec(in_shape={self.in_shape}, out_shape={self.out_shape}, " \
               f"ranks={self.ranks})"

    # -------------------------------------------------------- initialization
    def core_std(self, init: str = "glorot") -> float:
        """Standard deviation of i.i.d. zero-mean core entries for the target weight variance.

        An entry of ``W`` is a sum of ``prod(r_1..r_{d-1})`` products of ``d``
        independent core entries, so ``Var W = prod(r_k) * prod(s_k^2)``; with
        equal ``s_k`` this is ``s = (Var W / prod r_k) ** (1 / 2d)``. The target
        is Glorot's ``2 / (fan_in + fan_out)`` or He's ``2 / fan_in``.
        """
        check_option(init, INITS, self.where, "init")
        fan_in, fan_out = self.in_features, self.out_features
        target = 2.0 / (fan_in + fan_out) if init == "glorot" else 2.0 / fan_in
        paths = math.prod(self.ranks[1:-1])
        return (target / paths) ** (1.0 / (2 * self.ndim))

    # --------------------------------------------------------------- planning
    def plan(self, batch: int | None, contraction: str = "auto",
             dense_cached: bool = False) -> Plan:
        """The cheapest way to apply the layer to `batch` rows.

        Parameters
        ----------
        batch : int or None
            Rows of the flattened input; None (unknown while tracing) plans for 256.
        contraction : {"auto", "chain", "halves", "dense", "sequential"}
            ``"auto"`` picks the cheapest of the opt_einsum chain, the two-block
            route and the dense route; ``"sequential"`` contracts the cores one by
            one, left to right.
        dense_cached : bool
            The dense weight is already built (inference with a cached ``W``):
            the dense route then costs one GEMM.
        """
        check_option(contraction, CONTRACTIONS, self.where, "contraction")
        b = 256 if batch is None else max(int(batch), 1)
        return _plan(self.in_shape, self.out_shape, self.ranks, b, contraction, dense_cached)

    def dense_plan(self) -> Plan:
        """Steps that contract the cores into ``W``, indices ``(i_1..i_d, j_1..j_d)``."""
        return _dense_plan(self.in_shape, self.out_shape, self.ranks)


def apply_plan(plan: Plan, spec: TTLayerSpec, x: Any, cores: Sequence[Any],
               einsum: Callable, reshape: Callable, matmul: Callable,
               weight: Any = None) -> Any:
    """``x W`` for a 2-D ``x`` of shape ``(batch, in_features)``, by `plan`.

    `einsum`, `reshape` and `matmul` (with NumPy's broadcasting) are the
    framework's own; `weight`, when given, is the dense ``W`` already built (only
    read on the dense route).
    """
    if plan.route == "dense":
        w = dense_weight(spec, cores, einsum, reshape) if weight is None else weight
        return matmul(x, w)
    if plan.route == "halves":
        return _apply_halves(plan.split, spec, x, cores, einsum, reshape, matmul)
    ops = [reshape(x, (-1,) + spec.in_shape)] + list(cores)
    out = _run_steps(plan.steps, ops, einsum)
    return reshape(out, (-1, spec.out_features))


def dense_weight(spec: TTLayerSpec, cores: Sequence[Any], einsum: Callable,
                 reshape: Callable) -> Any:
    """The dense ``(in_features, out_features)`` weight of the cores."""
    w = _run_steps(spec.dense_plan().steps, list(cores), einsum)
    return reshape(w, (spec.in_features, spec.out_features))


def _apply_halves(s: int, spec: TTLayerSpec, x: Any, cores: Sequence[Any], einsum: Callable,
                  reshape: Callable, matmul: Callable) -> Any:
    """``x W`` with ``W = GL ×_r GR`` split at bond `s`, as two GEMMs.

    ``T = x GR`` is one ``(batch * M_L, M_R) x (M_R, r N_R)`` product whose result,
    read as ``(batch, M_L r, N_R)``, is already laid out for the second product
    ``GL^T T`` (broadcast over the batch), which leaves ``y`` as ``(batch, N_L, N_R)``:
    no transposed copy of the large intermediate.
    """
    m, n, r = spec.in_shape, spec.out_shape, spec.ranks[s]
    ml, mr, nl, nr = math.prod(m[:s]), math.prod(m[s:]), math.prod(n[:s]), math.prod(n[s:])
    gl = _run_steps(_dense_plan(m[:s], n[:s], spec.ranks[: s + 1]).steps, list(cores[:s]),
                    einsum)
    gr = _run_steps(_dense_plan(m[s:], n[s:], spec.ranks[s:]).steps, list(cores[s:]), einsum)
    gl = reshape(einsum("LNr->NLr", reshape(gl, (ml, nl, r))), (nl, ml * r))
    gr = reshape(einsum("rRS->RrS", reshape(gr, (r, mr, nr))), (mr, r * nr))
    t = matmul(reshape(x, (-1, mr)), gr)
    y = matmul(gl, reshape(t, (-1, ml * r, nr)))
    return reshape(y, (-1, nl * nr))


def _run_steps(steps: tuple, ops: list, einsum: Callable) -> Any:
    for positions, subscripts in steps:
        popped = [ops.pop(p) for p in positions]
        ops.append(einsum(subscripts, *popped))
    (out,) = ops
    return out


# ------------------------------------------------------------------ helpers
def _subscripts(d: int) -> tuple[str, list[str], str, str]:
    """Letters: batch, per-core ``r_{k-1} m_k n_k r_k``, input and output index strings."""
    letters = iter(_LETTERS)
    b = next(letters)
    m = [next(letters) for _ in range(d)]
    n = [next(letters) for _ in range(d)]
    r = [next(letters) for _ in range(d + 1)]
    cores = [r[k] + m[k] + n[k] + r[k + 1] for k in range(d)]
    return b, cores, "".join(m), "".join(n)


@lru_cache(maxsize=256)
def _plan(in_shape: tuple, out_shape: tuple, ranks: tuple, batch: int, contraction: str,
          dense_cached: bool) -> Plan:
    d = len(in_shape)
    b, core_sub, m, n = _subscripts(d)
    core_shapes = [(ranks[k], in_shape[k], out_shape[k], ranks[k + 1]) for k in range(d)]
    expr = ",".join([b + m] + core_sub) + "->" + b + n
    shapes = [(batch,) + tuple(in_shape)] + core_shapes
    gemm = 2.0 * batch * math.prod(in_shape) * math.prod(out_shape)
    dense = _dense_plan(in_shape, out_shape, ranks)
    dense_cost = gemm + STEP_OVERHEAD_FLOPS + (0 if dense_cached else dense.flops)
    if contraction == "dense":
        return Plan("dense", dense.steps, dense_cost)
    if contraction == "halves" and d > 1:
        return _halves_plan(in_shape, out_shape, ranks, batch)
    if contraction == "sequential":
        path = [(0, 1)] + [(0, d - k) for k in range(1, d)]  # x G_1, then G_2, ...
    else:
        path = "optimal" if d <= 5 else "dp"
    _, info = opt_einsum.contract_path(expr, *shapes, shapes=True, optimize=path)
    steps = tuple((tuple(c[0]), c[2]) for c in info.contraction_list)
    chain = Plan("chain", steps, float(info.opt_cost) + STEP_OVERHEAD_FLOPS * len(steps))
    if contraction != "auto":
        return chain
    best = min([chain, _halves_plan(in_shape, out_shape, ranks, batch),
                Plan("dense", dense.steps, dense_cost)],
               key=lambda p: p.flops * (HALVES_PREFERENCE if p.route == "halves" else 1.0))
    return best


def _halves_plan(in_shape: tuple, out_shape: tuple, ranks: tuple, batch: int) -> Plan:
    """The cheapest split bond for the two-block route (infinite cost for one core)."""
    best = Plan("halves", (), math.inf)
    for s in range(1, len(in_shape)):
        ml, mr = math.prod(in_shape[:s]), math.prod(in_shape[s:])
        nl, nr = math.prod(out_shape[:s]), math.prod(out_shape[s:])
        build = _dense_plan(in_shape[:s], out_shape[:s], ranks[: s + 1]).flops + \
            _dense_plan(in_shape[s:], out_shape[s:], ranks[s:]).flops
        flops = build + 2.0 * batch * ranks[s] * nr * (ml * mr + ml * nl) + \
            2 * STEP_OVERHEAD_FLOPS
        if flops < best.flops:
            best = Plan("halves", (), flops, s)
    return best


@lru_cache(maxsize=64)
def _dense_plan(in_shape: tuple, out_shape: tuple, ranks: tuple) -> Plan:
    d = len(in_shape)
    _, core_sub, m, n = _subscripts(d)
    core_shapes = [(ranks[k], in_shape[k], out_shape[k], ranks[k + 1]) for k in range(d)]
    expr = ",".join(core_sub) + "->" + core_sub[0][0] + m + n + core_sub[-1][-1]
    if d == 1:
        return Plan("dense", (((0,), core_sub[0] + "->" + core_sub[0]),), 0.0)
    # left to right: the intermediate only grows, never transposes
    path = [(0, 1)] + [(0, d - 1 - k) for k in range(1, d - 1)]
    _, info = opt_einsum.contract_path(expr, *core_shapes, shapes=True, optimize=path)
    steps = tuple((tuple(c[0]), c[2]) for c in info.contraction_list)
    return Plan("dense", steps, float(info.opt_cost) + STEP_OVERHEAD_FLOPS * len(steps))


def _parse_ranks(ranks: Any, d: int, where: str) -> tuple[int, ...]:
    def one(r: Any) -> int:
        if isinstance(r, bool) or not isinstance(r, numbers.Integral) or r < 1:
            raise ArgumentError(f"{where}: ranks must be integers >= 1, got {ranks!r}")
        return int(r)

    ranks = plain(ranks)
    if isinstance(ranks, numbers.Integral) and not isinstance(ranks, bool):
        return (1,) + (one(ranks),) * (d - 1) + (1,)
    if isinstance(ranks, Sequence) and not isinstance(ranks, str):
        values = [one(r) for r in ranks]
        if len(values) == d + 1 and values[0] == values[-1] == 1:
            return tuple(values)
        if len(values) == d - 1:
            return (1,) + tuple(values) + (1,)
        raise ShapeError(f"{where}: ranks must be an int, {d - 1} bond ranks or the full tuple "
                         f"(1, r_1, ..., r_{d - 1}, 1) of {d + 1} entries, got {ranks!r}")
    raise ArgumentError(f"{where}: ranks must be an int or a sequence of ints, got {ranks!r}")


def _clip_ranks(ranks: tuple, in_shape: tuple, out_shape: tuple) -> tuple[int, ...]:
    sizes = [m * n for m, n in zip(in_shape, out_shape)]
    d = len(sizes)
    out = [1]
    for k in range(1, d):
        left, right = math.prod(sizes[:k]), math.prod(sizes[k:])
        out.append(min(ranks[k], left, right))
    return tuple(out + [1])


def factor_shape(n: int, d: int) -> tuple[int, ...]:
    """`n` split into `d` factors as equal as the primes of `n` allow, largest first."""
    primes = _primes(n)
    groups = [1] * d
    for p in sorted(primes, reverse=True):
        i = min(range(d), key=lambda k: groups[k])
        groups[i] *= p
    return tuple(sorted(groups, reverse=True))


def auto_shapes(n_in: int, n_out: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Factorizations of a layer's sizes with one factor per core, modes of about 4-8.

    The number of cores is the one that brings the larger size's factors closest
    to 8, bounded by the number of prime factors of each size (at least 2 cores
    when both sizes allow it).
    """
    most = min(len(_primes(n_in)), len(_primes(n_out)))
    if most < 2:
        return (n_in,), (n_out,)
    d = max(2, min(most, round(math.log(max(n_in, n_out)) / math.log(8))))
    return factor_shape(n_in, d), factor_shape(n_out, d)


def _primes(n: int) -> list[int]:
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    if n > 1:
        out.append(n)
    return out
