"""The matrix-free Krylov methods on every backend, with vectors of any shape."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.linalg import expm

from tests.helpers import assert_like, np_of, on
from tnlib.backends import host_execution
from tnlib.linalg.krylov import (
    cg,
    expm_krylov,
    expm_run,
    gmres,
    lanczos_lowest,
    lanczos_run,
)

SHAPE = (3, 4, 5)  # the unknowns are a 3-way array, as the TT solvers' local cores are


def _operator(dtype, seed=0):
    n = int(np.prod(SHAPE))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    if dtype == "complex128":
        a = a + 1j * rng.standard_normal((n, n))
    return a


def _vector(dtype, seed=1):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(SHAPE)
    return v + 1j * rng.standard_normal(SHAPE) if dtype == "complex128" else v


def _matvec(backend, a):
    op = on(backend, a)
    return lambda v: backend.reshape(backend.matmul(op, backend.reshape(v, (-1,))), SHAPE)


@pytest.fixture(params=["host", "framework", "accelerator"])
def path(request, backend, monkeypatch):
    """The host path, the framework's (autodiff, GPU), and the framework's with an
    accelerator faked (steps run ahead of the reads)."""
    with host_execution(request.param == "host"), monkeypatch.context() as m:
        if request.param == "accelerator":
            m.setattr(backend, "reads_synchronize", lambda arr: True)
        yield request.param


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_gmres_solves_shaped_systems(backend, path, dtype):
    a = _operator(dtype) + 30 * np.eye(60)  # well conditioned: converges in one cycle
    b = _vector(dtype)
    x, res, it = gmres(_matvec(backend, a), on(backend, b), tol=1e-12, restart=20)
    assert_like(x, on(backend, b))
    assert tuple(x.shape) == SHAPE
    ref = np.linalg.solve(a, b.ravel()).reshape(SHAPE)
    assert np.linalg.norm(np_of(x) - ref) <= 1e-10 * np.linalg.norm(ref)
    assert res <= 1e-12 and 0 < it <= 60


def test_cg_solves_shaped_spd_systems(backend, path):
    a = _operator("float64")
    a = a @ a.T + 60 * np.eye(60)
    b = _vector("float64")
    x, res, _ = cg(_matvec(backend, a), on(backend, b), tol=1e-12)
    assert tuple(x.shape) == SHAPE
    ref = np.linalg.solve(a, b.ravel()).reshape(SHAPE)
    assert np.linalg.norm(np_of(x) - ref) <= 1e-10 * np.linalg.norm(ref)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_lanczos_finds_the_lowest_eigenpair(backend, path, dtype):
    a = _operator(dtype)
    a = a + a.conj().T
    w_ref, v_ref = np.linalg.eigh(a)
    w, v, res = lanczos_lowest(_matvec(backend, a), on(backend, _vector(dtype)), tol=1e-10,
                               krylov_dim=30, max_restarts=50)
    assert_like(v, on(backend, _vector(dtype)))
    assert tuple(v.shape) == SHAPE
    assert abs(w - w_ref[0]) <= 1e-9 * abs(w_ref[0])
    overlap = abs(np.vdot(v_ref[:, 0], np_of(v).ravel()))  # the gauge-free quantity
    assert abs(overlap - 1) <= 1e-8 and res <= 1e-10 * max(1.0, abs(w))


def _separated(dtype):
    """A Hermitian operator whose lowest eigenvalue stands apart (Lanczos: 11 steps to 1e-4
    of it, 17 to 1e-8)."""
    a = _operator(dtype)
    a = a + a.conj().T
    a[0, 0] -= 40
    return a


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("tol", [1e-4, 1e-8])
def test_lanczos_ritz_estimate_is_the_true_residual(backend, path, dtype, tol):
    # without the last application of the operator the residual reported is the Ritz
    # estimate: the basis fully reorthogonalized, it is ‖A v - λ v‖ to rounding, and the
    # eigenpair is the one the explicit check returns
    a = _separated(dtype)
    v0 = on(backend, _vector(dtype))
    w1, v1, res1, steps1 = lanczos_run(_matvec(backend, a), v0, tol, 30, 5)
    w2, v2, res2, steps2 = lanczos_run(_matvec(backend, a), v0, tol, 30, 5, explicit=False)
    assert_like(v2, v0)
    v = np_of(v2).ravel()
    true = np.linalg.norm(a @ v - w2 * v)
    assert 0 < true <= tol * abs(w2)  # converged, and not to rounding: a real comparison
    rounding = 1e-13 * np.linalg.norm(a, 2)
    assert abs(res2 - true) <= 1e-6 * true + rounding
    assert (w2, steps2) == (w1, steps1) and abs(res1 - true) <= rounding
    assert abs(abs(np.vdot(np_of(v1).ravel(), v)) - 1) <= 1e-12
    assert abs(np.linalg.norm(v) - 1) <= 1e-13  # a unit vector without renormalizing


def test_lanczos_runs_ahead_by_the_hint_on_an_accelerator(backend, one_read):
    # a caller solving a sequence of similar problems passes the last one's step count:
    # the steps run ahead that far before the first read, so a problem that needs as many
    # steps is solved in one read (the default runs 4, 8, ... steps between reads)
    a = _separated("float64")
    v0 = on(backend, _vector("float64"))
    w, _, _, steps = lanczos_run(_matvec(backend, a), v0, 1e-4, 30, 5, explicit=False)
    assert 4 < steps < 16  # more than the default's first run
    reads = {}
    for ahead in (None, steps, 3, 30):
        one_read.clear()
        w_ahead, _, _, again = lanczos_run(_matvec(backend, a), v0, 1e-4, 30, 5,
                                           explicit=False, ahead=ahead)
        assert (w_ahead, again) == (w, steps)
        reads[ahead] = len(one_read)
    assert reads[steps] == reads[30] == 1 < reads[None] <= reads[3]


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_expm_krylov_matches_scipy(backend, path, dtype):
    a = _operator(dtype) / 8
    v = _vector(dtype)
    t = -0.7j if dtype == "complex128" else 0.7
    out = expm_krylov(_matvec(backend, a), on(backend, v), t, krylov_dim=30, tol=1e-13)
    assert_like(out, on(backend, v))
    ref = (expm(t * a) @ v.ravel()).reshape(SHAPE)
    assert np.linalg.norm(np_of(out) - ref) <= 1e-10 * np.linalg.norm(ref)


@pytest.mark.parametrize("t, tol", [(-0.05j, 1e-12), (-0.3j, 1e-12), (-0.3j, 1e-6)])
def test_expm_krylov_grows_its_basis_only_as_far_as_the_estimate_needs(backend, path, t, tol):
    # the estimate is tested after 4, 6, 8, 10, 12, 15, ... steps (the same on the host and
    # on an accelerator): a short step or a loose tolerance takes a few products, not
    # krylov_dim of them, and still meets the tolerance
    a = _operator("complex128") / 8
    a = a + a.conj().T  # -i t A is anti-Hermitian: a Schrödinger step, as TDVP takes
    v = _vector("complex128")
    calls = []
    apply = _matvec(backend, a)
    out = expm_krylov(lambda x: calls.append(1) or apply(x), on(backend, v), t,
                      krylov_dim=30, tol=tol)
    ref = (expm(t * a) @ v.ravel()).reshape(SHAPE)
    assert np.linalg.norm(np_of(out) - ref) <= 10 * tol * np.linalg.norm(ref)
    assert len(calls) in (4, 6, 8, 10, 12, 15, 18, 22) and len(calls) < 30
    if t == -0.05j:
        assert len(calls) <= 10


def test_expm_runs_ahead_by_the_hint_on_an_accelerator(backend, one_read, monkeypatch):
    # TDVP passes the last alike step's dimension: the first run of steps goes that far and
    # is read with the start vector's norm (each run of steps is one read), the checkpoints
    # it passes are tested from the rows read, so the result and the dimension are those
    # without the hint
    from tnlib.linalg import krylov

    runs, items = [], []
    arnoldi_run, item = krylov._arnoldi_run, backend.item
    monkeypatch.setattr(krylov, "_arnoldi_run", lambda *a, **k: runs.append(1) or
                        arnoldi_run(*a, **k))
    monkeypatch.setattr(backend, "item", lambda a: items.append(1) or item(a))
    a = _operator("complex128") / 8
    a = a + a.conj().T
    v0 = on(backend, _vector("complex128"))
    out, dim, _ = expm_run(_matvec(backend, a), v0, -0.3j, 30, 1e-12)
    assert 8 < dim < 30
    counts = {}
    for ahead in (None, dim, 4):
        runs.clear()
        items.clear()
        got, again, _ = expm_run(_matvec(backend, a), v0, -0.3j, 30, 1e-12, ahead=ahead)
        counts[ahead] = len(runs), len(items)
        assert again == dim
        np.testing.assert_allclose(np_of(got), np_of(out), rtol=1e-14, atol=1e-14)
    assert counts[dim] == (1, 0)  # one run of steps, no separate read of the start's norm
    assert counts[None] == counts[4] and counts[None][0] > 1


def test_shapes_are_checked(backend):
    from tnlib import ShapeError

    a = _operator("float64") + 30 * np.eye(60)
    b = on(backend, _vector("float64"))
    flat = on(backend, _vector("float64").ravel())
    good = _matvec(backend, a)

    def bad(v):  # forgets to give the vector its shape back
        return backend.reshape(good(v), (-1,))

    with pytest.raises(ShapeError, match=r"gmres: x0 has shape \(60,\), expected \(3, 4, 5\)"):
        gmres(good, b, flat)
    with pytest.raises(ShapeError, match=r"cg: x0 has shape"):
        cg(good, b, flat)
    for call, name in ((lambda: gmres(bad, b), "gmres"), (lambda: cg(bad, b), "cg"),
                       (lambda: lanczos_lowest(bad, b), "lanczos_lowest"),
                       (lambda: expm_krylov(bad, b, 0.1), "expm_krylov")):
        with pytest.raises(ShapeError, match=rf"{name}: matvec's result has shape \(60,\)"):
            call()


def _four_problems(backend, op_scale=1.0):
    """gmres, cg, lanczos and expm on one small system, each as (call(b), reference(b))
    for a right-hand side / start vector b (NumPy): the operator times `op_scale`."""
    a = _operator("float64")
    spd = (a @ a.T + 60 * np.eye(60)) * op_scale
    sym = (a + a.T) * op_scale
    t = 0.1 / op_scale
    w_ref = np.linalg.eigvalsh(sym)[0]
    mv_spd, mv_sym = _matvec(backend, spd), _matvec(backend, sym)
    return {
        "gmres": (lambda b: gmres(mv_spd, on(backend, b), tol=1e-12)[0],
                  lambda b: np.linalg.solve(spd, b.ravel()).reshape(SHAPE)),
        "cg": (lambda b: cg(mv_spd, on(backend, b), tol=1e-12)[0],
               lambda b: np.linalg.solve(spd, b.ravel()).reshape(SHAPE)),
        "expm": (lambda b: expm_krylov(mv_sym, on(backend, b), t, tol=1e-13),
                 lambda b: (expm(t * sym) @ b.ravel()).reshape(SHAPE)),
        "lanczos": (lambda b: lanczos_lowest(mv_sym, on(backend, b), tol=1e-10, krylov_dim=30,
                                             max_restarts=50)[0],
                    lambda b: w_ref),
    }


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e160, 1e300])
def test_vectors_near_the_float_limits(backend, path, scale):
    """A right-hand side or start vector whose norm over- or underflows (or whose squares
    are subnormal) is solved at unit scale and scaled back: the same answer, relative to
    its size, as at unit scale (NumPy's norm overflowed to inf or underflowed to 0 before:
    NaN, zero or 100 % wrong answers)."""
    b = _vector("float64")
    for name, (call, ref) in _four_problems(backend).items():
        got = call(b * scale)
        if name == "lanczos":  # the eigenvalue does not depend on the start's size
            assert abs(got - ref(b)) <= 1e-9 * abs(ref(b)), name
            continue
        assert_like(got, on(backend, b))
        want = ref(b)
        assert np.linalg.norm(np_of(got) / scale - want) <= 1e-9 * np.linalg.norm(want), name


@pytest.mark.parametrize("op_scale", [1e-20, 1e20])
def test_operators_of_any_scale(backend, path, op_scale):
    """Breakdown and convergence tests are relative to the operator's scale: GMRES stopped
    after one step at 47 % error for an operator 1e-20 the right-hand side's size, expm
    likewise, and Lanczos returned an eigenvalue of an operator of norm 1e-8 wrong by 40 %
    (its residual was measured against 1)."""
    b = _vector("float64")
    for name, (call, ref) in _four_problems(backend, op_scale).items():
        got, want = call(b), ref(b)
        if name == "lanczos":
            assert abs(got - want) <= 1e-9 * abs(want), name
        else:
            assert np.linalg.norm(np_of(got) - want) <= 1e-9 * np.linalg.norm(want), name


def test_zero_and_non_finite_start_vectors(backend):
    from tnlib import ArgumentError, NonFiniteError

    a = _operator("float64")
    mv = _matvec(backend, a + a.T)
    b = on(backend, np.zeros(SHAPE))
    with pytest.raises(ArgumentError, match="lanczos_lowest: v0 must be a nonzero vector"):
        lanczos_lowest(mv, b)
    big = b + 1e300  # finite, though its norm overflows: refused only for NaN or inf
    for bad in (b + np.nan, b + np.inf):
        with pytest.raises(NonFiniteError, match="lanczos_lowest: v0 holds non-finite values"):
            lanczos_lowest(mv, bad)
    assert abs(lanczos_lowest(mv, big)[0] - np.linalg.eigvalsh(a + a.T)[0]) < 1e-8
    # a zero right-hand side has the zero solution; exp(tA) 0 = 0
    assert np.all(np_of(gmres(mv, b)[0]) == 0) and np.all(np_of(cg(mv, b)[0]) == 0)
    assert np.all(np_of(expm_krylov(mv, b, 0.3)) == 0)


def test_non_finite_products_are_errors_naming_matvec(backend, path):
    """A matvec that gives NaN, or products whose norm overflows (an operator of norm
    1e200), is an error naming it: GMRES and Lanczos returned NaN, a LinAlgError or a
    wrong answer (GMRES 13 %, Lanczos 17 absolute off at 1e200), expm the start vector."""
    from tnlib import NonFiniteError

    a = _operator("float64")
    sym = a + a.T
    v = on(backend, _vector("float64"))
    nan = lambda x: x * np.nan  # noqa: E731
    big = _matvec(backend, sym * 1e200)
    calls = {"gmres": lambda mv: gmres(mv, v), "lanczos_lowest": lambda mv: lanczos_lowest(mv, v),
             "expm_krylov": lambda mv: expm_krylov(mv, v, 1e-201), "cg": lambda mv: cg(mv, v)}
    for name, call in calls.items():
        for mv in (nan, big) if name != "cg" else (nan,):  # CG's recurrences need no norms
            with pytest.raises(NonFiniteError, match=rf"{name}: matvec gave non-finite values"), \
                    warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)  # the error, no NumPy warning
                call(mv)
    for name, call in (("gmres", gmres), ("cg", cg)):
        with pytest.raises(NonFiniteError, match=rf"{name}: b holds non-finite values"):
            call(_matvec(backend, sym), v * np.inf)


def test_expm_krylov_refuses_a_non_finite_start_and_an_overflowing_result(backend, path):
    """A non-finite start and a result past the float range are errors (the result was inf);
    a result inside the range whose exponential ``exp(t H)`` is not is scaled (exact)."""
    from tnlib import NonFiniteError

    v = on(backend, _vector("float64"))
    with pytest.raises(NonFiniteError, match=r"expm_krylov: v holds non-finite values"):
        expm_krylov(lambda x: x, v * np.inf, 0.1)
    # exp(800) = 2^1154: past float64's range; exp(650) v is not (its scale is carried)
    with pytest.raises(NonFiniteError, match=r"exp\(t A\) v overflows for t = 1: its norm is "
                                             r"about 2\^11[56]"):
        expm_krylov(lambda x: x * 800.0, v, 1.0)
    got = np_of(expm_krylov(lambda x: x * 650.0, v * 1e-200, 1.0))
    assert np.linalg.norm(got / np.exp(650.0) / 1e-200 - _vector("float64")) <= 1e-10 * \
        np.linalg.norm(_vector("float64"))


def test_expm_krylov_warns_when_the_finest_split_misses_tol(backend, path):
    """Three Krylov vectors cannot reach 1e-12 for ``t ‖A‖`` ~ 100 even in 1024 sub-steps:
    the finest split's result (error ~1e-3) with a ConvergenceWarning, not the start
    vector (as before)."""
    from tnlib import ConvergenceWarning

    a = _operator("float64")
    sym = a + a.T
    b = _vector("float64")
    with pytest.warns(ConvergenceWarning, match=r"3 Krylov vectors \(krylov_dim\) do not meet"):
        got = expm_krylov(_matvec(backend, sym), on(backend, b), 5.0, krylov_dim=3)
    assert_like(got, on(backend, b))
    want = expm(5.0 * sym) @ b.ravel()
    assert np.linalg.norm(np_of(got).ravel() - want) <= 1e-2 * np.linalg.norm(want)


def test_methods_that_stop_short_of_tol_warn(backend, path):
    """GMRES, CG and Lanczos ending above `tol` (too few iterations) say so with a
    ConvergenceWarning naming the method and the residual; converged calls do not warn,
    nor does GMRES with ``warn=False`` (an inexact inner solve)."""
    import warnings

    from tnlib import ConvergenceWarning

    a = _operator("float64")
    spd, sym = a @ a.T + 60 * np.eye(60), a + a.T
    b = on(backend, _vector("float64"))
    short = {
        "gmres": lambda: gmres(_matvec(backend, a), b, tol=1e-12, restart=5, max_iter=5),
        "cg": lambda: cg(_matvec(backend, spd), b, tol=1e-12, max_iter=3),
        "lanczos_lowest": lambda: lanczos_lowest(_matvec(backend, sym), b, tol=1e-12,
                                                 krylov_dim=4, max_restarts=2),
    }
    for name, call in short.items():
        with pytest.warns(ConvergenceWarning, match=rf"{name}: residual \S+ > tol"):
            call()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        _, res, _ = gmres(_matvec(backend, a), b, tol=1e-12, restart=5, max_iter=5,
                          warn=False)
        assert res > 1e-12  # it did stop short
        gmres(_matvec(backend, spd), b, tol=1e-10)
        cg(_matvec(backend, spd), b, tol=1e-10)
        lanczos_lowest(_matvec(backend, sym), b, tol=1e-8, krylov_dim=30, max_restarts=50)


def test_steps_past_a_breakdown_are_not_checked(backend, path):
    """An operator with two eigenvalues breaks down after two Krylov steps; on an
    accelerator the steps run ahead past it (to the first checkpoint, 4) and are
    discarded. A matvec that gives NaN from its third call on must not make them an
    error: only the steps a method uses are checked."""
    d = on(backend, np.where(np.arange(60) % 2 == 0, -1.0, -3.0).reshape(SHAPE))
    calls = []

    def mv(v):
        calls.append(1)
        return v * d if len(calls) <= 2 else v * np.nan

    b = _vector("float64")
    got = np_of(expm_krylov(mv, on(backend, b), 0.5))
    want = np.exp(0.5 * np_of(d)) * b
    assert np.linalg.norm(got - want) <= 1e-12 * np.linalg.norm(want)
    assert len(calls) == (4 if path == "accelerator" else 2)


def test_counts_must_be_positive(backend):
    """A zero restart looped for ever in GMRES, and Lanczos with no cycle failed deep
    inside: counts below one are ArgumentErrors naming the argument."""
    from tnlib import ArgumentError

    b = on(backend, _vector("float64"))
    ident = lambda x: x  # noqa: E731
    calls = [(lambda: gmres(ident, b, restart=0), "gmres: restart"),
             (lambda: gmres(ident, b, max_iter=0), "gmres: max_iter"),
             (lambda: cg(ident, b, max_iter=-1), "cg: max_iter"),
             (lambda: lanczos_lowest(ident, b, max_restarts=0), "lanczos_lowest: max_restarts"),
             (lambda: lanczos_lowest(ident, b, krylov_dim=0), "lanczos_lowest: krylov_dim"),
             (lambda: expm_krylov(ident, b, 0.1, krylov_dim=1.5), "expm_krylov: krylov_dim")]
    for call, name in calls:
        with pytest.raises(ArgumentError, match=rf"{name} must be an integer >= 1, got"):
            call()


def test_bad_arguments_are_errors_naming_them(backend):
    """Bad tolerances, times, vectors and matvec results are TnlibErrors naming the argument:
    a NaN tol gave a zero "solution" with residual 1, an infinite t a message about complex
    steps, a NaN x0 a NaN CG result without a word, and the rest NumPy's or the framework's
    own TypeErrors and casting errors from deep inside."""
    from tnlib import ArgumentError, NonFiniteError, ShapeError

    a = _operator("float64")
    mv = _matvec(backend, a + a.T + 200 * np.eye(60))
    v = on(backend, _vector("float64"))
    host = np.asarray(np_of(v))
    calls = {"gmres": lambda **k: gmres(k.pop("mv", mv), k.pop("v", v), **k),
             "cg": lambda **k: cg(k.pop("mv", mv), k.pop("v", v), **k),
             "lanczos_lowest": lambda **k: lanczos_lowest(k.pop("mv", mv), k.pop("v", v), **k),
             "expm_krylov": lambda **k: expm_krylov(k.pop("mv", mv), k.pop("v", v), 0.1, **k)}
    for name, call in calls.items():
        for tol in (float("nan"), -1.0, "1e-8", None):
            with pytest.raises(ArgumentError, match=rf"{name}: tol must be a finite real"):
                call(tol=tol)
        with pytest.raises(ArgumentError, match=rf"{name}: matvec must be callable"):
            call(mv=None)
        for empty in (on(backend, np.ones(0)), on(backend, np.array(1.0))):
            with pytest.raises(ShapeError, match=rf"{name}: \w+ must have at least one axis"):
                call(v=empty)
        with pytest.raises(ArgumentError, match=rf"{name}: matvec's result must be an array"):
            call(mv=lambda x: [1.0] * 60)
        with pytest.raises(ArgumentError, match=rf"{name}: matvec's result is complex"):
            call(mv=lambda x: backend.astype(x, "complex128"))
        # integer data is read as floats, as the decompositions read it
        got = call(v=on(backend, np.rint(10 * host).astype(np.int64)))
        assert_like(got if name == "expm_krylov" else got[0 if name != "lanczos_lowest"
                                                          else 1], v)
    for t in (float("nan"), float("inf"), "0.1", None):
        with pytest.raises(ArgumentError, match=r"expm_krylov: t must be a finite real or "):
            expm_krylov(mv, v, t)
    for name, solve in (("gmres", gmres), ("cg", cg)):
        with pytest.raises(NonFiniteError, match=rf"{name}: b - A x0 holds non-finite"):
            solve(mv, v, x0=v * np.nan)


def test_a_tol_below_the_dtype_resolution_is_raised_with_a_warning(backend):
    """float32 cannot resolve a relative residual of 1e-12: a PrecisionWarning and the
    dtype's floor (4 machine epsilons), as the decompositions do."""
    import warnings

    from tnlib import PrecisionWarning

    a = np.diag(np.arange(1.0, 61.0)).astype(np.float32)
    mv = lambda x: backend.reshape(backend.matmul(on(backend, a), backend.reshape(  # noqa: E731
        x, (-1,))), SHAPE)
    v = on(backend, _vector("float64").astype(np.float32))
    for call in (lambda tol: gmres(mv, v, tol=tol), lambda tol: cg(mv, v, tol=tol)):
        with pytest.warns(PrecisionWarning, match=r"tol=1e-12 is below the resolution"):
            x, res, _ = call(1e-12)
        assert res <= 4 * np.finfo(np.float32).eps
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            call(1e-5)  # resolvable: no warning
