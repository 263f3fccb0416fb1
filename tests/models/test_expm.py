"""ExponentialMachine: gradients, recovery of planted models, solvers, scikit-learn contract."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.metrics import r2_score, roc_auc_score  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import tnlib  # noqa: E402
from tnlib import riemannian, tt  # noqa: E402
from tnlib.errors import ArgumentError, ConvergenceWarning  # noqa: E402
from tnlib.models import ExponentialMachine  # noqa: E402
from tnlib.models import _expm_math as em  # noqa: E402

from ..helpers import assert_like, np_of  # noqa: E402


def _features(x):
    """Dense ⊗_k (1, x_k) of each row: (N, 2, ..., 2)."""
    n, d = x.shape
    out = np.ones((n,))
    for k in range(d):
        phi = np.stack([np.ones(n), x[:, k]], axis=1)
        out = out[..., None] * phi.reshape((n,) + (1,) * k + (2,))
    return out


def _planted(d, n, seed, rank=2, n_test=0):
    """A random rank-`rank` weight, `n` training rows and `n_test` test rows."""
    rng = np.random.default_rng(seed)
    w = tt.random((2,) * d, rank, seed=seed)
    w = (w * (2.0 / float(tt.norm(w)))).round()
    x = rng.uniform(-1, 1, size=(n + n_test, d))
    f = _features(x).reshape(n + n_test, -1) @ np_of(w).reshape(-1)
    if n_test:
        return w, x[:n], f[:n], x[n:], f[n:]
    return w, x, f


def test_predictions_and_riemannian_gradient_match_dense_references(backend):
    d, n = 6, 40
    w, x, f = _planted(d, n, 0, rank=3)
    wb = w.to(backend)
    xb = backend.asarray(x)
    np.testing.assert_allclose(np_of(em.predict(list(wb.cores), xb, backend)), f, atol=1e-13)
    c = np.random.default_rng(1).standard_normal(n)
    egrad = (c @ _features(x).reshape(n, -1)).reshape((2,) * d)
    frame = riemannian.frame_of(wb)
    g = em.riemannian_gradient(frame, xb, backend.asarray(c))
    want = riemannian.project(wb, backend.asarray(egrad))
    assert_like(g.deltas[0], wb.cores[0])
    np.testing.assert_allclose(np_of(g.full()), np_of(want.full()), atol=1e-12)
    # Euclidean core gradients: d/dG_k of Σ c_i f(x_i), against finite differences
    xp = tnlib.backends.get("numpy")
    grads = em.sandwich(list(w.cores), list(w.cores), x, c, xp)
    k, eps = 2, 1e-6
    bumped = [np.array(cc) for cc in w.cores]
    bumped[k][1, 0, 2] += eps
    fd = (c @ np_of(em.predict(bumped, x, xp)) - c @ f)
    assert abs(fd / eps - grads[k][1, 0, 2]) < 1e-5 * max(1.0, abs(grads[k][1, 0, 2]))


def test_recovers_a_planted_rank_2_interaction_model(backend):
    w, x, f, x_test, f_test = _planted(8, 600, seed=3, n_test=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ExponentialMachine(rank=2, task="regression", alpha=0.0, max_iter=300,
                                   tol=1e-10, backend=backend.name, random_state=0).fit(x, f)
    assert model.weight_.backend.name == backend.name
    assert r2_score(f_test, model.predict(x_test)) > 0.9999
    assert float(tt.norm(model.weight_.to("numpy") - w)) < 1e-2 * float(tt.norm(w))


def test_classifies_a_planted_interaction_and_reports_probabilities(backend):
    _, x, f, x_test, f_test = _planted(8, 800, seed=5, n_test=400)
    labels = np.where(f > 0, "yes", "no")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ExponentialMachine(rank=2, max_iter=100, backend=backend.name,
                                   random_state=0).fit(x, labels)
    assert list(model.classes_) == ["no", "yes"]
    assert roc_auc_score(f_test > 0, model.decision_function(x_test)) > 0.97
    proba = model.predict_proba(x_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(x_test)) <= {"no", "yes"}
    assert model.score(x_test, np.where(f_test > 0, "yes", "no")) > 0.9


def test_more_than_two_classes_one_versus_rest(backend):
    """Three classes (was an ArgumentError "Only binary"): a weight per class on the
    backend, logits (n, 3), probabilities summing to 1, the class of the largest logit
    predicted, a planted interaction classified."""
    _, x, f, x_test, f_test = _planted(6, 300, seed=11, n_test=300)
    cut = np.quantile(f, [1 / 3, 2 / 3])
    labels, test_labels = (np.array(["low", "mid", "top"])[np.digitize(g, cut)]
                           for g in (f, f_test))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ExponentialMachine(rank=2, max_iter=30, backend=backend.name,
                                   random_state=0).fit(x, labels)
    assert list(model.classes_) == ["low", "mid", "top"]
    assert len(model.weight_) == 3
    assert all(w.backend.name == backend.name for w in model.weight_)
    logits = model.decision_function(x_test)
    assert logits.shape == (300, 3)
    proba = model.predict_proba(x_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(x_test), model.classes_[logits.argmax(1)])
    np.testing.assert_array_equal(proba.argmax(1), logits.argmax(1))
    assert model.score(x_test, test_labels) > 0.8


def test_sample_weights_weigh_the_loss_as_repeated_rows():
    """Zero weights on half of the rows fit what the other half alone fits (the weighted
    objective and start are the same problem), and weights 2 what the rows repeated fit."""
    _, x, f = _planted(6, 200, seed=13)
    y = f > np.median(f)
    kw = dict(rank=2, max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        half = ExponentialMachine(**kw).fit(x[:100], y[:100])
        weighted = ExponentialMachine(**kw).fit(x, y, sample_weight=np.r_[np.ones(100),
                                                                          np.zeros(100)])
        twice = ExponentialMachine(**kw).fit(np.vstack([x, x[:50]]), np.r_[y, y[:50]])
        doubled = ExponentialMachine(**kw).fit(x, y, sample_weight=np.r_[2 * np.ones(50),
                                                                         np.ones(150)])
    for a, b in ((half, weighted), (twice, doubled)):
        fa, fb = a.decision_function(x), b.decision_function(x)
        assert np.linalg.norm(fa - fb) <= 1e-6 * np.linalg.norm(fa)
    assert np.linalg.norm(half.decision_function(x) - twice.decision_function(x)) > 1e-2


@pytest.mark.parametrize("solver, lr, drop, r2", [("rsgd", 1.0, 0.2, 0.85),
                                                  ("adam", 0.05, 0.1, 0.95)])
def test_stochastic_solvers_lower_the_objective(solver, lr, drop, r2):
    _, x, f = _planted(8, 600, seed=7)
    model = ExponentialMachine(rank=2, task="regression", solver=solver, max_iter=20,
                               batch_size=64, learning_rate=lr, random_state=0).fit(x, f)
    assert model.loss_curve_[-1] < drop * model.loss_curve_[0]
    assert r2_score(f, model.predict(x)) > r2


def test_bad_input_is_refused_with_the_argument_named():
    x = np.random.default_rng(0).uniform(-1, 1, (30, 4))
    with pytest.raises(ArgumentError, match="y must hold class labels, one per row"):
        ExponentialMachine().fit(x, x[:, 0])  # continuous
    for bad in (-np.ones(30), np.zeros(30), np.full(30, np.nan)):
        with pytest.raises(ArgumentError, match="ExponentialMachine: sample_weight"):
            ExponentialMachine().fit(x, np.arange(30) % 2, sample_weight=bad)
    with pytest.raises(ArgumentError, match="sample_weight"):
        ExponentialMachine().fit(x, np.arange(30) % 2, sample_weight=np.ones(29))
    with pytest.raises(ArgumentError, match="rank"):
        ExponentialMachine(rank=0).fit(x, np.arange(30) % 2)
    with pytest.raises(ArgumentError, match="solver"):
        ExponentialMachine(solver="lbfgs").fit(x, np.arange(30) % 2)
    with pytest.raises(ArgumentError, match="task"):
        ExponentialMachine(task="ranking").fit(x, np.arange(30) % 2)
    with pytest.raises(ArgumentError, match="learning_rate"):
        ExponentialMachine(learning_rate=float("nan")).fit(x, np.arange(30) % 2)
    with pytest.raises(ArgumentError, match="dtype must be 'float32' or 'float64', got 'int32'"):
        ExponentialMachine(dtype="int32").fit(x, np.arange(30) % 2)
    with pytest.raises(ArgumentError, match="random_state must be None, a non-negative"):
        ExponentialMachine(random_state="0").fit(x, np.arange(30) % 2)
    with pytest.raises(ArgumentError, match="regression needs numeric targets, got y of dtype"):
        ExponentialMachine(task="regression").fit(x, np.array(["a", "b"] * 15))


@parametrize_with_checks([ExponentialMachine(rank=2, max_iter=15),
                          ExponentialMachine(rank=2, max_iter=15, task="regression")])
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
