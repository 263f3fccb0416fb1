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
