"""Poisson CP (CP-APR) of sparse counts: a maximum-likelihood fit, monotone, stationary."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of
from tnlib import cp
from tnlib.backends import host_execution

SHAPE, RANK = (20, 15, 10), 3


def _counts(seed=0, scale=30.0):
    """Counts drawn from a rank-3 Poisson model with sparse-ish (gamma) factors, and the
    model's means."""
    rng = np.random.default_rng(seed)
    parts = [rng.gamma(0.5, size=(n, RANK)) for n in SHAPE]
    means = np.einsum("ir,jr,kr->ijk", *parts)
    means *= scale / means.mean()
    counts = rng.poisson(means)
    idx = np.argwhere(counts)
    return idx, counts[tuple(idx.T)].astype(float), means, counts


def _log_likelihood(m, counts):
    positive = counts > 0
    return float(np.sum(counts[positive] * np.log(m[positive])) - m.sum())


@pytest.mark.parametrize("host", [True, False])
def test_fits_at_least_as_likely_as_the_true_model_and_stops_at_a_kkt_point(backend, host):
    """The fit is a local maximizer of the likelihood over rank-3 models, so at least as
    likely as the generating one (checked with a NumPy formula); the log-likelihood never
    decreases; at the stop every mode's KKT violation is below tol; the parts are
    non-negative, on the values' backend and dtype (host and framework paths)."""
    idx, vals, means, counts = _counts()
    with host_execution(host):
        x, info = cp.cp_apr(backend.asarray(idx), backend.asarray(vals), SHAPE, RANK, seed=0,
                            return_info=True)
    assert_like(x.weights, backend.asarray(vals))
    assert info.converged and info.errors[-1] < 1e-4
    assert min(float(np_of(f).min()) for f in x.factors) >= 0
    fitted = np_of(x.full())
    assert _log_likelihood(fitted, counts) >= _log_likelihood(means, counts) - 1e-8
    assert abs(info.log_likelihood[-1] - _log_likelihood(fitted, counts)) < 1e-8 * abs(
        info.log_likelihood[-1])
    assert np.all(np.diff(info.log_likelihood) >= -1e-9 * abs(info.log_likelihood[-1]))
    # the mean of a Poisson MLE with a full-rank factor matches the total count
    assert abs(fitted.sum() - counts.sum()) < 1e-6 * counts.sum()
    assert np.linalg.norm(fitted - means) < 0.3 * np.linalg.norm(means)


def test_a_start_in_float32_and_the_zero_tensor(backend):
    idx, vals, _, counts = _counts(seed=1)
    start = cp.random(SHAPE, RANK, seed=2)
    start = cp.CPTensor(backend.asarray(np.ones(RANK)),
                        [backend.asarray(np.abs(np_of(f))) for f in start.factors])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tnlib.ConvergenceWarning)
        _, ref = cp.cp_apr(idx, vals, SHAPE, RANK, init=cp.CPTensor(
            np.ones(RANK), [np_of(f) for f in start.factors]), max_iter=5, return_info=True)
        x, info = cp.cp_apr(backend.asarray(idx), backend.asarray(vals), SHAPE, RANK,
                            init=start, max_iter=5, return_info=True)
        np.testing.assert_allclose(info.log_likelihood, ref.log_likelihood, rtol=1e-10)
        y = cp.cp_apr(backend.asarray(idx), backend.asarray(vals.astype("float32")), SHAPE,
                      RANK, seed=0, max_iter=30)
    assert_like(y.weights, backend.asarray(vals.astype("float32")))
    # counts near the float limits (or tiny rates): fitted at unit scale, the means and
    # the likelihood scaled back (of c x and c m it is c (LL + log(c) sum x))
    _, base = cp.cp_apr(idx, vals, SHAPE, RANK, seed=0, return_info=True)
    for c in (1e300, 1e-300):
        x, info = cp.cp_apr(backend.asarray(idx), backend.asarray(vals * c), SHAPE, RANK,
                            seed=0, return_info=True)
        assert info.converged and np.all(np.isfinite(np_of(x.weights)))
        want = c * (base.log_likelihood[-1] + np.log(c) * vals.sum())
        assert abs(info.log_likelihood[-1] - want) < 1e-6 * abs(want)
    z, info = cp.cp_apr(backend.asarray(idx[:3]), backend.asarray(np.zeros(3)), SHAPE, 2,
                        return_info=True)
    assert float(np.abs(np_of(z.weights)).max()) == 0 and info.converged


def test_stopping_short_warns_and_bad_input_names_itself(backend):
    idx, vals, _, _ = _counts()
    v = backend.asarray(vals)
    with pytest.warns(tnlib.ConvergenceWarning, match=r"cp_apr: stopped without converging "
                                                      r"\(max_iter=2 iterations reached"):
        cp.cp_apr(idx, v, SHAPE, RANK, max_iter=2)
    with pytest.raises(tnlib.ArgumentError, match="cp_apr: values must be non-negative counts"):
        cp.cp_apr(idx, backend.asarray(-vals), SHAPE, RANK)
    with pytest.raises(tnlib.ArgumentError, match="cp_apr: init has negative entries"):
        cp.cp_apr(idx, v, SHAPE, RANK, init=cp.random(SHAPE, RANK, seed=0, backend=backend))
    with pytest.raises(tnlib.ArgumentError, match="cp_apr: init must be 'random' or a "
                                                  "CPTensor"):
        cp.cp_apr(idx, v, SHAPE, RANK, init="svd")
    for name in ("inner", "max_iter", "rank"):
        kwargs = {"rank": RANK, name: 0}
        with pytest.raises(tnlib.ArgumentError, match=f"cp_apr: {name} must be an integer"):
            cp.cp_apr(idx, v, SHAPE, **kwargs)
    with pytest.raises(tnlib.ArgumentError, match="cp_apr: kappa must be a finite real"):
        cp.cp_apr(idx, v, SHAPE, RANK, kappa=-1)
    with pytest.raises(tnlib.ShapeError, match=r"cp_apr: idx\[:, 0\] has values in"):
        cp.cp_apr(idx + 50, v, SHAPE, RANK)
    with pytest.raises(tnlib.TnlibError, match="cp_apr: values .*(NaN|finite)"):
        bad = vals.copy()
        bad[0] = np.inf
        cp.cp_apr(idx, backend.asarray(bad), SHAPE, RANK)
