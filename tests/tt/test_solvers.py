"""AMEn, DMRG, TDVP and the operator builders against dense references."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from scipy.linalg import expm

import tnlib
from tests.helpers import assert_like, np_of, on
from tnlib import tt

SP = np.array([[0.0, 1.0], [0.0, 0.0]])
SZ = np.diag([0.5, -0.5])


def heisenberg(L, backend, dtype=None):
    return tt.nearest_neighbor(L, pair=[(0.5, SP, SP.T), (0.5, SP.T, SP), (1.0, SZ, SZ)],
                               dtype=dtype, backend=backend)


def dense_residual(a, x, f):
    A, X, F = np_of(a.full()), np_of(x).ravel(), np_of(f).ravel()
    return np.linalg.norm(A @ X - F) / np.linalg.norm(F)


def test_amen_small_laplacian_matches_dense_solve(backend):
    a = tt.laplacian(6, 3, backend=backend)
    f = tt.random((6, 6, 6), 2, seed=1, backend=backend)
    x, info = tt.amen_solve(a, f, eps=1e-10, return_info=True)
    assert_like(x, f)
    ref = np.linalg.solve(np_of(a.full()), np_of(f).ravel())
    assert np.linalg.norm(np_of(x).ravel() - ref) <= 1e-8 * np.linalg.norm(ref)
    assert info.converged and info.residual < 1e-10
    assert abs(dense_residual(a, x, f) - info.residual) < 1e-10


def test_amen_random_spd_system(backend):
    rng = np.random.default_rng(0)
    cores = []
    for _ in range(3):
        m = rng.standard_normal((4, 4))
        cores.append((m @ m.T + 4 * np.eye(4))[None, :, :, None])
    spd = tt.TTMatrix([backend.asarray(c) for c in cores]) + tt.laplacian(4, 3, backend=backend)
    f = tt.ones((4, 4, 4), backend=backend)
    x = tt.amen_solve(spd, f, eps=1e-10, local_solver="gmres")
    assert dense_residual(spd, x, f) < 1e-9


def test_amen_laplacian_d10_n32(backend):
    a = tt.laplacian(32, 10, backend=backend)
    f = tt.ones((32,) * 10, backend=backend)
    x, info = tt.amen_solve(a, f, eps=1e-6, return_info=True)
    assert info.residual <= 1e-6
    assert max(x.ranks) <= 9  # torchTT's rank at the same tolerance
    # the residual train's norm by rounding and by a Gram sweep: both lose digits to the
    # cancellation of A x against f (~1e-10 and ~1e-9 of the relative residual here)
    r = a @ x - f
    ortho = float(np_of(r.round(0).norm() / tt.norm(f)))
    gram = float(np_of(tt.norm(r) / tt.norm(f)))
    assert ortho == pytest.approx(info.residual, abs=1e-9)
    assert gram == pytest.approx(info.residual, abs=1e-8)


def test_amen_mv_matches_exact_product(backend):
    a = tt.laplacian(5, 4, backend=backend)
    x = tt.random((5,) * 4, 3, seed=0, backend=backend)
    y = tt.amen_mv(a, x, eps=1e-10)
    exact = np_of((a @ x).full())
    assert np.linalg.norm(np_of(y.full()) - exact) <= 1e-9 * np.linalg.norm(exact)
    assert max(y.ranks) <= max((a @ x).round(1e-10).ranks)


def test_amen_mv_warns_when_it_stops_short(backend):
    """Two sweeps that add two ranks each cannot reach a product of ranks near 24: the
    result was 20-40 % off with converged=False and no warning. It warns now; with
    sweeps enough it converges, silently, to the exact product."""
    a = tt.circulant(tt.random((2,) * 8, 3, seed=0, backend=backend))
    x = tt.random((2,) * 8, 4, seed=1, backend=backend)
    exact = np_of(a @ x)
    with pytest.warns(tnlib.ConvergenceWarning, match=r"amen_mv: stopped after 2 sweeps"):
        y, info = tt.amen_mv(a, x, eps=1e-10, max_sweeps=2, kickrank=2, return_info=True)
    assert not info.converged
    assert np.linalg.norm(np_of(y) - exact) > 1e-3 * np.linalg.norm(exact)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, info = tt.amen_mv(a, x, eps=1e-10, max_sweeps=30, return_info=True)
    assert info.converged
    assert np.linalg.norm(np_of(y) - exact) <= 1e-9 * np.linalg.norm(exact)


@pytest.mark.parametrize("x_scale, a_scale", [(1e200, 1.0), (1e-200, 1.0), (1.0, 1e200),
                                              (1e-250, 1e-50)])
def test_amen_mv_of_operands_near_the_float_limits(backend, x_scale, a_scale):
    # the local right-hand sides' norms overflowed for x of 1e200 (NumPy's overflow
    # warnings, NaN residuals): the product is fitted at unit scale, as amen_solve does
    a = tt.laplacian(5, 4, backend=backend)
    x = tt.random((5,) * 4, 3, seed=0, backend=backend)
    exact = np_of((a @ x).full())
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        y = tt.amen_mv(a * a_scale, x * x_scale, eps=1e-10)
    assert_like(y, x)
    got = np_of((y * (1 / x_scale)).full()) / a_scale
    assert np.linalg.norm(got - exact) <= 1e-9 * np.linalg.norm(exact)


@pytest.mark.parametrize("L", [10])
def test_dmrg_heisenberg_matches_exact_diagonalization(backend, L):
    h = heisenberg(L, backend)
    exact = np.linalg.eigvalsh(np_of(h.full()))[0]
    value, x, info = tt.dmrg_eig(h, max_rank=32, eps=1e-10, return_info=True)
    assert abs(float(tnlib.to_numpy(value)) - exact) < 1e-9 * abs(exact)
    assert abs(float(tnlib.to_numpy(x.norm())) - 1.0) < 1e-10
    # Rayleigh quotient of the returned vector is the returned value
    xv = np_of(x).ravel()
    assert abs(xv @ np_of(h.full()) @ xv - exact) < 1e-8


def test_dmrg_splits_by_gram_matrices_once_the_cap_binds(backend, monkeypatch):
    # L = 12 at max_rank 8: the inner bonds are cut by the cap, far above the Gram
    # matrices' rounding, so they split by eigensolvers; the edge bonds (exact small
    # ranks, eps = 1e-10 below the Gram resolution, or Gram matrices much larger than the
    # rank) by SVDs -- and a bond that once needed an SVD does not try the eigensolver
    # again and again: at most one wasted eigensolver per bond
    from tnlib.backends import host_execution

    calls = {"eigh": 0, "svd": 0}
    for name in calls:
        real = getattr(backend, name)
        monkeypatch.setattr(backend, name, lambda a, real=real, name=name: (
            calls.__setitem__(name, calls[name] + 1), real(a))[1])
    h = heisenberg(12, backend)
    exact = np.linalg.eigvalsh(np_of(h.full()))[0]
    with host_execution(False):
        value, _, info = tt.dmrg_eig(h, max_rank=8, eps=1e-10, tol=1e-8, return_info=True)
    splits = 2 * 11 * info.iterations
    if not backend.shape_compiles:  # JAX traces its compiled programs once per shape
        assert calls["eigh"] + calls["svd"] <= splits + 11
        assert calls["eigh"] >= splits // 2
    ref, _ = tt.dmrg_eig(heisenberg(12, tnlib.backends.get("numpy")), max_rank=8,
                         eps=1e-10, tol=1e-8)
    assert abs(float(np_of(value)) - float(ref)) < 1e-8 * abs(exact)


def test_dmrg_rejects_nonsymmetric_and_nonsquare(backend):
    rng = np.random.default_rng(0)
    a = tt.TTMatrix([backend.asarray(rng.standard_normal((1, 3, 3, 1))),
                     backend.asarray(rng.standard_normal((1, 3, 3, 1)))])
    with pytest.raises(tnlib.TnlibError, match="symmetric"):
        tt.dmrg_eig(a)
    with pytest.raises(tnlib.ShapeError, match="square"):
        tt.dmrg_eig(tt.TTMatrix([backend.ones((1, 2, 3, 1))]))


def test_tdvp_full_rank_matches_expm(backend):
    h = heisenberg(4, backend, dtype="complex128")
    x0 = tt.random((2,) * 4, (2, 4, 2), seed=0, dtype="complex128", backend=backend)
    x = tt.tdvp(-1j * h, x0, t=0.7, steps=3)
    assert_like(x, x0)
    ref = expm(-0.7j * np_of(h.full())) @ np_of(x0).ravel()
    assert np.linalg.norm(np_of(x).ravel() - ref) < 1e-9 * np.linalg.norm(ref)


def test_tdvp_conserves_norm_and_energy_at_low_rank(backend):
    h = heisenberg(6, backend, dtype="complex128")
    x0 = tt.random((2,) * 6, 3, seed=1, dtype="complex128", backend=backend)
    x = tt.tdvp(-1j * h, x0, t=1.0, steps=5)
    n0, n1 = (float(tnlib.to_numpy(v.norm())) for v in (x0, x))
    e0 = complex(tnlib.to_numpy(tt.dot(x0, h @ x0))).real / n0**2
    e1 = complex(tnlib.to_numpy(tt.dot(x, h @ x))).real / n1**2
    assert abs(n1 - n0) < 1e-9 * n0
    assert abs(e1 - e0) < 1e-8 * max(1.0, abs(e0))
    assert all(a <= b for a, b in zip(x.ranks, x0.ranks))


def test_tdvp_real_dissipative_flow(backend):
    lap = tt.laplacian(5, 2, backend=backend)
    x0 = tt.random((5, 5), 5, seed=0, backend=backend)
    x = tt.tdvp(-1.0 * lap, x0, t=0.2, steps=4)
    ref = expm(-0.2 * np_of(lap.full())) @ np_of(x0).ravel()
    assert np.linalg.norm(np_of(x).ravel() - ref) < 1e-9 * np.linalg.norm(ref)


def test_operator_builders(backend):
    h = heisenberg(5, backend)
    assert h.ranks == (1, 5, 5, 5, 5, 1)
    dense = np.zeros((32, 32))
    for i in range(4):
        for c, a, b in [(0.5, SP, SP.T), (0.5, SP.T, SP), (1.0, SZ, SZ)]:
            ops = [np.eye(2)] * 5
            ops[i], ops[i + 1] = a, b
            term = ops[0]
            for m in ops[1:]:
                term = np.kron(term, m)
            dense += c * term
    np.testing.assert_allclose(np_of(h.full()), dense, atol=1e-14)
    x = np.array([[0.0, 1.0], [1.0, 0.0]])
    s = tt.operator_sum([(0.3, {0: x}), (0.7, {1: x, 2: x})], (2, 2, 2), backend=backend)
    ref = 0.3 * np.kron(np.kron(x, np.eye(2)), np.eye(2)) + 0.7 * np.kron(np.eye(2), np.kron(x, x))
    np.testing.assert_allclose(np_of(s.full()), ref, atol=1e-14)
    lap = tt.qtt_laplacian(5, backend=backend)
    assert max(lap.ranks) == 3
    np.testing.assert_allclose(np_of(lap.full()),
                               2 * np.eye(32) - np.eye(32, k=1) - np.eye(32, k=-1), atol=1e-13)


def test_solver_bad_input(backend):
    a = tt.laplacian(4, 3, backend=backend)
    with pytest.raises(tnlib.ShapeError, match="f has shape"):
        tt.amen_solve(a, tt.ones((4, 4), backend=backend))
    with pytest.raises(tnlib.ShapeError, match="square"):
        tt.amen_solve(tt.TTMatrix([backend.ones((1, 2, 3, 1))]), tt.ones((2,), backend=backend))
    with pytest.raises(tnlib.TnlibError, match="dtype"):
        tt.tdvp(a, tt.ones((4, 4, 4), dtype="float32", backend=backend), t=1.0)


def _neel(L, backend):
    return tt.TTTensor([backend.asarray(np.eye(2, dtype=complex)[k % 2].reshape(1, 2, 1))
                        for k in range(L)])


def test_tdvp_two_site_grows_ranks_and_converges_to_expm(backend):
    L = 6
    h = heisenberg(L, backend, dtype="complex128")
    x0 = _neel(L, backend)
    ref = expm(-1.0j * np_of(h.full())) @ np_of(x0).ravel()
    errors = []
    for steps in (4, 8):
        x, info = tt.tdvp(-1j * h, x0, t=1.0, steps=steps, method="2site", eps=1e-10,
                          return_info=True)
        errors.append(np.linalg.norm(np_of(x).ravel() - ref) / np.linalg.norm(ref))
    assert_like(x, x0)
    assert x.ranks == (1, 2, 4, 8, 4, 2, 1)  # grown from the product state
    assert info.max_ranks[0] < info.max_ranks[-1] and max(info.errors) < 1e-9
    assert errors[1] < 1e-4 and errors[0] / errors[1] > 3  # converges with the step
    # norm and energy are conserved up to the truncation
    n1 = float(tnlib.to_numpy(x.norm()))
    e0 = complex(tnlib.to_numpy(tt.dot(x0, h @ x0))).real
    e1 = complex(tnlib.to_numpy(tt.dot(x, h @ x))).real / n1**2
    assert abs(n1 - 1.0) < 1e-8 and abs(e1 - e0) < 1e-7
    # the one-site method cannot leave the product manifold
    assert tt.tdvp(-1j * h, x0, t=1.0, steps=2).ranks == (1,) * (L + 1)


def test_tdvp_two_site_max_rank_and_bad_method(backend):
    h = heisenberg(6, backend, dtype="complex128")
    x = tt.tdvp(-1j * h, _neel(6, backend), t=1.0, steps=3, method="2site", max_rank=3)
    assert max(x.ranks) == 3
    assert abs(float(tnlib.to_numpy(x.norm())) - 1.0) < 0.05  # truncation loses a little
    with pytest.raises(tnlib.TnlibError, match="method"):
        tt.tdvp(-1j * h, _neel(6, backend), t=1.0, method="3site")
    with pytest.raises(tnlib.TnlibError, match="eps"):
        tt.tdvp(-1j * h, _neel(6, backend), t=1.0, method="2site", eps=-1.0)


@pytest.mark.filterwarnings("ignore::tnlib.ConvergenceWarning")  # two DMRG sweeps, all paths
def test_solvers_in_the_framework_agree_with_the_host_path(backend, monkeypatch):
    # the framework path (what runs under autodiff or on a GPU) and, with an accelerator
    # faked, its read-saving branches: the host path's results, in the caller's arrays
    # (one test for both, so that eager JAX compiles its operations once)
    from tnlib.backends import host_execution

    a = tt.laplacian(4, 3, backend=backend)  # small: eager JAX compiles every op per shape
    f = tt.random((4,) * 3, 2, seed=1, backend=backend)
    h = heisenberg(4, backend)
    x0 = tt.random((2,) * 4, 2, seed=2, backend=backend)
    runs = []
    for framework, accelerator in ((False, False), (True, False), (True, True)):
        with host_execution(not framework), monkeypatch.context() as m:
            if accelerator:
                m.setattr(backend, "reads_synchronize", lambda arr: True)
            runs.append((tt.amen_solve(a, f, eps=1e-6, local_solver="gmres"),
                         tt.dmrg_eig(h, x0, max_rank=4, max_sweeps=2)[0],
                         tt.tdvp(h, x0, 0.2, steps=2),
                         tt.tdvp(h, x0, 0.2, steps=2, method="2site", max_rank=4)))
    (x, e, y1, y2) = runs[0]
    for xf, ef, y1f, y2f in runs[1:]:
        assert_like(xf, f)
        assert np.linalg.norm(np_of(xf) - np_of(x)) <= 1e-8 * np.linalg.norm(np_of(x))
        assert abs(float(np_of(ef)) - float(np_of(e))) <= 1e-9 * abs(float(np_of(e)))
        for y, yf in ((y1, y1f), (y2, y2f)):
            assert_like(yf, x0)
            assert np.linalg.norm(np_of(yf) - np_of(y)) <= 1e-9 * np.linalg.norm(np_of(y))


def test_amen_rank_trials_on_an_accelerator_match_the_host_search(backend, monkeypatch):
    # on an accelerator the trial ranks' residuals come from one application of the local
    # operator to the stack of trials (every rank's at once where that is cheap, else a few
    # per read): the ranks must be those of one trial at a time, and every rank's residuals
    # are read with the singular values
    from tnlib.tt import _env as env
    from tnlib.tt._amen_rank import residual_truncation

    rng = np.random.default_rng(4)
    c, j, d = 3, 4, 5  # the local core (r, n, r'): a 12 x 5 matrix of rank 5
    left, op, right = (rng.standard_normal(sh) for sh in [(c, 2, c), (2, j, j, 2), (d, 2, d)])
    op = op + np.einsum("AB,ij->AijB", np.eye(2), 4 * np.eye(j))  # well conditioned
    s = np.logspace(0, -4, 5)
    u = np.linalg.qr(rng.standard_normal((c * j, 5)))[0] * s @ np.linalg.qr(
        rng.standard_normal((d, 5)))[0].T
    g = np.einsum("aAc,AijB,bBd,cjd->aib", left, op, right, u.reshape(c, j, d))
    xs = [on(backend, a) for a in (left, op, right, u, g)]
    apply = env.one_site(backend, *xs[:3])
    ranks, reads = {}, {}
    for accelerator, flops in ((False, 0.0), (True, 0.0), (True, math.inf)):
        with monkeypatch.context() as m:
            m.setattr(backend, "reads_synchronize", lambda a: accelerator)
            calls = []
            m.setattr(backend, "to_numpy", lambda a, read=backend.to_numpy: (
                calls.append(1), read(a))[1])
            ranks[accelerator, flops] = [backend.shape(residual_truncation(
                backend, xs[3], apply, xs[4], (c, j, d), tol, None, flops)[1])[0]
                for tol in (1e-1, 1e-2, 1e-3, 1e-4, 1e-6)]
            reads[accelerator, flops] = len(calls)
    assert ranks[True, 0.0] == ranks[True, math.inf] == ranks[False, 0.0]
    assert len(set(ranks[False, 0.0])) >= 3  # the searches went to different ranks
    assert reads[True, 0.0] == 5 < reads[True, math.inf]  # one read per truncation


def test_amen_on_an_accelerator_reads_once_per_core(monkeypatch):
    # each truncation reads the singular values with every trial rank's residual, and the
    # sweep reads its local residuals once at its end: the same solution as the search that
    # reads a few trials at a time, in fewer reads. The count is the algorithm's, the same
    # on every backend (on NumPy here: eager JAX compiles each of AMEn's shapes); the
    # operations are checked on each backend by the test above
    from tnlib.backends import host_execution
    from tnlib.tt import _amen_rank

    xp = tnlib.backends.get("numpy")
    reads = []
    to_numpy, item = xp.to_numpy, xp.item
    monkeypatch.setattr(xp, "reads_synchronize", lambda a: True)
    monkeypatch.setattr(xp, "to_numpy", lambda a: reads.append(1) or to_numpy(a))
    monkeypatch.setattr(xp, "item", lambda a: reads.append(1) or item(a))
    a, f = tt.laplacian(5, 5), tt.random((5,) * 5, 2, seed=1)
    runs = {}
    for every in (True, False):
        with monkeypatch.context() as m, host_execution(False):
            if not every:
                m.setattr(_amen_rank, "_EVERY_RANK_LAUNCHES", 0)
            reads.clear()
            x, info = tt.amen_solve(a, f, eps=1e-8, return_info=True)
            runs[every] = x, info, len(reads)
    (x, info, reads_every), (x_ahead, info_ahead, reads_ahead) = runs[True], runs[False]
    assert x.ranks == x_ahead.ranks and info.errors == info_ahead.errors
    assert info.converged and info.residual < 1e-8
    assert reads_every < 0.7 * reads_ahead, (reads_every, reads_ahead)  # 48 against 76


def test_amen_rank_trials_read_ahead_find_the_same_rank():
    # on an accelerator AMEn's residual truncation tries several ranks per read; the rank
    # found must be the one-trial-per-read search's, whatever the residuals do
    from tnlib.tt._amen_rank import _trial_ranks

    rng = np.random.default_rng(0)
    for _ in range(300):
        limit = int(rng.integers(1, 14))
        r = int(rng.integers(1, limit + 1))
        good = rng.random(limit + 1) < rng.random()
        reads = []

        def meets(ranks, good=good, reads=reads):
            reads.append(len(ranks))
            return [bool(good[q]) for q in ranks]

        def one_by_one(r, limit=limit, good=good):  # the search, one trial at a time
            if r >= limit or good[r]:
                while r > 1 and good[r - 1]:
                    r -= 1
                return r
            while r < limit:
                r = min(limit, r + max(1, r // 4))
                if good[r]:
                    break
            return r

        expected = one_by_one(r)
        for ahead in (1, 2, 3, 4, 6):
            calls = len(reads)
            assert _trial_ranks(r, limit, meets, ahead) == expected
            assert all(n <= ahead for n in reads[calls:])


def test_amen_auto_solves_larger_local_systems_densely_on_an_accelerator(backend, monkeypatch):
    # dense LU where its flops cost less than the launches of a few GMRES iterations
    from tnlib.tt.amen import _dense_pays

    like = backend.ones((2,))
    assert _dense_pays(400, backend, like) and not _dense_pays(401, backend, like)
    monkeypatch.setattr(backend, "reads_synchronize", lambda a: True)
    assert _dense_pays(3200, backend, like) and not _dense_pays(5000, backend, like)


@pytest.mark.filterwarnings("ignore::tnlib.ConvergenceWarning")
def test_dmrg_of_a_complex_hamiltonian_on_the_framework_path(backend):
    # the framework path (autodiff, GPU) mixes no real norms into complex arrays: TensorFlow
    # refuses complex / real
    from tnlib.backends import host_execution

    h = heisenberg(4, backend, dtype="complex128")
    x0 = tt.random((2,) * 4, 2, seed=2, dtype="complex128", backend=backend)
    with host_execution(False):
        e, x = tt.dmrg_eig(h, x0, max_rank=4, max_sweeps=4)
    assert_like(x, x0)
    ref = np.linalg.eigvalsh(np_of(h.full()))[0]
    assert abs(float(np_of(e)) - ref) <= 1e-8 * abs(ref)


def _scaled(x, factors):
    """`x` with core k multiplied by factors[k] (a train of the same backend)."""
    return tt.TTTensor([c * f for c, f in zip(x.cores, factors)])


def _rel(got, want):
    return np.linalg.norm(got - want) / np.linalg.norm(want)


@pytest.mark.parametrize("scale", [1e-200, 1e160])
def test_solvers_take_states_near_the_float_limits(backend, scale):
    """States and right-hand sides whose norms (or squares) leave the float range are
    solved at unit scale: DMRG's energy, AMEn's and TDVP's solutions and rounding (all
    linear in the state) are those of the unit-scale problem, scaled. Before: DMRG and
    TDVP failed with a LinAlgError, rounding called the cores non-finite, AMEn returned
    a solution 40 % wrong without a word."""
    h = tt.laplacian(4, 4, backend=backend)
    x0 = tt.random((4,) * 4, 2, seed=0, backend=backend)
    xs = _scaled(x0, [scale, 1, 1, 1])
    e_ref = float(tnlib.to_numpy(tt.dmrg_eig(h, x0, max_rank=8)[0]))
    assert abs(float(tnlib.to_numpy(tt.dmrg_eig(h, xs, max_rank=8)[0])) - e_ref) <= \
        1e-10 * abs(e_ref)
    runs = {
        "amen": lambda x: tt.amen_solve(h, x, eps=1e-10),
        "tdvp 1site": lambda x: tt.tdvp(-1.0 * h, x, t=0.1, steps=2, method="1site"),
        "tdvp 2site": lambda x: tt.tdvp(-1.0 * h, x, t=0.1, steps=2, method="2site",
                                        max_rank=8),
        "round": lambda x: (x + x).round(1e-12),
    }
    for name, run in runs.items():
        got = run(xs)
        assert_like(got, x0)
        assert _rel(np_of(got) / scale, np_of(run(x0))) <= 1e-12, name


@pytest.mark.parametrize("op_scale", [1e-200, 1e200])
def test_solvers_take_operators_near_the_float_limits(backend, op_scale):
    """An operator whose cores leave the float range's safe middle is solved at unit scale
    (a power of two taken out of its cores): DMRG's energy scales with it, AMEn's solution
    inversely, TDVP evolves for the time scaled back. Before: DMRG's energy was wrong by
    400 %, TDVP's state by 20 %."""
    h = tt.laplacian(4, 4, backend=backend)
    hs = tt.TTMatrix([c * (op_scale if k == 0 else 1) for k, c in enumerate(h.cores)])
    x0 = tt.random((4,) * 4, 2, seed=0, backend=backend)
    e_ref = float(tnlib.to_numpy(tt.dmrg_eig(h, x0, max_rank=8)[0]))
    e = float(tnlib.to_numpy(tt.dmrg_eig(hs, x0, max_rank=8)[0]))
    assert abs(e / op_scale - e_ref) <= 1e-10 * abs(e_ref)
    x = tt.amen_solve(hs, x0, eps=1e-10)
    assert_like(x, x0)
    assert _rel(np_of(x) * op_scale, np_of(tt.amen_solve(h, x0, eps=1e-10))) <= 1e-9
    y = tt.tdvp(-1.0 * hs, x0, t=0.1 / op_scale, steps=2, method="1site")
    assert _rel(np_of(y), np_of(tt.tdvp(-1.0 * h, x0, t=0.1, steps=2, method="1site"))) \
        <= 1e-12
    # the symmetry check still sees a non-symmetric operator of that size (its norms
    # over- or underflowed: NaN or 0 passed the check)
    rng = np.random.default_rng(0)
    a = tt.TTMatrix([backend.asarray(rng.standard_normal((1, 3, 3, 1)) * s)
                     for s in (op_scale, 1.0)])
    with pytest.raises(tnlib.TnlibError, match="symmetric"):
        tt.dmrg_eig(a)
    # an operator whose eigenvalues are past the range (1e600) is refused by name
    huge = tt.TTMatrix([c * (1e300 if k < 2 else 1) for k, c in enumerate(h.cores)])
    for call, name in ((lambda: tt.dmrg_eig(huge, x0, max_rank=8), "dmrg_eig: H"),
                       (lambda: tt.tdvp(huge, x0, t=1.0, steps=1), "tdvp: A")):
        with pytest.raises(tnlib.ArgumentError, match=f"{name}'s scale .* beyond the float"):
            call()


def test_dmrg_and_tdvp_start_from_trains_whose_norm_overflows(backend):
    """A train of moderate cores whose norm is beyond the float range (a random train of a
    few hundred cores; here 12 cores of 1e15): the norm no longer collects in one core
    (DMRG stopped with a zero start vector, TDVP said the solution overflowed)."""
    h = tt.laplacian(2, 12, backend=backend)
    x0 = tt.random((2,) * 12, 2, seed=0, backend=backend)
    big = _scaled(x0, [1e15] * 12)  # norm ~1e180: its square overflows
    e_ref = float(tnlib.to_numpy(tt.dmrg_eig(h, x0, max_rank=4)[0]))
    assert abs(float(tnlib.to_numpy(tt.dmrg_eig(h, big, max_rank=4)[0])) - e_ref) <= \
        1e-10 * abs(e_ref)
    y = tt.tdvp(-1.0 * h, big, t=0.05, steps=1, method="1site")
    ref = np_of(tt.tdvp(-1.0 * h, x0, t=0.05, steps=1, method="1site"))
    assert _rel(np_of(_scaled(y, [1e-15] * 12)), ref) <= 1e-12


def test_tdvp_warns_once_when_krylov_dim_is_too_small(backend):
    """Two Krylov vectors cannot meet tol = 1e-12 for these local steps even in 1024
    sub-steps: one ConvergenceWarning naming tdvp and how many local steps missed (there
    was one per local step, naming expm_krylov); the result is still close."""
    import warnings

    a = tt.laplacian(4, 3, backend=backend)
    x0 = tt.random((4,) * 3, (4, 4), seed=0, backend=backend)  # full rank: TDVP is exact
    ref = expm(-0.5 * np_of(a.full())) @ np_of(x0).ravel()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x = tt.tdvp(-1.0 * a, x0, t=0.5, steps=2, krylov_dim=2)
    found = [w for w in caught if issubclass(w.category, tnlib.ConvergenceWarning)]
    assert len(found) == 1, [str(w.message) for w in caught]
    assert re.match(r"tdvp: \d+ of 20 local exponentials miss tol = 1e-12 with 2 Krylov",
                    str(found[0].message))  # 2 steps, each 2 sweeps of 3 + 2 local steps
    assert_like(x, x0)
    assert np.linalg.norm(np_of(x).ravel() - ref) < 1e-3 * np.linalg.norm(ref)
    with warnings.catch_warnings():
        warnings.simplefilter("error", tnlib.ConvergenceWarning)  # enough vectors: no word
        x = tt.tdvp(-1.0 * a, x0, t=0.5, steps=2)
    assert np.linalg.norm(np_of(x).ravel() - ref) < 1e-9 * np.linalg.norm(ref)


def test_solvers_report_a_local_problem_that_overflows(backend, monkeypatch):
    """The Krylov methods' NonFiniteError inside a solver (finite, balanced input whose
    products still overflow) comes back naming the solver, the place and the sweep, with
    the Krylov error as its cause."""
    from tnlib import NonFiniteError
    from tnlib.tt import amen as amen_module
    from tnlib.tt import dmrg as dmrg_module

    inner = NonFiniteError("lanczos_lowest: matvec gave non-finite values at Krylov step 1")

    def overflowing(*args, **kwargs):
        raise inner

    monkeypatch.setattr(dmrg_module, "lanczos_run", overflowing)
    with pytest.raises(NonFiniteError, match=r"dmrg_eig: the local eigenproblem of sites 0 "
                                             r"and 1 gave non-finite values in sweep 1") as err:
        tt.dmrg_eig(heisenberg(4, backend), max_rank=4)
    assert err.value.__cause__ is inner
    monkeypatch.setattr(amen_module, "gmres_run", overflowing)
    a = tt.laplacian(6, 3, backend=backend)
    with pytest.raises(NonFiniteError, match=r"amen_solve: the local systems gave non-finite "
                                             r"values in sweep 1") as err:
        tt.amen_solve(a, tt.ones((6,) * 3, backend=backend), local_solver="gmres")
    assert err.value.__cause__ is inner


def test_tdvp_to_a_time_whose_exponential_overflows(backend):
    """A step so long that ``dt A`` has no finite exponential: a NonFiniteError naming
    tdvp (the scaling-and-squaring expm took the log of an infinite norm)."""
    from tnlib import NonFiniteError

    a = tt.laplacian(3, 3, backend=backend)
    for t in (1.4e308, 1e200):
        with pytest.raises(NonFiniteError, match="tdvp: the solution is no longer finite"):
            tt.tdvp(a, tt.ones((3, 3, 3), backend=backend), t, steps=2)
    inf = backend.asarray(np.array([[np.inf, 0.0], [0.0, 1.0]]))
    try:  # the contract's own Padé expm raised Python's OverflowError here
        out = backend.expm(inf)
    except NonFiniteError as err:
        assert "expm" in str(err)
    else:  # the frameworks' own: inf in, inf or NaN out
        assert not np.all(np.isfinite(np_of(out)))
