"""The tensor regression layer, framework-free: shapes, ranks, initialization and one
contraction.

A tensor regression layer (Kossaifi, Lipton, Kolbeinsson, Khanna, Furlanello,
Anandkumar 2020) maps an activation tensor ``X`` of shape ``(batch,) + input_shape`` to
``Y[b, o] = <X[b], W[..., o]> + bias[o]`` with the regression weight ``W`` of shape
``input_shape + output_shape`` held in low-rank form -- Tucker, CP or TT. The forward
pass applies the weight as a product of two matrices built from the factors (CP and TT:
Khatri-Rao products and chained cores of each side; Tucker: the dense weight) or, for
large activations, contracts ``X`` with the factors in opt_einsum's order.
"""

from __future__ import annotations

import math
import numbers
import string
from collections.abc import Callable, Sequence
from typing import Any

from .._validation import check_option, check_shape
from ..errors import ArgumentError, ShapeError

__all__ = ["TRLSpec"]

_FACTORIZATIONS = ("tucker", "cp", "tt")
# einsum's flops are charged this many times over the matrix path's (see matrix_first)
_EINSUM_CHARGE = 4.0
# the batch the plan assumes when a traced graph leaves it unknown
_NOMINAL_BATCH = 32


class TRLSpec:
    """Shapes and ranks of a tensor regression layer, and its contraction.

    Parameters
    ----------
    input_shape, output_shape : sequence of int
        The activation's shape without the batch, and the output's.
    rank : int or sequence of int
        ``"tucker"``: one rank per mode of the weight (input modes, then output modes), or
        one int for all, each at most the mode's size. ``"cp"``: the number of
        components. ``"tt"``: the bond ranks between consecutive modes of the weight (one
        fewer than its modes), or one int for all, each at most what the unfoldings allow.
    factorization : {"tucker", "cp", "tt"}
    """

    def __init__(self, input_shape: Any, output_shape: Any, rank: Any,
                 factorization: str = "tucker", where: str = "TRL") -> None:
        self.input_shape = check_shape(input_shape, where, "input_shape")
        self.output_shape = check_shape(output_shape, where, "output_shape")
        check_option(factorization, _FACTORIZATIONS, where, "factorization")
        self.factorization = factorization
        self.ranks = _ranks(rank, self.weight_shape, factorization, where)
        self._plans: dict = {}

    @property
    def weight_shape(self) -> tuple[int, ...]:
        return self.input_shape + self.output_shape

    def parameter_shapes(self) -> list[tuple[int, ...]]:
        """The shapes of the weight's parameters, in the contraction's order: Tucker, the
        factors of the input and output modes then the core; CP, one factor per mode; TT,
        the cores."""
        shape, r = self.weight_shape, self.ranks
        if self.factorization == "tucker":
            return [(n, k) for n, k in zip(shape, r)] + [tuple(r)]
        if self.factorization == "cp":
            return [(n, r[0]) for n in shape]
        bonds = (1,) + tuple(r) + (1,)
        return [(bonds[k], n, bonds[k + 1]) for k, n in enumerate(shape)]

    def stds(self) -> list[float]:
        """Standard deviations of Gaussian parameters that give the dense weight Glorot's
        variance ``2 / (fan_in + fan_out)`` (its entries are sums of products of them)."""
        var = 2.0 / (math.prod(self.input_shape) + math.prod(self.output_shape))
        shapes = self.parameter_shapes()
        if self.factorization == "tucker":  # factors N(0, 1/R_k): the core carries var
            return [1.0 / math.sqrt(k) for _, k in shapes[:-1]] + [math.sqrt(var)]
        terms = self.ranks[0] if self.factorization == "cp" else math.prod(self.ranks)
        return [(var / terms) ** (0.5 / len(shapes))] * len(shapes)

    def equation(self) -> str:
        """The einsum equation ``x, *parameters -> y`` (batch first)."""
        return self._equation(with_input=True)

    def dense_equation(self) -> str:
        """The einsum equation ``*parameters -> W`` (the dense weight, for tests and
        exports)."""
        return self._equation(with_input=False)

    def _equation(self, with_input: bool) -> str:
        n_in, n_out = len(self.input_shape), len(self.output_shape)
        letters = iter(string.ascii_letters)
        batch = next(letters)
        modes = [next(letters) for _ in range(n_in + n_out)]
        if self.factorization == "tucker":
            ranks = [next(letters) for _ in modes]
            ops = [m + k for m, k in zip(modes, ranks)] + ["".join(ranks)]
        elif self.factorization == "cp":
            comp = next(letters)
            ops = [m + comp for m in modes]
        else:
            bonds = [next(letters) for _ in range(len(modes) + 1)]
            ops = [bonds[k] + m + bonds[k + 1] for k, m in enumerate(modes)]
        ins, outs = "".join(modes[:n_in]), "".join(modes[n_in:])
        if with_input:
            return ",".join([batch + ins] + ops) + "->" + batch + outs
        return ",".join(ops) + "->" + ins + outs

    def forward(self, x: Any, params: Sequence[Any], einsum: Callable, reshape: Callable,
                transpose: Callable) -> Any:
        """``Y`` of shape ``(batch,) + output_shape`` (no bias), by the cheaper of two
        orders (:meth:`matrix_first`): the weight as a product of two matrices ``L R``
        (``ΠI x k`` and ``k x ΠO``; Tucker: the dense weight) applied to the flattened
        activation, or the activation contracted with the factors by einsum."""
        batch = x.shape[0]  # None in a graph traced for any batch (Keras fit, tf.function)
        batch = int(batch) if batch is not None else _NOMINAL_BATCH
        if not self.matrix_first(batch):
            return einsum(self.equation(), x, *params)
        left, right = self.matrices(params, reshape, transpose)
        n_in, n_out = math.prod(self.input_shape), math.prod(self.output_shape)
        flat = reshape(x, (-1, n_in))
        if right is None:
            y = flat @ left
        else:  # (X L) R, or X (L R) where the dense weight is the cheaper (k > n_out)
            k = int(left.shape[1])
            y = flat @ (left @ right) if n_out * (k + batch) < batch * k * (1 + n_out / n_in) \
                else (flat @ left) @ right
        return reshape(y, (-1,) + self.output_shape)

    def matrices(self, params: Sequence[Any], reshape: Callable, transpose: Callable
                 ) -> tuple[Any, Any]:
        """``(L, R)`` with the weight ``W = L R`` as a ``ΠI x ΠO`` matrix (``R`` None for
        Tucker, whose ``L`` is ``W``): built by matrix products and reshapes only -- no
        permuted copies (CP: Khatri-Rao products of each side; TT: the cores of each side
        chained; Tucker: the core's modes taken in turn, each leading one multiplied by its
        factor and moved last by the product itself)."""
        n_in = len(self.input_shape)
        if self.factorization == "tucker":
            w = params[-1]
            for u, rk in zip(params[:-1], self.ranks):
                w = transpose(reshape(w, (rk, -1))) @ transpose(u)
            return reshape(w, (math.prod(self.input_shape), math.prod(self.output_shape))), None
        if self.factorization == "cp":
            r = self.ranks[0]
            sides = []
            for group in (params[:n_in], params[n_in:]):
                a = group[0]
                for f in group[1:]:
                    a = reshape(a[:, None, :] * f[None, :, :], (-1, r))
                sides.append(a)
            return sides[0], transpose(sides[1])
        bonds = (1,) + self.ranks + (1,)
        left = reshape(params[0], (self.input_shape[0], bonds[1]))
        for k in range(1, n_in):
            left = reshape(left @ reshape(params[k], (bonds[k], -1)), (-1, bonds[k + 1]))
        right = reshape(params[n_in], (bonds[n_in], -1))
        for k in range(n_in + 1, len(params)):
            right = reshape(reshape(right, (-1, bonds[k])) @ reshape(params[k], (bonds[k], -1)),
                            (bonds[n_in], -1))
        return left, right

    def matrix_first(self, batch: int) -> bool:
        """Whether :meth:`matrices` and two matrix products cost less than contracting the
        activation with the factors by einsum, counted in flops with einsum's charged
        fourfold: its steps permute and copy the activation-sized operands, and measured
        on one CPU thread they ran 2-5x slower than the matrix path at equal flops. Small
        weights and large batches (a CNN's head) take the matrix path; large activations
        contract factor by factor, and a dense Tucker weight is never formed past 2^24
        entries."""
        if batch not in self._plans:
            import opt_einsum

            _, info = opt_einsum.contract_path(
                self.equation(), (batch,) + self.input_shape, *self.parameter_shapes(),
                shapes=True)
            n_in, n_out = math.prod(self.input_shape), math.prod(self.output_shape)
            if self.factorization == "tucker":
                build, rows = 0.0, math.prod(self.ranks)
                for n, rk in zip(self.weight_shape, self.ranks):
                    rows //= rk
                    build += 2.0 * rows * rk * n
                    rows *= n
                cost = build + 2.0 * batch * n_in * n_out
                fits = n_in * n_out <= 2**24
            else:
                k = self.ranks[0] if self.factorization == "cp" else max(self.ranks)
                cost = 2.0 * (n_in + n_out) * k * (k + batch)
                fits = True
            if len(self._plans) > 64:
                self._plans.clear()
            self._plans[batch] = fits and cost <= _EINSUM_CHARGE * float(info.opt_cost)
        return self._plans[batch]

    def check_input(self, shape: tuple, where: str = "TRL") -> None:
        """A ShapeError unless `shape` is ``(batch,) + input_shape``."""
        if tuple(shape[1:]) != self.input_shape:
            raise ShapeError(f"{where}: input must have shape (batch, *{self.input_shape}), "
                             f"got {tuple(shape)}")

    def n_params(self, bias: bool = True) -> int:
        return sum(math.prod(s) for s in self.parameter_shapes()) + (
            math.prod(self.output_shape) if bias else 0)

    def __repr__(self) -> str:
        return (f"input_shape={self.input_shape}, output_shape={self.output_shape}, "
                f"factorization={self.factorization!r}, rank={self.ranks}")


def _ranks(rank: Any, shape: tuple, factorization: str, where: str) -> tuple[int, ...]:
    """`rank` checked and, for Tucker and TT, clipped to what the weight's shape allows."""
    d = len(shape)
    want = {"tucker": d, "cp": 1, "tt": d - 1}[factorization]
    if isinstance(rank, numbers.Integral) and not isinstance(rank, bool):
        values = [int(rank)] * want
    else:
        try:
            values = list(rank)
        except TypeError:
            raise ArgumentError(f"{where}: rank must be an int or a sequence of ints, got "
                                f"{rank!r}") from None
        if factorization == "cp" or len(values) != want:
            raise ShapeError(f"{where}: rank for factorization={factorization!r} must be "
                             f"{'an int' if factorization == 'cp' else f'one int or {want} ints'}"
                             f", got {rank!r}")
    if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1
           for v in values):
        raise ArgumentError(f"{where}: ranks must be positive ints, got {rank!r}")
    if factorization == "tucker":
        return tuple(min(int(v), n) for v, n in zip(values, shape))
    if factorization == "tt":
        return tuple(min(int(v), math.prod(shape[:k + 1]), math.prod(shape[k + 1:]))
                     for k, v in enumerate(values))
    return (int(values[0]),)
