"""Eigenvectors orthogonal to given states (internal): the local projections that let
two-site DMRG find excited states.

With the train in mixed canonical form around sites ``k, k+1`` (cores left of them
left-orthonormal, right of them right-orthonormal), the overlap of the train with a
state ``φ`` is a linear function of the two-site supercore ``v``: ``<φ|x> = p^H v``,
``p = conj(L) Φ conj(R)`` with ``Φ`` the state's supercore and ``L``, ``R`` the
overlap interfaces of its other cores with the train's. Keeping ``v`` orthogonal to
every such ``p`` keeps the train orthogonal to the states exactly (truncation aside):
the local eigenproblem is solved on the orthogonal complement (the "orthogonal_to" of
TeNPy's DMRG), for ``Q (H - σ) Q`` with ``Q`` the projector onto it, started in it.
The shift ``σ``, above the start's Rayleigh quotient, puts the wanted eigenvalue below
the zero that ``Q (.) Q`` has on the states' span: rounding leaves components there
(1e-8 in float32), and Lanczos, which finds extreme eigenvalues from any component,
would converge to that zero whenever the wanted eigenvalue is positive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ArgumentError
from . import _env as env


class Deflation:
    """The overlap interfaces of the states `states` (lists of cores) with a train whose
    cores are `cores` (right-orthonormal from core 1, as DMRG starts), kept up to date
    as a sweep moves (:meth:`moved_right`, :meth:`moved_left`)."""

    def __init__(self, xp: Any, states: list[list], cores: list, where: str) -> None:
        self.xp, self.where = xp, where
        d = len(cores)
        self.states = []
        for j, s in enumerate(states):  # unit norm, right-orthonormal: interfaces <= 1
            s, _ = env.right_orthogonalize_scaled(xp, list(s))
            nrm = xp.norm(s[0])
            if float(xp.item(nrm)) == 0:
                raise ArgumentError(f"{where}: orthogonal_to[{j}] is the zero tensor; it has "
                                    "no direction to be orthogonal to")
            s[0] = s[0] / xp.astype(nrm, xp.dtype(s[0]))
            self.states.append(s)
        one = xp.ones((1, 1), dtype=xp.dtype(cores[0]), device=xp.device(cores[0]))
        self.left = [[one] + [None] * d for _ in self.states]
        self.right = []
        for s in self.states:
            right = [None] * d + [one]
            for k in range(d - 1, 0, -1):
                right[k] = env.right2(xp, right[k + 1], s[k], cores[k])
            self.right.append(right)
        self.tiny = 1e4 * xp.finfo_eps(cores[0])  # below: a projection of rounding noise
        self.constrained = 0  # local problems solved on a complement (per sweep: reset)

    def local(self, k: int, apply: Callable, w: Any) -> tuple[Callable | None, Any, float]:
        """The local eigenproblem at sites ``k, k+1`` on the complement of the states:
        ``(operator, start, shift)`` for Lanczos (add `shift` to its eigenvalue); or, when
        the states' projections fill the local space (an edge bond of small dimension,
        with many states), ``(None, w / ‖w‖, its Rayleigh quotient)``: no vector here is
        orthogonal to them all, the bonds inside enforce it and this one keeps its
        vector."""
        xp = self.xp
        size = xp.size(w)
        u = self._basis(k, size)
        if u is not None and xp.shape(u)[1] >= size:
            unit = w / xp.astype(xp.norm(w), xp.dtype(w))
            value = float(xp.item(xp.real(xp.sum(xp.conj(unit) * apply(unit)))))
            return None, unit, value
        self.constrained += 1
        if u is None:
            return apply, w, 0.0
        start = self._start(u, w, k)
        operator, shift = self._operator(apply, u, start)
        return operator, start, shift

    def check_sweep(self, sweep: int) -> None:
        """After a sweep: an ArgumentError if the states filled every local space (no
        local problem could keep the train orthogonal to them); the count restarts."""
        if not self.constrained:
            raise ArgumentError(
                f"{self.where}: the {len(self.states)} states of orthogonal_to fill every "
                f"two-site local space of sweep {sweep}; no train of these ranks is "
                "orthogonal to them all (start from an x0 of higher ranks, or raise "
                "max_rank)")
        self.constrained = 0

    def _basis(self, k: int, size: int) -> Any:
        """Orthonormal columns ``(size, m)`` spanning the local projections of the states
        at sites ``k, k+1`` (None if they all vanish)."""
        xp = self.xp
        cols = []
        for s, left, right in zip(self.states, self.left, self.right):
            q = xp.einsum("ab,anc,cmd,de->bnme", left[k], xp.conj(s[k]), xp.conj(s[k + 1]),
                          right[k + 2])
            cols.append(xp.reshape(xp.conj(q), (size,)))
        u, sv, _ = xp.svd(xp.stack(cols, axis=1))
        keep = int(np.sum(xp.to_numpy(sv) > self.tiny))
        return u[:, :keep] if keep else None

    def _project(self, u: Any, v: Any) -> Any:
        """`v` minus its part in the span of `u`'s columns."""
        xp = self.xp
        return v - xp.matmul(u, xp.matmul(xp.transpose(xp.conj(u)), v))

    def _operator(self, apply: Callable, u: Any, start: Any) -> tuple[Callable, float]:
        """``Q (apply - σ) Q`` for the projector ``Q`` off the span of `u`, and the shift
        ``σ``: the Rayleigh quotient of `start` (in the complement) plus a tenth of
        ``‖apply start‖ / ‖start‖`` (one product), so that the lowest eigenvalue on the
        complement is below zero by at least that much."""
        xp = self.xp
        product = self._project(u, apply(start))
        nums = xp.stack([xp.real(xp.sum(xp.conj(start) * product)), xp.norm(start) ** 2,
                         xp.norm(product)])
        quotient, square, size = (float(t) for t in xp.to_numpy(nums))
        shift = quotient / square + 0.1 * size / square ** 0.5
        sigma = xp.asarray(shift, dtype=xp.dtype(start), device=xp.device(start))
        return lambda v: self._project(u, apply(self._project(u, v)) - sigma * v), shift

    def _start(self, u: Any, w: Any, seed: int) -> Any:
        """The start vector `w` projected off the span of `u`; a random one projected if
        `w` lies (nearly) in it (a start equal to one of the states)."""
        xp = self.xp
        v = self._project(u, w)
        if float(xp.item(xp.norm(v))) > 1e-6 * float(xp.item(xp.norm(w))):
            return v
        noise = np.random.default_rng(seed).standard_normal(xp.shape(w))
        return self._project(u, xp.asarray(noise, dtype=xp.dtype(w), device=xp.device(w)))

    def moved_right(self, k: int, core: Any) -> None:
        """Core `k` of the train is now left-orthonormal: the left interfaces at k+1."""
        for s, left in zip(self.states, self.left):
            left[k + 1] = env.left2(self.xp, left[k], s[k], core)

    def moved_left(self, k: int, core: Any) -> None:
        """Core `k` of the train is now right-orthonormal: the right interfaces at k."""
        for s, right in zip(self.states, self.right):
            right[k] = env.right2(self.xp, right[k + 1], s[k], core)
