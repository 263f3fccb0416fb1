"""The solvers' local effective operators against NumPy's einsum of the same network."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import assert_like, np_of, on
from tnlib.tt import _env as env


def _network(rng, dtype, shapes):
    parts = [rng.standard_normal(s) for s in shapes]
    if dtype == "complex128":
        parts = [p + 1j * rng.standard_normal(p.shape) for p in parts]
    return parts


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_two_site_operator_matches_einsum(backend, dtype):
    rng = np.random.default_rng(3)
    # unequal bond ranks (3 -> 5) and operator ranks (2, 4, 3): every index has its own size
    left, op1, op2, right, w = _network(rng, dtype, [(3, 2, 3), (2, 2, 2, 4), (4, 3, 3, 3),
                                                     (5, 3, 5), (3, 2, 3, 5)])
    ref = np.einsum("aAc,AijB,BklC,bCd,cjld->aikb", left, op1, op2, right, w)
    xs = [on(backend, a) for a in (left, op1, op2, right, w)]
    fused = env.two_site_operator(backend, xs[1], xs[2])
    out = env.two_site(backend, xs[0], fused, xs[3])(xs[4])
    assert_like(out, xs[4])
    assert tuple(out.shape) == ref.shape
    np.testing.assert_allclose(np_of(out), ref, rtol=1e-12, atol=1e-12)
    # the flat form, as the Krylov loops call it
    flat = env.two_site(backend, xs[0], fused, xs[3], shape=w.shape)
    out = flat(backend.reshape(xs[4], (-1,)))
    assert tuple(out.shape) == (ref.size,)
    np.testing.assert_allclose(np_of(out), ref.ravel(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_one_site_operator_matches_einsum(backend, dtype):
    rng = np.random.default_rng(4)
    left, op, right, u = _network(rng, dtype, [(3, 2, 4), (2, 3, 3, 4), (5, 4, 2), (4, 3, 2)])
    ref = np.einsum("aAc,AijB,bBd,cjd->aib", left, op, right, u)
    xs = [on(backend, a) for a in (left, op, right, u)]
    apply = env.one_site(backend, *xs[:3])
    out = apply(xs[3])
    assert_like(out, xs[3])
    np.testing.assert_allclose(np_of(out), ref, rtol=1e-12, atol=1e-12)
    # a stack of vectors in one application (AMEn's trial ranks)
    us = _network(rng, dtype, [(3, 4, 3, 2)])[0]
    refs = np.einsum("aAc,AijB,bBd,tcjd->taib", left, op, right, us)
    out = apply(on(backend, us))
    assert tuple(out.shape) == refs.shape
    np.testing.assert_allclose(np_of(out), refs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_two_index_interfaces_and_projection_match_einsum(backend, dtype):
    # AMEn's right-hand side: <bra| ket> interfaces and the projected core, every index its
    # own size (bra ranks 3 -> 5, ket ranks 2 -> 4, mode size 6)
    rng = np.random.default_rng(5)
    env_l, env_r, bra, ket, right = _network(rng, dtype, [(3, 2), (5, 4), (3, 6, 5),
                                                          (2, 6, 4), (7, 4)])
    xs = [on(backend, a) for a in (env_l, env_r, bra, ket, right)]
    cases = [(env.left2(backend, xs[0], xs[2], xs[3]),
              np.einsum("ab,aic,bid->cd", env_l, bra.conj(), ket)),
             (env.right2(backend, xs[1], xs[2], xs[3]),
              np.einsum("aic,bid,cd->ab", bra.conj(), ket, env_r)),
             (env.project2(backend, xs[0], xs[3], xs[4]),
              np.einsum("ab,bic,dc->aid", env_l, ket, right))]
    for out, ref in cases:
        assert_like(out, xs[3])
        assert tuple(out.shape) == ref.shape
        np.testing.assert_allclose(np_of(out), ref, rtol=1e-12, atol=1e-12)


def _with_spectrum(rng, m, n, s, dtype):
    """An (m, n) matrix with singular values `s` and random singular vectors."""
    k = len(s)
    u, v = (np.linalg.qr(a)[0] for a in _network(rng, dtype, [(m, k), (n, k)]))
    return (u * s) @ v.conj().T


def _check_split(backend, a, part, side, rank, s):
    ortho, other = np_of(part.ortho), np_of(part.other)
    assert_like(part.ortho, on(backend, a))
    assert_like(part.other, on(backend, a))
    q = ortho if side == "left" else ortho.conj().T
    assert q.shape == ((a.shape[0], rank) if side == "left" else (a.shape[1], rank))
    np.testing.assert_allclose(q.conj().T @ q, np.eye(rank), atol=1e-12)
    approx = ortho @ other if side == "left" else other @ ortho
    lost = float(np.sum(s[rank:] ** 2))  # the best rank-`rank` error, Eckart-Young
    err = float(np.linalg.norm(a - approx) ** 2)
    assert abs(err - lost) <= 1e-12 * float(np.sum(s**2))
    total = float(np.sum(s**2))
    assert part.norm == pytest.approx(total**0.5, rel=1e-12)
    assert part.kept == pytest.approx(float(np.sum(s[:rank] ** 2)) / total, rel=1e-12)
    assert part.lost == pytest.approx(lost / total, rel=1e-6, abs=1e-15)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_split_by_the_gram_matrix_is_the_best_truncation(backend, dtype, side, monkeypatch):
    rng = np.random.default_rng(5)
    s = np.logspace(0, -4, 24)
    a = _with_spectrum(rng, 40, 30, s, dtype)
    monkeypatch.setattr(backend, "svd", lambda _: pytest.fail("took an SVD"))
    part = env.split(backend, on(backend, a), 1e-10, 12, side)  # the rank cap decides
    assert part.gram_ok
    _check_split(backend, a, part, side, 12, s)
    # eps decides, far above the Gram matrix's resolution: the same rank as the SVD's
    part = env.split(backend, on(backend, a), 1e-2, None, side)
    rank = int(np.argmax([np.sum(s[r:] ** 2) <= 1e-4 * np.sum(s**2) for r in range(25)]))
    assert part.gram_ok and rank > 1
    _check_split(backend, a, part, side, rank, s)


@pytest.mark.parametrize("side", ["left", "right"])
def test_split_takes_the_svd_where_the_gram_matrix_cannot_resolve_the_cut(backend, side):
    rng = np.random.default_rng(6)
    s = np.logspace(0, -12, 24)  # squares down to 1e-24: below the Gram matrix's noise
    a = _with_spectrum(rng, 30, 40, s, "float64")
    part = env.split(backend, on(backend, a), 1e-9, None, side)
    rank = int(np.argmax([np.sum(s[r:] ** 2) <= 1e-18 * np.sum(s**2) for r in range(25)]))
    assert not part.gram_ok and rank == 18
    _check_split(backend, a, part, side, rank, s)
    # rank 5 under a cap of 10: no directions of rounding noise kept to fill the cap
    s5 = np.array([1.0, 0.5, 0.1, 0.05, 0.01])
    a5 = _with_spectrum(rng, 30, 40, s5, "float64")
    part = env.split(backend, on(backend, a5), 1e-12, 10, side)
    _check_split(backend, a5, part, side, 5, s5)
    # the hint: an SVD that finds a resolvable spectrum says so for the next split
    part = env.split(backend, on(backend, a), 1e-10, 8, side, gram=False)
    assert part.gram_ok
    _check_split(backend, a, part, side, 8, s)


@pytest.mark.parametrize("scale", [1e-160, 1e160])
def test_split_near_the_float_limits_is_the_split_at_unit_scale(backend, scale):
    # squares of 1e-160 are subnormal and of 1e160 overflow: the Gram matrix cannot hold
    # them, so the SVD runs; ranks, fractions and factors are those at unit scale
    rng = np.random.default_rng(7)
    s = np.logspace(0, -4, 24)
    a = _with_spectrum(rng, 40, 30, s, "float64")
    unit = env.split(backend, on(backend, a), 1e-10, 12)
    part = env.split(backend, on(backend, a * scale), 1e-10, 12)
    assert unit.gram_ok and not part.gram_ok
    assert backend.shape(part.ortho) == backend.shape(unit.ortho)
    assert part.kept == pytest.approx(unit.kept, rel=1e-12)
    assert part.lost == pytest.approx(unit.lost, rel=1e-6)
    assert part.norm == pytest.approx(scale * unit.norm, rel=1e-12)
    approx = np_of(part.ortho) @ np_of(part.other)
    best = float(np.sum(s[12:] ** 2))
    assert abs(np.linalg.norm(a - approx / scale) ** 2 - best) <= 1e-12 * float(np.sum(s**2))
