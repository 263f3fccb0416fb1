"""CPTensor and CP-ALS."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of, on, rel_error
from tnlib import cp


def test_cptensor_operations(backend):
    x = cp.random((3, 4, 5), 2, seed=0, backend=backend)
    y = cp.random((3, 4, 5), 3, seed=1, backend=backend)
    a, b = np_of(x), np_of(y)
    assert x.rank == 2 and x.shape == (3, 4, 5) and "CPTensor" in repr(x)
    np.testing.assert_allclose(a, np.einsum("ir,jr,kr->ijk", *[tnlib.to_numpy(f)
                                                               for f in x.factors]), rtol=1e-12)
    assert abs(float(tnlib.to_numpy(x.norm())) - np.linalg.norm(a)) < 1e-10
    assert abs(float(tnlib.to_numpy(x.dot(y))) - np.sum(a * b)) < 1e-9
    assert rel_error((x + y).full(), a + b) < 1e-12
    assert rel_error((x - y).full(), a - b) < 1e-12
    assert rel_error((2.0 * x).full(), 2 * a) < 1e-12
    assert rel_error((x / 4.0).full(), a / 4) < 1e-15  # as TT and HT divide
    assert_like((x / backend.asarray(np.array(4.0))).weights, x.weights)
    n = x.normalize()
    assert rel_error(n.full(), a) < 1e-12
    np.testing.assert_allclose(np.linalg.norm(tnlib.to_numpy(n.factors[1]), axis=0), 1.0)
    t = x.to_tt()
    assert t.ranks == (1, 2, 2, 1) and rel_error(t.full(), a) < 1e-12
    idx = np.array([[0, 1, 2], [2, 3, 4]])
    np.testing.assert_allclose(tnlib.to_numpy(x.evaluate(idx)), a[tuple(idx.T)], rtol=1e-12)
    z = pickle.loads(pickle.dumps(x))
    assert rel_error(z.full(), a) == 0


def test_cptensor_validation(backend):
    with pytest.raises(tnlib.ShapeError, match="factor 1 has 2 columns but factor 0 has 3"):
        cp.CPTensor(None, [backend.ones((2, 3)), backend.ones((4, 2))])
    with pytest.raises(tnlib.ShapeError, match=r"weights must have shape \(3,\)"):
        cp.CPTensor(backend.ones((2,)), [backend.ones((2, 3)), backend.ones((4, 3))])
    with pytest.raises(tnlib.ShapeError, match="2-D"):
        cp.CPTensor(None, [backend.ones((2, 3, 1))])


@pytest.mark.parametrize("init", ["svd", "random"])
def test_exact_recovery(backend, init):
    x = cp.random((7, 6, 5), 3, seed=0, backend=backend)
    a = x.full()
    y, info = cp.cp_als(a, 3, init=init, seed=1, tol=1e-14, max_iter=2000, return_info=True)
    assert_like(y.factors[0], a)
    assert rel_error(y.full(), np_of(x)) < 1e-6
    assert info.converged and info.errors[-1] < 1e-6
    assert len(info.errors) == info.iterations


def test_four_way_and_complex(backend):
    x = cp.random((4, 3, 5, 2), 2, seed=3, dtype="complex128", backend=backend)
    y = cp.cp_als(x.full(), 2, tol=1e-14, max_iter=3000, seed=2)
    assert backend.dtype_name(y.factors[0]) == "complex128"
    assert rel_error(y.full(), np_of(x)) < 1e-6


def test_fit_with_noise_and_regularization(backend):
    rng = np.random.default_rng(0)
    x = cp.random((10, 9, 8), 3, seed=5, backend=backend)
    noise = backend.asarray(0.01 * rng.standard_normal((10, 9, 8)))
    a = x.full() + noise * float(tnlib.to_numpy(x.norm())) / np.sqrt(720)
    y, info = cp.cp_als(a, 3, return_info=True, tol=1e-10, max_iter=500)
    assert info.errors[-1] < 0.02
    # the reported error is the true one
    assert abs(rel_error(y.full(), a) - info.errors[-1]) < 1e-6
    y2 = cp.cp_als(a, 3, l2_reg=1e-3, tol=1e-10, max_iter=500, linesearch=True)
    assert rel_error(y2.full(), a) < 0.02


def test_large_tensor_matches_numpy(backend):
    """Above 2**16 entries the sweep is compiled whole (XLA on TF): same iterates as NumPy."""
    rng = np.random.default_rng(4)
    x = cp.random((48, 40, 36), 4, seed=6)
    a = x.full() + 0.05 * np.linalg.norm(x.full()) / np.sqrt(48 * 40 * 36) * rng.standard_normal(
        (48, 40, 36))
    kw = {"init": "random", "seed": 3, "tol": 0, "max_iter": 12, "return_info": True}
    ref, ref_info = cp.cp_als(a, 4, **kw)
    y, info = cp.cp_als(backend.asarray(a), 4, **kw)
    assert_like(y.factors[0], backend.asarray(a))
    np.testing.assert_allclose(info.errors, ref_info.errors, rtol=1e-9)
    assert rel_error(y.full(), np_of(ref)) < 1e-8
    z, z_info = cp.cp_als(backend.asarray(a), 4, linesearch=True, **kw)
    assert z_info.errors[-1] <= ref_info.errors[-1] + 1e-12
    assert abs(rel_error(z.full(), a) - z_info.errors[-1]) < 1e-9


def test_degenerate_border_rank_tensor(backend):
    """a⊗b⊗b + b⊗a⊗b + b⊗b⊗a has rank 3 but border rank 2: no best rank-2 fit exists."""
    a1, b1 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    t = (np.einsum("i,j,k->ijk", a1, b1, b1) + np.einsum("i,j,k->ijk", b1, a1, b1)
         + np.einsum("i,j,k->ijk", b1, b1, a1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y, info = cp.cp_als(backend.asarray(t), 2, init="random", seed=0, max_iter=200,
                            return_info=True)
    assert np.all(np.isfinite(np_of(y)))
    assert not info.converged
    messages = [str(w.message) for w in caught if issubclass(w.category, tnlib.ConvergenceWarning)]
    assert messages and "degeneracy" in messages[0]
    assert info.congruence < -0.8 and info.max_weight[-1] > info.max_weight[10]
    # an SVD start must not crash either
    y2 = cp.cp_als(backend.asarray(t), 2, init="svd", max_iter=50, tol=0)
    assert np.all(np.isfinite(np_of(y2)))


def test_callback_and_verbose(backend, capsys):
    seen = []
    a = cp.random((4, 4, 4), 2, seed=0, backend=backend).full()
    cp.cp_als(a, 2, max_iter=3, tol=0, callback=lambda info: seen.append(info.iterations),
              verbose=True)
    assert seen == [1, 2, 3]
    assert capsys.readouterr().out.count("cp_als") == 3


def test_bad_input(backend):
    a = backend.ones((3, 3, 3))
    with pytest.raises(tnlib.TnlibError, match="rank must be an integer >= 1, got 0"):
        cp.cp_als(a, 0)
    with pytest.raises(tnlib.ShapeError, match="at least 2 axes"):
        cp.cp_als(backend.ones((3,)), 1)
    with pytest.raises(tnlib.TnlibError, match="init must be"):
        cp.cp_als(a, 1, init="magic")
    with pytest.raises(tnlib.TnlibError, match="tol must be"):
        cp.cp_als(a, 1, tol=-1.0)
    with pytest.raises(tnlib.TnlibError, match="init must be"):  # checked for zeros too
        cp.cp_als(0.0 * a, 1, init="magic")
    with pytest.raises(tnlib.ArgumentError, match=r"CPTensor \*: only scalars, got"):
        cp.random((3, 4), 2, seed=0, backend=backend) * backend.ones((2,))


@pytest.mark.parametrize("init", ["svd", "random"])
def test_the_zero_tensor_is_the_cp_of_zero_weights(backend, init):
    a = backend.zeros((3, 4, 5))
    x, info = cp.cp_als(a, 2, init=init, seed=0, return_info=True)
    assert_like(x.weights, a)
    assert np.all(np_of(x.weights) == 0) and np.all(np_of(x.full()) == 0)
    norms = np.linalg.norm(np_of(x.factors[1]), axis=0)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-12)  # unit columns, as for any fit
    assert info.converged and info.errors == [0.0] and "zero tensor" in info.stop_reason


def test_a_degenerate_svd_start_restarts_from_the_random_one(backend):
    # tied singular vectors: the SVD start's component misses both entries, a factor collapses
    a = on(backend, np.array([[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]]))
    x, info = cp.cp_als(a, 1, seed=0, return_info=True)
    assert info.restarts == 1
    assert rel_error(x.full(), np_of(a)) == pytest.approx(np.sqrt(0.5), rel=1e-6)  # best rank 1
    y, info = cp.cp_als(a, 2, seed=0, return_info=True)
    assert rel_error(y.full(), np_of(a)) < 1e-8


@pytest.mark.parametrize("tol, max_iter", [(1e-6, 200), (0.0, 40)])
def test_cp_als_on_an_accelerator_runs_sweeps_ahead_of_its_reads(backend, one_read,
                                                                 monkeypatch, tol, max_iter):
    # sweeps run ahead in chains (4, 8, ...) and their errors come back in one read: the
    # loop stops at the sweep the one-sweep loop stops at, with the same iterate and record
    a = cp.random((9, 8, 7), 3, seed=2, backend=backend).full()
    a = a + 0.05 * on(backend, np.random.default_rng(3).standard_normal((9, 8, 7)))
    with monkeypatch.context() as m:
        m.setattr(backend, "reads_synchronize", lambda arr: False)
        one_read.clear()
        x, info = cp.cp_als(a, 3, tol=tol, max_iter=max_iter, init="random", seed=0,
                            return_info=True)
        host_reads = len(one_read)
    one_read.clear()
    y, info_ahead = cp.cp_als(a, 3, tol=tol, max_iter=max_iter, init="random", seed=0,
                              return_info=True)
    ahead_reads = len(one_read)
    assert_like(y.weights, a)
    assert 10 < info.iterations == info_ahead.iterations < max_iter or tol == 0
    assert info_ahead.errors == pytest.approx(info.errors, rel=1e-9)
    assert info_ahead.max_weight == pytest.approx(info.max_weight, rel=1e-9)
    assert info_ahead.converged == info.converged == (tol > 0)
    np.testing.assert_allclose(np_of(y.full()), np_of(x.full()), rtol=0, atol=1e-9)
    setup = host_reads - info.iterations  # the host reads once per sweep
    # the accelerator reads the data's finiteness, scale and norm at once (the host: three
    # reads), then runs of 4, 8, 8, 8 sweeps for 27 (tol > 0), 4, 8, 16, 12 for 40 (tol = 0)
    assert info.iterations in (27, 40) and ahead_reads - (setup - 2) == 4


def test_cp_als_on_an_accelerator_restarts_where_the_host_does(backend, one_read):
    # a singular solve in a sweep computed ahead is raised in its turn: the degenerate SVD
    # start restarts from the random one as on the host
    a = on(backend, np.array([[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]]))
    x, info = cp.cp_als(a, 1, seed=0, return_info=True)
    assert info.restarts == 1
    assert rel_error(x.full(), np_of(a)) == pytest.approx(np.sqrt(0.5), rel=1e-6)


def test_to_changes_backend_dtype_and_device(backend):
    x = cp.random((3, 4, 5), 2, seed=1)
    y = x.to(backend=backend, dtype="float32", device="cpu")
    assert y.backend is backend and backend.dtype_name(y.dtype) == "float32"
    assert_like(y.factors[0], backend.ones((1,), dtype="float32"))
    assert_like(y.weights, backend.ones((1,), dtype="float32"))
    assert rel_error(y.full(), x.full()) < 1e-6
    z = y.to(backend="numpy", dtype=np.complex128)  # a framework dtype object works too
    assert isinstance(z.factors[0], np.ndarray) and z.dtype == np.complex128
    assert rel_error(z * 1j, 1j * np_of(x)) < 1e-6  # complex now: the scalar is taken
    with pytest.raises(tnlib.BackendError, match=r"to: device 'cuda:7'"):
        x.to(backend=backend, device="cuda:7")


def test_float32_fits_report_their_true_error(backend):
    # the error formula ‖a‖² - 2 Re<a, x> + ‖x‖² cancels below sqrt(eps): float32 fits of
    # 6e-4 reported errors from 0.0 to 8e-4 and stopped on a zero change of the noise. An
    # error² the formula cannot resolve is recomputed from the residual
    rng = np.random.default_rng(0)
    full = np.einsum("ir,jr,kr->ijk", *[rng.standard_normal((n, 3)) for n in (10, 11, 12)])
    full = full + 1e-3 * np.linalg.norm(full) / np.sqrt(full.size) * \
        rng.standard_normal(full.shape)
    for linesearch in (False, True):
        y, info = cp.cp_als(backend.asarray(full.astype(np.float32)), 3, seed=0,
                            return_info=True, linesearch=linesearch)
        assert_like(y.weights, backend.asarray(full.astype(np.float32)))
        true = np.linalg.norm(np_of(y.full()).astype(np.float64) - full) / np.linalg.norm(full)
        assert info.converged
        assert info.errors[-1] == pytest.approx(true, rel=1e-3)
        assert all(e > 0.9 * true for e in info.errors)  # no sweep reads below the optimum
    with pytest.warns(tnlib.PrecisionWarning, match=r"cp_als: tol=1e-09 is below the "
                                                    r"resolution of float32"):
        cp.cp_als(backend.asarray(full.astype(np.float32)), 3, seed=0, tol=1e-9)
