"""The distinct-point cache in front of a cross's black box (and its executor dispatch)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._info import Timer
from .._validation import safe_exponent, times_pow2
from ..backends import Backend, get
from ..backends._host import caller_backend
from ..errors import EvaluationError
from ..scale.executor import evaluate_chunks


def padded_length(n: int, per_octave: int = 2) -> int:
    """The smallest ``m 2^k >= n`` with ``per_octave <= m < 2 per_octave`` (and >= 16).

    `per_octave` is a power of two; the padding adds less than ``1 / per_octave``.
    """
    if n <= 16:
        return 16
    k = max((n - 1).bit_length() - per_octave.bit_length(), 0)
    return -(-n // 2**k) * 2**k


_NUMPY = get("numpy")  # the cache's values are host float64 / complex128
_SAFE = safe_exponent(np.empty(0), _NUMPY)  # values beyond 2^(±341) are kept scaled


class _BudgetExceeded(Exception):
    """The distinct-evaluation budget (``max_evals``) would be exceeded."""


class _Cache:
    """Distinct-point cache in front of the user's function; one batched call per request.

    Points are keyed exactly by their multi-index in mixed radix, split into
    62-bit words. Lookups are vectorized: a 64-bit hash of the words is found by
    binary search in sorted segments and the words compared, so a request of N
    points costs ``O(N log M)`` NumPy work, not N Python dictionary operations.
    """

    def __init__(self, f: Callable, shape: tuple, xp: Backend, max_evals: int | None,
                 executor: Any = None, batch_size: int | None = None) -> None:
        self.f, self.shape, self.xp, self.max_evals = f, shape, xp, max_evals
        self.executor, self.batch_size = executor, batch_size
        # f's own backend (JAX) compiles its operations for every new batch length
        self.pad = caller_backend(f, xp).shape_compiles
        self.dtype = None
        self.value_dtype = np.dtype(np.float64)  # the least precise dtype f returned
        # values are kept divided by 2^exponent, decided by the first nonzero ones (and
        # again by any far above them): f's values near the float limits are interpolated
        # at unit scale (their squares, in norms and SVDs, would leave the range), the
        # caller multiplies the result back
        self.exponent, self._scaled = 0, False
        self.eval_time = 0.0
        self.count = 0
        self.words: list[tuple[int, int]] = []
        start, bits = 0, 0.0
        for k, n in enumerate(shape):
            b = math.log2(n) if n > 1 else 0.0
            if bits + b > 62 and k > start:
                self.words.append((start, k))
                start, bits = k, 0.0
            bits += b
        self.words.append((start, len(shape)))
        self.radix = [np.cumprod([1] + [shape[j] for j in range(b - 1, a, -1)])[::-1]
                      .astype(np.int64) for a, b in self.words]
        mult = np.random.default_rng(12345).integers(1, 2**62, size=len(self.words)) | 1
        self.mult = mult.astype(np.uint64)
        # sorted segments (hash, words, values); small ones are merged into big ones
        self.segments: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def _key_words(self, points: np.ndarray) -> np.ndarray:
        return np.stack([points[:, a:b] @ r for (a, b), r in zip(self.words, self.radix)],
                        axis=1)

    def _hash(self, words: np.ndarray) -> np.ndarray:
        if words.shape[1] == 1:
            return words[:, 0]
        with np.errstate(over="ignore"):
            h = (words.astype(np.uint64) * self.mult[None, :]).sum(axis=1, dtype=np.uint64)
        return h.view(np.int64)

    def _lookup(self, h: np.ndarray, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = np.zeros(len(h), dtype=bool)
        vals = np.zeros(len(h), dtype=self.dtype or np.float64)
        for seg_h, seg_w, seg_v in self.segments:
            pos = np.minimum(np.searchsorted(seg_h, h), len(seg_h) - 1)
            hit = (seg_h[pos] == h) & ~found
            if words.shape[1] > 1:
                hit &= np.all(seg_w[pos] == words, axis=1)
            vals[hit] = seg_v[pos[hit]]
            found |= hit
        return found, vals

    def _insert(self, h: np.ndarray, words: np.ndarray, vals: np.ndarray) -> None:
        order = np.argsort(h, kind="stable")
        self.segments.append((h[order], words[order], vals[order]))
        # merge while the newest segment is at least half the size of the one before it
        while len(self.segments) > 1 and 2 * len(self.segments[-1][0]) >= len(
                self.segments[-2][0]):
            b, a = self.segments.pop(), self.segments.pop()
            hh = np.concatenate([a[0], b[0]])
            order = np.argsort(hh, kind="stable")
            self.segments.append((hh[order], np.concatenate([a[1], b[1]])[order],
                                  np.concatenate([a[2], b[2]])[order]))

    def __call__(self, points: np.ndarray) -> np.ndarray:
        words = self._key_words(points)
        h = self._hash(words)
        found, vals = self._lookup(h, words)
        if not found.all():
            miss = np.flatnonzero(~found)
            uniq, first, inverse = np.unique(words[miss], axis=0, return_index=True,
                                             return_inverse=True)
            if self.max_evals is not None and self.count + len(uniq) > self.max_evals:
                raise _BudgetExceeded()
            before = self.exponent
            new = self._evaluate(points[miss[first]])
            if self.exponent != before:  # the values found were kept at the old scale
                vals = times_pow2(vals, before - self.exponent, _NUMPY)
            if vals.dtype != self.dtype:
                vals = vals.astype(self.dtype)
            vals[miss] = new[inverse.reshape(-1)]
            self.count += len(uniq)
            self._insert(self._hash(uniq), uniq, new)
        return vals

    def _evaluate(self, points: np.ndarray) -> np.ndarray:
        xp = self.xp
        timer = Timer()
        if self.executor is None:
            count = len(points)
            if self.pad:  # a few batch lengths, so that f compiles a few times
                points = np.concatenate([points, np.repeat(points[:1], padded_length(count)
                                                           - count, axis=0)])
            vals = self._host(self.f(xp.asarray(points)))
            if self.pad and vals.shape[:1] == (len(points),):
                vals, points = vals[:count], points[:count]
        else:
            parts = []
            for a, b, out in evaluate_chunks(self.f, xp.asarray(points), len(points),
                                             self.executor, self.batch_size, points, "cross"):
                part = self._host(out)
                if part.shape != (b - a,):
                    raise EvaluationError(
                        f"cross: f must return an array of shape ({b - a},) for an index "
                        f"array of shape ({b - a}, {points.shape[1]}), got shape {part.shape}")
                parts.append(part)
            vals = np.concatenate(parts)
        self.eval_time += timer()
        if vals.shape != (len(points),):
            raise EvaluationError(f"cross: f must return an array of shape ({len(points)},) "
                                  f"for an index array of shape {points.shape}, got shape "
                                  f"{vals.shape}")
        if vals.dtype.kind not in "fciub":
            raise EvaluationError(f"cross: f returned values of dtype {vals.dtype}")
        bad = np.flatnonzero(~np.isfinite(vals))
        if bad.size:
            i = int(bad[0])
            raise EvaluationError(f"cross: f returned {vals[i]} at index "
                                  f"{tuple(int(v) for v in points[i])}")
        if vals.dtype.kind in "fc" and np.finfo(vals.dtype).eps > np.finfo(self.value_dtype).eps:
            self.value_dtype = vals.dtype
        kind = np.complex128 if vals.dtype.kind == "c" else np.float64
        if self.dtype is None or kind == np.complex128 and self.dtype != np.complex128:
            self.dtype = kind
            self.segments = [(h, w, v.astype(kind)) for h, w, v in self.segments]
        vals = vals.astype(self.dtype)
        peak = float(np.max(np.abs(vals))) if vals.size else 0.0
        # the first nonzero values set the scale (earlier ones were zero: any scale holds
        # for them); values far above it -- the first were in f's tail, subnormal say --
        # set it again, and the values kept are rescaled (the callers rescale theirs)
        if peak > 0 and (not self._scaled or math.frexp(peak)[1] - self.exponent > _SAFE):
            new = 0 if 2.0**-_SAFE < peak < 2.0**_SAFE else math.frexp(peak)[1]
            if self._scaled:
                self.segments = [(h, w, times_pow2(v, self.exponent - new, _NUMPY))
                                 for h, w, v in self.segments]
            self._scaled, self.exponent = True, new
        return self.unit(vals)

    def unit(self, vals: np.ndarray) -> np.ndarray:
        """Values of f as the cache keeps them (divided by ``2^exponent``)."""
        return times_pow2(vals, -self.exponent, _NUMPY)

    def result_dtype(self) -> np.dtype:
        """The dtype of the values (float64/complex128 inside) at the precision f returned."""
        single = np.finfo(self.value_dtype).eps > np.finfo(np.float64).eps
        if self.dtype == np.complex128:
            return np.dtype(np.complex64 if single else np.complex128)
        return np.dtype(np.float32 if single else np.float64)

    def _host(self, out: Any) -> np.ndarray:
        xp = self.xp
        return np.asarray(xp.to_numpy(out) if xp.is_array(out) else out)
