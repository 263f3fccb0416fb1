"""Gradient-based CP: completion with a mask, custom losses through autodiff."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of, rel_error
from tnlib import cp


def _data(backend, shape=(9, 10, 11), rank=3, seed=5, fraction=0.35):
    x = cp.random(shape, rank, seed=seed, backend=backend)
    mask = np.random.default_rng(seed + 1).random(shape) < fraction
    return x, x.full(), backend.asarray(mask)


def test_cp_gradient_completes_a_low_rank_tensor(backend):
    x, full, mask = _data(backend)
    observed = full * backend.astype(mask, "float64")
    y, info = cp.cp_gradient(observed, 3, mask=mask, seed=0, tol=1e-15, max_iter=3000,
                             return_info=True)
    assert_like(y.factors[0], full)
    # the missing 65% are recovered, not only the observed entries
    assert rel_error(y.full(), full) < 1e-8
    assert info.converged and info.errors[-1] < 1e-9
    assert all(b <= a * (1 + 1e-12) for a, b in zip(info.errors, info.errors[1:]))


def test_cp_gradient_full_data_matches_cp_als_fit(backend):
    x, full, _ = _data(backend, rank=2)
    noise = backend.asarray(np.random.default_rng(3).standard_normal((9, 10, 11)))
    a = full + 1e-3 * noise * float(np.linalg.norm(tnlib.to_numpy(full))) / np.sqrt(990)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = cp.cp_gradient(a, 2, seed=1, tol=1e-13, max_iter=2000)
        z = cp.cp_als(a, 2, tol=1e-13, max_iter=2000)
    # both reach the same least-squares minimum (noise level 1e-3)
    assert abs(rel_error(y.full(), a) - rel_error(z.full(), a)) < 1e-7
    assert rel_error(y.full(), a) < 1.5e-3


def test_cp_gradient_float32(backend):
    x = cp.random((6, 7, 8), 2, seed=5, dtype="float32", backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = cp.cp_gradient(x.full(), 2, seed=0, tol=1e-7, max_iter=500)
    assert_like(y.factors[0], x.factors[0])
    assert rel_error(y.full(), x.full()) < 1e-3


def test_cp_gradient_custom_loss_by_autodiff(ad_backend):
    xp = ad_backend
    x, full, mask = _data(xp, rank=2)
    m = xp.astype(mask, "float64")
    scale = float(np.linalg.norm(tnlib.to_numpy(full * m))) ** 2

    def loss(model):  # the default masked loss written by hand: same minimizer
        return 0.5 * xp.sum(((model - full) * m) ** 2) / scale

    y, info = cp.cp_gradient(full, 2, loss=loss, seed=0, tol=1e-15, max_iter=3000,
                             return_info=True)
    assert_like(y.factors[0], full)
    assert rel_error(y.full(), full) < 1e-7
    # a robust (Huber-like) loss also runs: gradients come from the framework
    z = cp.cp_gradient(full, 2, loss=lambda t: xp.sum(xp.sqrt(1 + (t - full) ** 2)),
                       seed=0, tol=1e-12, max_iter=3000)
    assert rel_error(z.full(), full) < 1e-5


def test_cp_gradient_bad_input(backend):
    x, full, mask = _data(backend)
    with pytest.raises(tnlib.ShapeError, match="mask has shape"):
        cp.cp_gradient(full, 2, mask=backend.asarray(np.ones((9, 10))))
    with pytest.raises(tnlib.TnlibError, match="rank"):
        cp.cp_gradient(full, 0)
    with pytest.raises(tnlib.TnlibError, match="mask or loss"):
        cp.cp_gradient(full, 2, mask=mask, loss=lambda t: t)
    zero, info = cp.cp_gradient(full * 0.0, 2, mask=mask, return_info=True)
    assert np.all(np_of(zero.full()) == 0) and info.converged and "all zero" in info.stop_reason
    assert_like(zero.weights, full)
    with pytest.raises(tnlib.ArgumentError, match="mask holds non-finite values"):
        cp.cp_gradient(full, 2, mask=backend.asarray(np.full(backend.shape(full), np.nan)))
    if not backend.supports_grad:
        with pytest.raises(tnlib.BackendError, match="automatic differentiation"):
            cp.cp_gradient(full, 2, loss=lambda t: backend.sum(t**2))


def test_cp_gradient_warns_when_stopped_early(backend):
    _, full, _ = _data(backend)
    with pytest.warns(tnlib.ConvergenceWarning, match="cp_gradient"):
        cp.cp_gradient(full, 3, seed=0, max_iter=3)


def test_cp_gradient_complex_completion(backend):
    rng = np.random.default_rng(4)
    factors = [rng.standard_normal((n, 2)) + 1j * rng.standard_normal((n, 2)) for n in (6, 7, 8)]
    full = np.einsum("ir,jr,kr->ijk", *factors)
    mask = rng.random(full.shape) < 0.5
    a, m = backend.asarray(full * mask), backend.asarray(mask)
    y = cp.cp_gradient(a, 2, mask=m, seed=3, tol=1e-15, max_iter=3000)
    assert_like(y.factors[0], a)
    assert rel_error(y.full(), full) < 1e-8
    if backend.supports_grad:
        with pytest.raises(tnlib.TnlibError, match="real data"):
            cp.cp_gradient(a, 2, loss=lambda t: backend.sum(backend.abs(t)))


@pytest.mark.parametrize("exponent", [-300, -70, 10, 70, 300])
def test_cp_gradient_does_not_depend_on_the_data_scale(backend, exponent):
    """The fit runs on data scaled by a power of two to unit mean square, so data times
    ``2^k`` gives the same model times ``2^k`` (data of 1e3 stopped at 69 % error, of
    1e-20 diverged to 1e6 times its size, of 1e-200 was "all zero")."""
    x, full, mask = _data(backend)
    observed = full * backend.astype(mask, "float64")
    ref, info = cp.cp_gradient(observed, 3, mask=mask, seed=0, tol=1e-15, max_iter=3000,
                               return_info=True)
    s = 2.0 ** exponent
    y, info_s = cp.cp_gradient(observed * s, 3, mask=mask, seed=0, tol=1e-15, max_iter=3000,
                               return_info=True)
    assert_like(y.factors[0], full)
    assert info_s.iterations == info.iterations
    assert info_s.errors[-1] == pytest.approx(info.errors[-1], rel=1e-6, abs=1e-12)
    rescaled = cp.CPTensor(y.weights / s, list(y.factors))
    assert rel_error(rescaled.full(), ref.full()) < 1e-10
    assert rel_error(rescaled.full(), full) < 1e-8


def test_cp_gradient_reads_once_per_trial_point_on_an_accelerator(backend, one_read):
    # a trial point's value, the slope, the curvature pair's products and the gradient's
    # norm come back in one read (they were six reads per iteration)
    _, full, mask = _data(backend)
    observed = full * backend.astype(mask, "float64")
    with pytest.warns(tnlib.ConvergenceWarning, match="max_iter=60"):
        y, info = cp.cp_gradient(observed, 3, mask=mask, seed=0, tol=1e-12, max_iter=60,
                                 return_info=True)
    reads = len(one_read)
    assert_like(y.weights, full)
    assert info.iterations == 60 and info.errors[-1] < 0.02
    assert reads <= 1.25 * info.iterations + 8  # one per trial (a few backtrack), + set-up


def test_missing_entries_may_hold_nan_and_the_mask_is_checked(backend):
    # NaN in the missing entries (the usual encoding) was refused as "non-finite data";
    # a mask of 0/2 was taken as weights, an all-false mask returned the random start
    x, full, mask = _data(backend)
    m = np_of(mask)
    a = backend.asarray(np.where(m, np_of(full), np.nan))
    y = cp.cp_gradient(a, 3, mask=mask, seed=0, tol=1e-15, max_iter=3000)
    assert_like(y.factors[0], full)
    assert rel_error(y.full(), full) < 1e-8
    with pytest.raises(tnlib.ArgumentError, match="cp_gradient: a holds non-finite values"):
        cp.cp_gradient(backend.asarray(np.where(m, np.inf, np_of(full))), 3, mask=mask)
    with pytest.raises(tnlib.ArgumentError, match=r"mask must hold 0 \(missing\) and 1 "
                                                  r"\(observed\), got \d+ other values"):
        cp.cp_gradient(full, 3, mask=backend.asarray(2.0 * m))
    with pytest.raises(tnlib.ArgumentError, match="mask marks no entry as observed"):
        cp.cp_gradient(full, 3, mask=backend.asarray(np.zeros(m.shape, bool)))
    with pytest.raises(tnlib.ShapeError, match=r"^cp_gradient: init has shape"):
        cp.cp_gradient(full, 3, init=cp.random(m.shape, 2, seed=0, backend=backend))


def test_a_custom_loss_must_give_a_finite_real_scalar(ad_backend):
    # a vector loss reached the framework ("grad can be implicitly created only for scalar
    # outputs"), a NaN loss ended in a ConvergenceWarning and the random start
    _, full, _ = _data(ad_backend)
    xp = ad_backend
    with pytest.raises(tnlib.ArgumentError, match=r"cp_gradient: loss must return a real "
                                                  r"scalar, got an array of shape \(9, 10, 11\)"):
        cp.cp_gradient(full, 3, loss=lambda t: t - full, seed=0)
    with pytest.raises(tnlib.EvaluationError, match="cp_gradient: the loss at the start is nan"):
        cp.cp_gradient(full, 3, loss=lambda t: xp.sum(t) * float("nan"), seed=0)
