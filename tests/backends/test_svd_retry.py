"""An SVD that LAPACK's divide and conquer does not converge on (rare, for well-scaled
matrices; JAX then returns NaN, NumPy and torch raise) is retried on the adjoint, then
by NumPy through SciPy's gesvd; the factors are those of the matrix, or a named error."""

from __future__ import annotations

import numpy as np
import pytest

import tnlib
from tnlib.backends import get
from tnlib.errors import FactorizationError


def _matrix(cplx=False):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((9, 6))
    return a + 1j * rng.standard_normal((9, 6)) if cplx else a


def _check(xp, a, out):
    u, s, vh = (np.asarray(tnlib.to_numpy(p)) for p in out)
    assert u.shape == (9, 6) and s.shape == (6,) and vh.shape == (6, 6)
    assert np.allclose((u * s) @ vh, a, atol=1e-12)
    assert np.allclose(u.conj().T @ u, np.eye(6), atol=1e-12)
    assert np.all(np.diff(s) <= 0)


class _FailingFirst:
    """A linalg module whose svd fails on the matrix as given, not on its adjoint."""

    def __init__(self, la, shape, error):
        self._la, self._shape, self._error = la, shape, error

    def __getattr__(self, name):
        return getattr(self._la, name)

    def svd(self, a, *args, **kwargs):
        if tuple(a.shape) == self._shape:
            raise self._error("SVD did not converge")
        return self._la.svd(a, *args, **kwargs)


@pytest.mark.parametrize("cplx", [False, True])
def test_numpy_retries_on_the_adjoint(monkeypatch, cplx):
    xp = get("numpy")
    a = _matrix(cplx)
    monkeypatch.setattr(xp, "la", _FailingFirst(np.linalg, a.shape, np.linalg.LinAlgError))
    _check(xp, a, xp.svd(a))
    assert np.allclose(xp.svdvals(a), np.linalg.svd(a, compute_uv=False))


def test_numpy_falls_back_to_gesvd_then_names_the_failure(monkeypatch):
    pytest.importorskip("scipy")
    import scipy.linalg

    xp = get("numpy")
    a = _matrix()

    class Never(_FailingFirst):
        def svd(self, m, *args, **kwargs):
            raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setattr(xp, "la", Never(np.linalg, a.shape, None))
    _check(xp, a, xp.svd(a))
    assert np.allclose(xp.svdvals(a), np.linalg.svd(a, compute_uv=False))
    stack = np.stack([a, 2 * a])
    u, s, vh = xp.svd(stack)
    assert u.shape == (2, 9, 6) and np.allclose(s[1], 2 * s[0])

    def no_gesvd(*args, **kwargs):
        raise scipy.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setattr(scipy.linalg, "svd", no_gesvd)
    with pytest.raises(FactorizationError, match=r"SVD of a \(9, 6\) matrix did not converge"):
        xp.svd(a)


def test_torch_retries_on_the_adjoint(monkeypatch):
    torch = pytest.importorskip("torch")
    xp = get("torch")
    a = _matrix()
    real = torch.linalg.svd

    def failing(m, *args, **kwargs):
        if tuple(m.shape) == a.shape:
            raise torch.linalg.LinAlgError("linalg.svd: The algorithm failed to converge")
        return real(m, *args, **kwargs)

    monkeypatch.setattr(torch.linalg, "svd", failing)
    _check(xp, a, xp.svd(torch.tensor(a)))
    monkeypatch.setattr(torch.linalg, "svd", lambda *args, **kwargs: (_ for _ in ()).throw(
        torch.linalg.LinAlgError("failed")))
    with pytest.raises(FactorizationError, match="on torch"):
        xp.svd(torch.tensor(a))


@pytest.mark.parametrize("traced", [False, True])
def test_jax_retries_where_gesdd_gave_nan(monkeypatch, traced):
    """JAX does not raise: the NaN spectrum is found (on the host, or by lax.cond under
    jit) and the adjoint's SVD taken instead."""
    jax = pytest.importorskip("jax")
    xp = get("jax")
    a = _matrix(cplx=True)
    real = xp._svd_direct

    def nan_as_given(m, vectors):
        out = real(m, vectors)
        if tuple(m.shape) != a.shape:
            return out
        if vectors:
            return out[0], out[1] * np.nan, out[2]
        return out * np.nan

    monkeypatch.setattr(xp, "_svd_direct", nan_as_given)
    m = jax.numpy.asarray(a)
    out = jax.jit(xp.svd)(m) if traced else xp.svd(m)
    _check(xp, a, out)
    vals = jax.jit(xp.svdvals)(m) if traced else xp.svdvals(m)
    assert np.allclose(np.asarray(vals), np.linalg.svd(a, compute_uv=False))
