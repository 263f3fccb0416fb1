"""Edge cases a new user runs into: each ends in a TnlibError that names the argument,
a warning, or the right answer -- never a silent wrong result or a foreign exception."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy.linalg import expm

import tnlib
from tnlib import cp, ht, linalg, tt, tucker
from tnlib.backends import host_execution
from tnlib.errors import (
    ArgumentError,
    BackendError,
    BackendMismatchError,
    ConvergenceWarning,
    ShapeError,
)

from .helpers import assert_like, np_of, on, rel_error


def _hilbert(n: int = 8) -> np.ndarray:
    i = np.arange(float(n))
    return 1.0 / (1.0 + i[:, None, None] + i[None, :, None] + i[None, None, :])


def test_a_device_the_backend_lacks_is_refused(backend):
    with pytest.raises(BackendError, match=r"tensor: device 'cuda:7' is not available"):
        tnlib.tensor([1.0, 2.0], device="cuda:7", backend=backend)
    with pytest.raises(BackendError, match=r"random: device 'cuda:7'"):
        tt.random((3, 3), 2, device="cuda:7", backend=backend)
    x = tt.ones((3, 4), device="cpu", backend=backend)  # "cpu" is understood everywhere
    assert x.backend.name == backend.name


def test_float64_on_jax_without_x64_is_an_error_that_says_how():
    pytest.importorskip("jax")
    code = ("import tnlib\nfrom tnlib import tt\n"
            "assert tt.ones((2, 2), backend='jax').dtype.name == 'float32'\n"
            "try:\n    tt.ones((2, 2), dtype='float64', backend='jax')\n"
            "except tnlib.BackendError as e:\n    print(e)\n")
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert "dtype='float64' is not available on backend 'jax'" in out.stdout, out.stderr
    assert "jax_enable_x64" in out.stdout


@pytest.mark.parametrize("call", [
    lambda a: tt.tt_svd(a, eps=1e-10),
    lambda a: tucker.hosvd(a, eps=1e-10),
    lambda a: ht.hsvd(a, eps=1e-10),
])
def test_integer_and_bool_data_decompose_as_floats(backend, call):
    ints = np.arange(60).reshape(3, 4, 5) % 7
    x = call(backend.asarray(ints))
    assert rel_error(x, ints.astype(float)) < 1e-9
    assert backend.dtype_name(x.dtype) == backend.default_float_dtype
    call(backend.asarray(ints > 3))


def test_a_non_numeric_array_is_refused():
    with pytest.raises(ArgumentError, match=r"tt_svd: a has dtype"):
        tt.tt_svd(np.array([["a", "b"], ["c", "d"]]))


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_data_of_extreme_scale_decomposes_to_the_same_relative_accuracy(backend, scale):
    a = _hilbert()
    x = tt.tt_svd(on(backend, a * scale), eps=1e-6)
    assert x.ranks == tt.tt_svd(a, eps=1e-6).ranks
    assert np.linalg.norm(np_of(x) / scale - a) <= 1e-6 * np.linalg.norm(a)


@pytest.mark.filterwarnings("ignore::tnlib.ConvergenceWarning")  # CP-ALS: rank 3 of rank 8
@pytest.mark.parametrize("scale", [1e-30, 1e30])
def test_float32_data_of_extreme_scale_decomposes(backend, scale):
    """The safe range depends on the dtype: float32 data of 1e20 has Gram matrices of 1e40,
    past float32's 3e38 (TT-SVD, HOSVD and CP-ALS raised LinAlgError; 1e-30 was "the zero
    tensor" to CP-ALS: its squares underflow)."""
    a = _hilbert()
    xa = on(backend, a * scale, dtype="float32")
    results = {"tt_svd": tt.tt_svd(xa, eps=1e-4), "hosvd": tucker.hosvd(xa, eps=1e-4),
               "cp_als": cp.cp_als(xa, 3, max_iter=100, seed=0)}
    # CP rank 3 approximates: the same fit as at unit scale
    unit = np.asarray(np_of(cp.cp_als(on(backend, a, dtype="float32"), 3, max_iter=100,
                                      seed=0)), dtype=np.float64)
    for name, x in results.items():
        assert_like(x.cores[0] if name == "tt_svd" else x.factors[0], xa)
        ref = unit if name == "cp_als" else a
        got = np.asarray(np_of(x), dtype=np.float64) / scale
        assert np.linalg.norm(got - ref) <= 1e-3 * np.linalg.norm(a), name


@pytest.mark.parametrize("framework_ops", [False, True])
@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_tucker_and_ht_of_extreme_data(backend, scale, framework_ops):
    """Grams of such data overflowed: HOOI raised LinAlgError, TF's eigh InvalidArgumentError."""
    a = _hilbert()
    with host_execution(not framework_ops):
        xa = on(backend, a * scale)
        results = {"hosvd": tucker.hosvd(xa, eps=1e-6), "hooi": tucker.hooi(xa, (3, 3, 3)),
                   "hsvd": ht.hsvd(xa, eps=1e-6)}
    for name, x in results.items():
        tol = 1e-6 if name != "hooi" else 1e-2
        assert np.linalg.norm(np_of(x) / scale - a) <= tol * np.linalg.norm(a), name


@pytest.mark.parametrize("kwargs, match", [
    ({"validation": 0}, "validation must be a number of points >= 1"),
    ({"validation": (np.zeros((0, 4), dtype=int), np.zeros(0))}, "validation set is empty"),
    ({"kickrank": 1.5}, r"kickrank must be an integer in \[0, 1024\], got 1.5"),
    ({"kickrank": 10**9}, r"kickrank must be an integer in \[0, 1024\]"),
    ({"max_evals": 0}, "max_evals must be an integer >= 1"),
    ({"max_rank": 0}, "max_rank must be an integer >= 1"),
])
def test_cross_refuses_bad_settings(kwargs, match):
    with pytest.raises(ArgumentError, match=match):
        tt.cross(lambda i: np.ones(len(i)), (4,) * 4, **kwargs)


def test_cross_refuses_an_x0_of_another_backend():
    torch = pytest.importorskip("torch")
    x0 = tt.ones((4,) * 3, backend="torch")
    assert isinstance(x0.cores[0], torch.Tensor)
    with pytest.raises(BackendMismatchError, match="backend='numpy' but x0 holds torch"):
        tt.cross(lambda i: np.ones(len(i)), (4,) * 3, x0=x0, backend="numpy")


def test_maxvol_that_runs_out_of_swaps_warns(backend):
    a = on(backend, np.random.default_rng(3).standard_normal((200, 12)))
    with pytest.warns(ConvergenceWarning, match=r"maxvol: max \|coef\| = .* > tol = 1.01"):
        rows, coef = linalg.maxvol(a, tol=1.01, max_iter=1)
    assert float(np.abs(np_of(coef)).max()) > 1.01  # the warning tells the truth
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        linalg.maxvol(a, tol=1.01, max_iter=500)


def test_dmrg_with_a_float32_start_computes_in_the_operators_precision(backend):
    h = tt.laplacian(6, 4, backend=backend)
    x0 = tt.random((6,) * 4, 2, seed=0, dtype="float32", backend=backend)
    value, x = tt.dmrg_eig(h, x0=x0, max_rank=4, tol=1e-12)
    assert backend.dtype_name(x.cores[0]) == "float64"
    exact = 4 * (2 - 2 * np.cos(np.pi / 7))
    assert abs(float(np_of(value)) - exact) < 1e-10


def test_dmrg_warns_of_a_tolerance_below_the_dtypes_resolution(backend):
    # tol = 1e-20 cannot be seen in float64: a PrecisionWarning and the floor, which
    # converges, instead of silently sweeping to max_sweeps
    h = tt.laplacian(6, 4, backend=backend)
    exact = 4 * (2 - 2 * np.cos(np.pi / 7))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.warns(tnlib.PrecisionWarning, match=r"dmrg_eig: tol=1e-20 is below the "
                                                        r"resolution of float64"):
            value, _, info = tt.dmrg_eig(h, max_rank=4, tol=1e-20, max_sweeps=10,
                                         return_info=True)
    assert info.converged and abs(float(np_of(value)) - exact) < 1e-10
    # float32 data and eps = 1e-10: the truncation would keep rounding noise as rank
    h32 = tt.TTMatrix([backend.astype(c, "float32") for c in h.cores])
    with pytest.warns(tnlib.PrecisionWarning, match=r"dmrg_eig: eps=1e-10 .* float32"):
        value, x = tt.dmrg_eig(h32, max_rank=4, eps=1e-10, tol=1e-5, seed=0)
    assert backend.dtype_name(x.cores[0]) == "float32"
    assert abs(float(np_of(value)) - exact) < 1e-4


def test_tdvp_warns_of_tolerances_below_the_dtypes_resolution(backend):
    # complex64 data with float64-sized tolerances passed (tol 1e-12, eps 1e-10): each is
    # named in a PrecisionWarning and raised to the floor; the evolution stays complex64.
    # The defaults (the same numbers) mean "as fine as the data resolve": no warning
    h = tt.laplacian(4, 3, backend=backend)
    a = -1j * h.to(dtype="complex64")
    x0 = tt.ones((4,) * 3, dtype="complex64", backend=backend)
    with pytest.warns(tnlib.PrecisionWarning) as record:
        y = tt.tdvp(a, x0, t=0.5, steps=4, tol=1e-12, eps=1e-10)
    said = " ".join(str(w.message) for w in record)
    assert "tdvp: tol=1e-12 is below the resolution of complex64" in said
    assert "tdvp: eps=1e-10 is below the resolution of complex64" in said
    assert backend.dtype_name(y.cores[0]) == "complex64"
    with warnings.catch_warnings():
        warnings.simplefilter("error", tnlib.PrecisionWarning)
        z = tt.tdvp(a, x0, t=0.5, steps=4)
    assert rel_error(z.full(), np_of(y.full())) < 1e-6  # the same floors, the same run
    ref = expm(-0.5j * np_of(h.full())) @ np.ones(64)
    assert np.linalg.norm(np_of(y.full()).ravel() - ref) / np.linalg.norm(ref) < 1e-4


def test_krylov_dims_are_checked_and_never_exceed_the_local_problem(backend):
    h = tt.laplacian(3, 3, backend=backend)
    with pytest.raises(ArgumentError, match=r"dmrg_eig: krylov_dim must be an integer"):
        tt.dmrg_eig(h, krylov_dim=0)
    with pytest.raises(ArgumentError, match=r"tdvp: krylov_dim must be an integer"):
        tt.tdvp(h, tt.ones((3,) * 3, backend=backend), 0.1, krylov_dim=2.5)
    value, _ = tt.dmrg_eig(h, krylov_dim=1000, max_rank=3, tol=1e-12)  # local size 27 at most
    assert abs(float(np_of(value)) - 3 * (2 - 2 * np.cos(np.pi / 4))) < 1e-10


def test_amen_refuses_bad_counts(backend):
    a, f = tt.laplacian(4, 3, backend=backend), tt.ones((4,) * 3, backend=backend)
    with pytest.raises(ArgumentError, match=r"amen_solve: kickrank must be an integer"):
        tt.amen_solve(a, f, kickrank=1.5)
    with pytest.raises(ArgumentError, match=r"amen_solve: max_rank must be an integer >= 1"):
        tt.amen_solve(a, f, max_rank=0)


def test_cp_als_of_integer_data(backend):
    a = (cp.random((5, 6, 7), 2, seed=0).full() * 10).round().astype(np.int64)
    x = cp.cp_als(backend.asarray(a), 4, max_iter=100, tol=0)
    assert rel_error(x, a.astype(float)) < 0.2


def test_norm_and_dot_of_trains_with_extreme_cores(backend):
    x = tt.TTTensor([on(backend, np.full((1, 3, 1), 1e200)),
                     on(backend, np.full((1, 3, 1), 1e-200))])  # entries 1, norm 3
    assert abs(float(np_of(tt.norm(x))) - 3.0) < 1e-12
    assert abs(float(np_of(tt.dot(x, x))) - 9.0) < 1e-11
    big = 1e200 * tt.ones((3, 3), backend=backend)  # norm 3e200: representable
    assert abs(float(np_of(tt.norm(big))) / 3e200 - 1) < 1e-12
    huge = 1e200 * tt.ones((10,) * 4, backend=backend)  # norm 1e202, its square overflows
    assert abs(float(np_of(tt.log_norm(huge))) - 202 * np.log(10)) < 1e-9
    zero = tt.zeros((3, 3), backend=backend)
    assert float(np_of(tt.norm(zero))) == 0.0


def test_values_of_trains_whose_cores_do_not_multiply_safely(backend):
    # every entry is exactly 1, but the first two cores' product is 2^1980
    scales = [2.0**990, 2.0**990, 2.0**-990, 2.0**-990]
    x = tt.TTTensor([on(backend, np.full((1, 3, 1), s)) for s in scales])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way
        assert float(np_of(x.sum())) == 81.0
        assert float(np_of(x[0, 1, 2, 0])) == 1.0
        assert np.all(np_of(x.evaluate(np.array([[0, 1, 2, 0], [2, 2, 2, 2]]))) == 1.0)
        assert np.all(np_of(x.full()) == 1.0)
        assert np.all(np_of(x[0, :, 1, :].full()) == 1.0)
        assert abs(float(np_of(x.norm())) - 9.0) < 4e-15 * 9
        assert abs(float(np_of(tt.dot(x, x))) - 81.0) < 4e-15 * 81
    assert_like(x.sum(), x.cores[0][0, 0, 0])


def test_values_of_trains_with_non_finite_cores_are_non_finite(backend):
    # the power-of-two balancing reads the cores' peaks: inf must not become an exponent
    x = tt.TTTensor([on(backend, np.full((1, 3, 1), np.inf)), on(backend, np.ones((1, 3, 1)))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        values = [x.sum(), x[0, 1], x.full(), x.evaluate(np.array([[0, 1], [2, 2]])),
                  x.norm(), *tt.dot(x, x, log=True)]
    assert not any(np.all(np.isfinite(np_of(v))) for v in values)


def test_products_beyond_the_float_range_warn_and_have_a_log(backend):
    x = tt.TTTensor([on(backend, np.full((1, 3, 1), 2.0**300))] * 4)  # <x, x> = 81 * 2^2400
    with pytest.warns(tnlib.PrecisionWarning, match=r"log=True"):
        assert np.isinf(float(np_of(tt.dot(x, x))))
    sign, logabs = tt.dot(x, -x, log=True)
    assert float(np_of(sign)) == -1.0
    assert abs(float(np_of(logabs)) - (np.log(81) + 2400 * np.log(2))) < 1e-12 * 1700
    assert_like(logabs, x.cores[0][0, 0, 0])
    sign, logabs = tt.dot(x, 0 * x, log=True)
    assert float(np_of(sign)) == 0.0 and float(np_of(logabs)) == -np.inf
    y = tt.TTTensor([on(backend, np.full((1, 3, 1), 2.0**600))] * 4)  # norm 9 * 2^2400
    with pytest.warns(tnlib.PrecisionWarning, match="log_norm"):
        assert np.isinf(float(np_of(tt.norm(y))))
    # and below it: <t, t> = 81 * 2^-2400 reads 0, with the same hint (was silent)
    t = tt.TTTensor([on(backend, np.full((1, 3, 1), 2.0**-300))] * 4)
    with pytest.warns(tnlib.PrecisionWarning, match=r"below the range .* log=True"):
        assert float(np_of(tt.dot(t, t))) == 0.0
    assert abs(float(np_of(tt.dot(t, t, log=True)[1])) - (np.log(81) - 2400 * np.log(2))) < 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(np_of(tt.dot(t, 0 * t))) == 0.0  # a true zero: no warning
        assert float(np_of(tt.log_norm(0 * t))) == -np.inf  # (was NumPy's divide warning)


def test_a_long_train_of_unbalanced_cores():
    """1000 cores alternating 8 and 1/8: every entry is 1, the norm 2^500, the sum 2^1000."""
    x = tt.TTTensor([np.full((1, 2, 1), 8.0 if k % 2 == 0 else 0.125) for k in range(1000)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings on the way either
        assert float(x[(0,) * 1000]) == 1.0
        assert abs(float(x.sum()) / 2.0**1000 - 1) < 1e-12
        for y in (x, x.orthogonalize("left"), x.orthogonalize("right")):
            assert all(np.all(np.isfinite(c)) for c in y.cores)
            assert abs(float(tt.norm(y)) / 2.0**500 - 1) < 1e-10


def test_norm_of_cores_whose_products_pass_through_subnormal_numbers(backend):
    """Cores of 1e-160 and 1e160 alternate: the first product is ~1e-320, a subnormal
    number with three digits left, even though the norm itself is ordinary."""
    rng = np.random.default_rng(0)
    unit = [rng.standard_normal((1 if k == 0 else 2, 2, 1 if k == 3 else 2)) for k in range(4)]
    x = tt.TTTensor([on(backend, c * 10.0**e) for c, e in zip(unit, (-160, 160, -160, 160))])
    expected = np.linalg.norm(tt.TTTensor(unit).full())
    assert abs(float(np_of(tt.norm(x))) / expected - 1) < 1e-12


def test_cp_als_of_extreme_data_and_a_collapsing_start(backend):
    rng = np.random.default_rng(2)
    u = [rng.standard_normal((n, 2)) for n in (5, 6, 7)]
    b = np.einsum("ir,jr,kr->ijk", *u)
    for scale in (1e300 / np.abs(b).max(), 1e-300):
        with host_execution(False):
            x = cp.cp_als(on(backend, b * scale), 2, tol=1e-12, max_iter=300)
        assert np.linalg.norm(np_of(x) / scale - b) <= 1e-6 * np.linalg.norm(b)
    a = np.zeros((1, 3, 3))
    a[0, 0, 0] = a[0, 1, 2] = 1.0  # the SVD start collapses a factor to zero ...
    x, info = cp.cp_als(on(backend, a), 2, seed=0, return_info=True)
    assert info.restarts == 1 and rel_error(x.full(), a) < 1e-8  # ... so it restarts
    zero = cp.CPTensor(on(backend, np.ones(2)), [on(backend, np.zeros((n, 2))) for n in a.shape])
    with pytest.raises(ArgumentError, match="cp_als: the normal equations of sweep 1 are "
                                            "singular.*init='CPTensor'"):
        cp.cp_als(on(backend, a), 2, init=zero)  # a given start is the user's: no restart


def test_tensorflow_qr_of_huge_entries():
    xp = tnlib.backends.get("tensorflow") if "tensorflow" in tnlib.available_backends() else None
    if xp is None:
        pytest.skip("tensorflow not installed")
    m = np.random.default_rng(0).standard_normal((6, 3)) * 1e300  # was NaN
    q, r = xp.qr(xp.asarray(m))
    assert np.allclose(tnlib.to_numpy(q) @ (tnlib.to_numpy(r) / 1e300), m / 1e300, atol=1e-13)


def test_riemannian_bad_arguments_name_themselves(backend):
    from tnlib import riemannian as rm
    from tnlib.errors import ShapeError

    x = tt.random((4, 5, 6), 2, seed=0, backend=backend)
    z = tt.random((4, 5, 6), 3, seed=1, backend=backend)
    nan = on(backend, np.full((4, 5, 6), np.nan))
    cases = [
        (lambda: rm.project(x, None), ShapeError, "project: z must be"),
        (lambda: rm.project(x, "a"), ShapeError, "project: z must be"),
        (lambda: rm.project(x, nan), ArgumentError, "z holds non-finite values"),
        (lambda: rm.project_sum(x, z), ArgumentError, "zs must be a list"),
        (lambda: rm.project_sum(x, None), ArgumentError, "zs must be a list"),
        (lambda: rm.project_sum(x, [z, z], weights="ab"), ShapeError, "weights must be"),
        (lambda: rm.project_sum(x, [z, z], weights=[1.0, np.nan]), ArgumentError,
         r"weights\[1\] is nan"),
        (lambda: rm.project_sum(x, [z, z], weights=on(backend, np.ones((2, 2)))), ShapeError,
         "1-D array"),
        (lambda: rm.retract(x, rm.project(x, z), step="1"), ArgumentError, "step must be"),
        (lambda: rm.retract(x, rm.project(x, z), step=None), ArgumentError, "step must be"),
        (lambda: rm.retract(x, rm.project(x, z), step=1e308), ArgumentError,
         "x \\+ step \\* v is not finite"),
        (lambda: rm.minimize(lambda y: tt.norm(y), x, grad="x"), ArgumentError,
         "grad must be callable"),
        (lambda: rm.minimize(lambda y: tt.norm(y), x, grad=lambda y: 3, max_iter=2),
         ArgumentError, "grad\\(x\\) returned int"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match), warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # the error alone (the retraction
            call()  # by 1e308 printed NumPy's overflow warning first)
    w = on(backend, np.array([1.0, -2.0]))  # a weights array of the backend still works
    v = rm.project_sum(x, [z, z], weights=w)
    assert rel_error(v.full(), -np.asarray(np_of(rm.project(x, z).full()))) < 1e-10
    # a train of finite cores whose norm exceeds the float range is a valid retraction
    # (rounding takes such trains): x + 1e308 z at x's ranks, up to scale z's truncation
    y = rm.retract(x, z, step=1e308)
    # (scaled back in two steps: 1e-308 is subnormal, and XLA flushes those to zero)
    y = tt.TTTensor([c * 1e-154 if k < 2 else c for k, c in enumerate(y.cores)])
    assert y.ranks == x.ranks
    assert rel_error(y.full(), np_of(z.round(max_rank=2).full())) < 1e-10


def test_completion_without_samples_or_with_a_bad_validation_is_refused():
    from tnlib import riemannian as rm

    idx = np.zeros((0, 3), dtype=int)
    with pytest.raises(ArgumentError, match="no samples"):
        rm.tt_complete(idx, np.zeros(0), (5, 6, 7), 2, max_iter=3)
    with pytest.raises(ArgumentError, match="no samples"):
        rm.matrix_complete(np.zeros(0, int), np.zeros(0, int), np.zeros(0), (8, 9), 2)
    ok = np.array([[0, 1, 2], [1, 2, 3]])
    with pytest.raises(ArgumentError, match=r"validation must be in \[0, 1\)"):
        rm.tt_complete(ok, np.ones(2), (5, 6, 7), 1, validation="a", max_iter=3)


def test_rounding_a_train_with_nan_or_inf_cores_is_refused(backend):
    x = tt.random((4, 5, 6), 3, seed=0, backend=backend)
    for bad in (x * np.nan, x * np.inf):
        with pytest.raises(ArgumentError, match="round: x holds NaN or inf"), \
                warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # the error alone, no NumPy warning
            tt.round(bad, max_rank=2)
    zero = tt.round(x * 0.0, eps=1e-8)  # a zero train is fine
    assert float(np_of(zero.norm())) == 0.0


def test_exponential_machine_input_errors_are_value_errors_of_tnlib():
    pytest.importorskip("sklearn")
    from tnlib.models import ExponentialMachine

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 4)), rng.integers(0, 2, 40)
    for bad_x, bad_y, match in [(np.where(x > 1, np.nan, x), y, "NaN"),
                                (x, y[:10], "inconsistent numbers of samples"),
                                (x[:, 0], y, "Expected 2D array"),
                                (x * 1e300, y, r"product reaches 1e1\d\d\d.*StandardScaler")]:
        with pytest.raises(ArgumentError, match=match):
            ExponentialMachine(rank=2, max_iter=2).fit(bad_x, bad_y)
    est = ExponentialMachine(rank=2, max_iter=2).fit(x, y)
    with pytest.raises(ArgumentError, match="product reaches"):
        est.predict(x * 1e300)
    assert issubclass(ArgumentError, ValueError)  # scikit-learn's own checks still hold


def test_tt_linear_input_errors_name_the_input():
    torch = pytest.importorskip("torch")
    from tnlib.nn.torch import TTLinear

    layer = TTLinear((4, 4), (2, 2), 2)
    with pytest.raises(ArgumentError, match="input has dtype torch.float64"):
        layer(torch.ones(3, 16, dtype=torch.float64))
    with pytest.raises(ArgumentError, match="must be a torch.Tensor"):
        layer(np.ones((3, 16), dtype=np.float32))
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast mixes dtypes by design
        assert layer(torch.ones(3, 16, dtype=torch.bfloat16)).shape == (3, 4)


def test_non_arrays_and_non_trains_are_named_not_leaked(backend):
    from tnlib.errors import ShapeError

    x = tt.random((4, 5, 6), 2, seed=0, backend=backend)
    a = tt.laplacian(4, 3, backend=backend)
    ones = tt.ones((4, 4, 4), backend=backend)
    cases = [
        (lambda: tt.TTTensor(None), ShapeError, "cores must be a list or tuple"),
        (lambda: tt.TTTensor(x), ShapeError, "cores must be a list or tuple"),
        (lambda: tt.TTMatrix(3), ShapeError, "cores must be a list or tuple"),
        (lambda: cp.CPTensor(None, x), ShapeError, "factors must be a list or tuple"),
        (lambda: cp.CPTensor(3.0, [on(backend, np.ones((3, 2)))]), ShapeError,
         r"weights must be a \(2,\) array"),
        (lambda: tt.log_norm(None), ShapeError, "log_norm: x must be a TTTensor"),
        (lambda: tt.norm("a"), ShapeError, "norm: x must be a TTTensor"),
        (lambda: tt.quantize(None), ShapeError, "quantize: v must be an array"),
        (lambda: linalg.maxvol("a"), ShapeError, "maxvol: a must be an array"),
        (lambda: cp.cp_gradient(None, 2), ShapeError, "cp_gradient: a must be an array"),
        (lambda: tt.qtt_function(np.sin, "a", 1.0, 5), ArgumentError, "a must be a finite real"),
        (lambda: tt.qtt_function(3, 0.0, 1.0, 5), ArgumentError, "f must be callable"),
        (lambda: tt.apply(3, x), ArgumentError, "fun must be callable"),
        (lambda: tt.amen_solve(a, ones, x0=3), ArgumentError, "x0 must be a TTTensor"),
        (lambda: tt.tdvp(a, ones, None), ArgumentError, "t must be a finite real"),
        (lambda: tt.tdvp(a, ones, x), ArgumentError, "t must be a finite real"),
        (lambda: tnlib.to_numpy(x), ArgumentError, r"to_numpy: a is a TTTensor, not an array"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
    for bad in (None, "a", [1, 2]):  # Python's own TypeError
        with pytest.raises(TypeError, match="unsupported operand|can't multiply"):
            x + bad
        with pytest.raises(TypeError):
            x * bad
        with pytest.raises(TypeError, match="unsupported operand|can't multiply"):
            a * bad  # (a TTMatrix said "can't multiply sequence" for None and lists too)
    dense = on(backend, np.ones((4, 5, 6)))
    for call in (lambda: x + dense, lambda: x * dense, lambda: x - dense):
        with pytest.raises(ShapeError, match="make it a train first"):
            call()
    assert rel_error((x * on(backend, np.array(2.0))).full(), 2 * np.asarray(np_of(x.full()))) \
        < 1e-12  # a 0-d array still scales


def test_solvers_refuse_non_finite_operators_and_report_singular_or_overflowing_ones(backend):
    a = tt.laplacian(4, 3, backend=backend)
    ones = tt.ones((4, 4, 4), backend=backend)
    with pytest.raises(ArgumentError, match=r"amen_solve: A.cores\[0\] holds non-finite"):
        tt.amen_solve(a * np.nan, ones, max_sweeps=2)
    with pytest.raises(ArgumentError, match=r"dmrg_eig: H.cores\[0\] holds non-finite"):
        tt.dmrg_eig(a * np.inf, max_sweeps=2)
    with pytest.raises(ArgumentError, match=r"tdvp: A.cores\[0\] holds non-finite"):
        tt.tdvp(a * np.nan, ones, 0.1, steps=2)
    singular = tt.TTMatrix([on(backend, np.zeros((1, 4, 4, 1)))] * 3)
    with pytest.raises(ArgumentError, match="local system is singular"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tt.amen_solve(singular, ones, max_sweeps=2)
    with pytest.raises(ArgumentError, match="no longer finite at step 1"):
        tt.tdvp(a, ones, 1e300, steps=2)


def test_full_of_a_train_too_large_for_memory_says_so():
    from tnlib.errors import ShapeError

    with pytest.raises(ShapeError, match=r"full: x has shape \(100, .*read entries"):
        tt.ones((100,) * 10).full()


def test_recurrent_layers_refuse_non_tensors():
    pytest.importorskip("torch")
    from tnlib.nn.torch import TTGRU, TTLSTM

    for cls in (TTLSTM, TTGRU):
        with pytest.raises(ArgumentError, match=f"{cls.__name__}: input must be a torch.Tensor"):
            cls((4, 4), (2, 2), 2)(np.ones((5, 3, 16), dtype=np.float32))


def test_integer_data_and_trains_where_dense_data_belongs(backend):
    from tnlib import riemannian
    from tnlib.errors import ShapeError

    ints = np.arange(60).reshape(3, 4, 5) % 7
    x = tt.random((3, 4, 5), 2, seed=0, backend=backend)
    with host_execution(False):  # the frameworks' own ops, where int64 used to leak
        sk = tt.tt_sketch(on(backend, ints), 12, seed=0)  # the maps stay float (was NaN)
        assert rel_error(sk.full(), ints) < 1e-10
        v = riemannian.project(x, on(backend, ints))
        w = riemannian.project(x, on(backend, ints.astype(float)))
        assert rel_error(v.full(), np_of(w.full())) < 1e-12
        y = cp.cp_gradient(on(backend, ints), 2, max_iter=3)
        assert np.all(np.isfinite(np_of(y.full())))
        for call in (tt.tt_svd, tucker.hosvd, ht.hsvd, lambda a: cp.cp_als(a, 2),
                     lambda a: tucker.hooi(a, (2, 2, 2))):
            with pytest.raises(ShapeError, match="must be an array, got TTTensor"):
                call(x)


def test_entry_index_of_a_float_array_is_refused(backend):
    # a 0-d float array used to be truncated to an int (2.5 -> entry 2; inf -> OverflowError)
    x = tt.random((3, 4, 3), 2, seed=0, backend=backend)
    for bad in (2.5, np.inf):
        with pytest.raises(tnlib.ShapeError, match="mode 0 takes an int or a slice"):
            x[on(backend, np.array(bad))]
    assert_like(x[on(backend, np.array(1))].cores[0], x.cores[0])
    with pytest.raises(tnlib.ArgumentError, match="log must be True or False"):
        tt.dot(x, x, log="yes")


def test_seeds_are_checked_and_generators_accepted_everywhere(backend):
    """A seed that is not None, a non-negative int (or sequence of them) or a Generator is
    an ArgumentError naming it (NumPy's TypeError or ValueError came out of every seeded
    function); a Generator works wherever an int does (AMEn raised a TypeError: it added 1
    to it for its residual basis) and draws the same first values."""
    a = on(backend, np.random.default_rng(0).standard_normal((6, 5, 4)))
    lap, ones = tt.laplacian(4, 3, backend=backend), tt.ones((4,) * 3, backend=backend)
    calls = {
        "random": lambda s: tt.random((3, 3), 2, seed=s, backend=backend),
        "cp.random": lambda s: cp.random((3, 3), 2, seed=s, backend=backend),
        "ht.random": lambda s: ht.random((3,) * 4, 2, seed=s, backend=backend),
        "cross": lambda s: tt.cross(lambda i: backend.astype(backend.sum(i, axis=1), "float64"),
                                    (4, 4), seed=s, backend=backend),
        "cp_als": lambda s: cp.cp_als(a, 2, init="random", seed=s, max_iter=2),
        "skeleton": lambda s: linalg.skeleton(a[:, :, 0], 2, seed=s),
        "randomized_svd": lambda s: linalg.randomized_svd(a[:, :, 0], 2, seed=s),
        "amen_solve": lambda s: tt.amen_solve(lap, ones, seed=s),
        "dmrg_eig": lambda s: tt.dmrg_eig(lap, seed=s, max_rank=2)[0],
        "tt_sketch": lambda s: tt.tt_sketch(a, 2, seed=s),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, call in calls.items():
            for bad in ("0", -1, 1.5, True):
                with pytest.raises(ArgumentError, match=rf"{name}: seed must be None, a "):
                    call(bad)
            call(np.random.default_rng(3))
    x = tt.random((3, 4), 2, seed=np.random.default_rng(7), backend=backend)
    assert rel_error(x.full(), tt.random((3, 4), 2, seed=7, backend=backend).full()) == 0
    # a NumPy integer seeds as the same Python int does (AMEn's residual basis included)
    got = [tt.amen_solve(lap, ones, seed=s, return_info=True)[1].errors for s in (3, np.int64(3))]
    assert got[0] == got[1]


def test_decompositions_refuse_data_with_an_empty_axis(backend):
    """An axis of size 0 leaves nothing to factorize: a ShapeError naming the function, as
    tt_svd gave. HOSVD, HOOI, HSVD, CP-ALS and CP gradient raised NumPy's ValueError (a
    maximum of no values), and tt_sketch and the out-of-core TT-SVD and HOSVD returned a
    format of ranks 0."""
    empty = on(backend, np.ones((4, 0, 3)))
    calls = {"tt_svd": lambda: tt.tt_svd(empty), "hosvd": lambda: tucker.hosvd(empty),
             "hooi": lambda: tucker.hooi(empty, 1), "hsvd": lambda: ht.hsvd(empty),
             "cp_als": lambda: cp.cp_als(empty, 1), "cp_gradient": lambda: cp.cp_gradient(
                 empty, 1), "tt_sketch": lambda: tt.tt_sketch(empty, 1),
             "truncated_svd": lambda: linalg.truncated_svd(on(backend, np.ones((0, 3))))}
    if backend.name == "numpy":
        da = pytest.importorskip("dask.array")
        lazy = da.ones((4, 0, 3), chunks=2)
        calls.update({"tt_svd ": lambda: tt.tt_svd(lazy), "hosvd ": lambda: tucker.hosvd(lazy),
                      "tt_sketch ": lambda: tt.tt_sketch(lazy, 1)})
    for name, call in calls.items():
        with pytest.raises(tnlib.ShapeError, match=rf"{name.strip()}: a has an empty axis"):
            call()


def test_moving_a_format_to_a_device_its_backend_lacks_is_an_error(backend):
    """``.to(device=...)`` checks the device as the constructors do: a NumPy train stayed on
    the CPU for ``device="cuda"`` without a word, and torch raised its own AssertionError."""
    x = tt.random((3, 4, 5), 2, seed=0, backend=backend)
    h = ht.from_tt(x)
    for call in (lambda: x.to(device="tpu"), lambda: h.to(device="tpu"),
                 lambda: tt.eye((3, 4), backend=backend).to(device="tpu")):
        with pytest.raises(tnlib.BackendError, match=r"to: device 'tpu' is not available on "
                                                     rf"backend '{backend.name}'"):
            call()
    if any("cpu" in str(d).lower() for d in backend.devices()):  # CuPy has none
        assert rel_error(x.to(device="cpu").full(), x.full()) == 0


def test_cp_and_tucker_with_parts_of_extreme_scale_give_finite_entries_and_trains(backend):
    """Entries of 1e200 and 1e100 made of parts of 1e300 and 1e-150: ``full`` and
    ``to_tt`` multiplied weights or core into one factor first, and overflowed to inf
    (then NaN in the train's norm) or underflowed to zero; the parts are now multiplied
    at unit scale."""
    parts = ((3, 1e-100), (4, 1e-100), (5, 1e100))
    t = tucker.TuckerTensor(on(backend, np.full((1, 1, 1), 1e300)),
                            [on(backend, np.full((n, 1), v)) for n, v in parts])
    c = cp.CPTensor(on(backend, np.full(2, 1e300)), [on(backend, np.full((n, 2), v)) for n, v in
                                                     ((3, 1e100), (4, 1e-150), (5, 1e-150))])
    for x, value in ((t, 1e200), (c, 2e100)):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            dense = np.asarray(np_of(x.full()))
            train = x.to_tt()
            from_train = np.asarray(np_of(train.full()))
        assert_like(train.cores[0], x.full())
        for got in (dense, from_train):  # entrywise: norms of 1e200 entries overflow
            assert got.shape == x.shape and np.abs(got / value - 1).max() < 1e-14
        assert all(np.isfinite(np_of(core)).all() for core in train.cores)
        assert abs(float(np_of(train.norm())) / (value * np.sqrt(60)) - 1) < 1e-12


TRUNCATIONS = {  # name: (call, the rank bound to pass under tracing, a call by that bound)
    "tt_svd": (lambda a, **kw: tt.tt_svd(a, **kw), "max_rank", {"max_rank": 3, "eps": 0}),
    "hosvd": (lambda a, **kw: tucker.hosvd(a, **kw), "ranks", {"ranks": 3}),
    "hsvd": (lambda a, **kw: ht.hsvd(a, **kw), "max_rank", {"max_rank": 3, "eps": 0}),
    "round": (lambda a, **kw: tt.tt_svd(a, max_rank=5, eps=0).round(**kw), "max_rank",
              {"max_rank": 3}),
}


@pytest.mark.parametrize("name", list(TRUNCATIONS))
def test_truncation_by_eps_under_tracing_names_the_rank_bound_to_pass(backend, name):
    if not backend.supports_jit:
        pytest.skip(f"{backend.name} runs eagerly: nothing is traced")
    call, bound, by_rank = TRUNCATIONS[name]
    a = backend.asarray(_hilbert(6))
    with pytest.raises(ArgumentError, match=rf"{name}: eps=0.001 needs the data's values .*"
                                            rf"\(jax.jit, jax.grad, tf.function\).* pass {bound}"):
        backend.jit(lambda a: call(a, eps=1e-3).full())(a)
    traced = backend.jit(lambda a: call(a, **by_rank).full())(a)
    want = call(a, **by_rank).full()
    assert_like(traced, a)
    assert rel_error(traced, want) < 1e-12
    assert rel_error(traced, _hilbert(6)) < 1e-2  # rank 3 of the Hilbert tensor
    # the default tolerance means "as fine as the data resolve": no truncation by eps
    if name != "round":
        assert rel_error(backend.jit(lambda a: call(a).full())(a), _hilbert(6)) < 1e-12


ITERATIVE = {  # methods that stop, or choose ranks, by values they read as they go
    "cp_als": lambda a, ops: cp.cp_als(a, 2).full(),
    "cp_gradient": lambda a, ops: cp.cp_gradient(a, 2).full(),
    "hooi": lambda a, ops: tucker.hooi(a, 2).full(),
    "tucker_hals": lambda a, ops: tucker.tucker_hals(a, 2).full(),
    "cp_als_sparse": lambda a, ops: cp.cp_als_sparse(np.repeat(np.arange(4)[:, None], 3, 1),
                                                     a[0, 0], (4, 4, 4), 2).full(),
    "cp_apr": lambda a, ops: cp.cp_apr(np.repeat(np.arange(4)[:, None], 3, 1), a[0, 0],
                                       (4, 4, 4), 2).full(),
    "hooi_sparse": lambda a, ops: tucker.hooi_sparse(np.repeat(np.arange(4)[:, None], 3, 1),
                                                     a[0, 0], (4, 4, 4), 2).full(),
    "parafac2": lambda a, ops: cp.parafac2(a, 2).full(),
    "amen_solve": lambda a, ops: tt.amen_solve(ops[0] * a[0, 0, 0], ops[1]).full(),
    "dmrg_eig": lambda a, ops: tt.dmrg_eig(ops[0] * a[0, 0, 0], max_rank=3)[0],
}


@pytest.mark.parametrize("name", list(ITERATIVE))
def test_iterative_methods_under_tracing_name_themselves_and_what_tracing_lacks(backend,
                                                                               name):
    if not backend.supports_jit:
        pytest.skip(f"{backend.name} runs eagerly: nothing is traced")
    a = backend.asarray(_hilbert(4))
    ops = (tt.laplacian(4, 3, backend=backend), tt.ones((4,) * 3, backend=backend))
    # was the framework's own error (a tracer converted to NumPy), or, for cp_als, "the
    # normal equations are singular": the read that failed looked like a singular solve
    with pytest.raises(ArgumentError, match=rf"^{name}: needs values of its input in Python "
                                            r".*traced arrays .* call it outside the traced"):
        backend.jit(lambda a: ITERATIVE[name](a, ops))(a)
    with warnings.catch_warnings():  # eagerly, it runs (to max_iter for the CP fits)
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert np.isfinite(np_of(ITERATIVE[name](a, ops))).all()


def _formats(backend: tnlib.Backend) -> dict:
    a = backend.asarray(_hilbert(5))
    return {"TTTensor": tt.random((3, 4, 5), 2, seed=0, backend=backend),
            "TTMatrix": tt.eye((3, 4), backend=backend),
            "CPTensor": cp.random((3, 4, 5), 2, seed=0, backend=backend),
            "TuckerTensor": tucker.hosvd(a, ranks=2),
            "HTTensor": ht.hsvd(a, max_rank=2)}


@pytest.mark.parametrize("name", ["TTTensor", "TTMatrix", "CPTensor", "TuckerTensor",
                                  "HTTensor"])
def test_formats_do_not_pass_for_arrays_in_numpy(backend, name):
    x = _formats(backend)[name]
    entries = f"{int(np.prod(x.shape)):,}"
    # np.asarray wrapped x in a 0-d object array; np.linalg.norm(x) then failed with
    # "CPTensor *: only scalars, got CPTensor", np.allclose with "bad operand type for abs"
    for call in (np.asarray, np.linalg.norm, lambda x: np.allclose(x, x)):
        with pytest.raises(ArgumentError, match=rf"^{name}: converting it to an array .* "
                                                rf"x.full\(\) .*\({entries} entries\)"):
            call(x)
    with pytest.raises(TypeError, match="does not support ufuncs"):  # was: "no callable exp"
        np.exp(x)
    for c in (np.float64(2.0), backend.asarray(2.0), 2):  # scalars still scale
        assert rel_error(c * x, 2.0 * np_of(x)) < 1e-14
        assert rel_error(x * c, 2.0 * np_of(x)) < 1e-14


def test_tt_matrix_times_an_array_names_the_matrix(backend):
    m = tt.eye((3, 4), backend=backend)
    for other in (np.ones(2), backend.ones((12,))):
        # was "TTTensor arithmetic with a dense array ...: make it a train (tt.tt_svd(a))"
        with pytest.raises(ArgumentError, match=r"^TTMatrix \*: only scalars, got an array "
                                                r"of shape \((2|12),\); use @"):
            m * other
        # (TensorFlow converts m before asking it: then the conversion's error)
        with pytest.raises(ArgumentError, match=r"^TTMatrix(:| \*: only scalars)"):
            other * m


@pytest.mark.parametrize("name", ["TTTensor", "TTMatrix", "CPTensor", "TuckerTensor",
                                  "HTTensor"])
def test_a_complex_scalar_times_a_real_format_is_refused_whatever_its_type(backend, name):
    x = _formats(backend)[name]
    # CP, Tucker and HT multiplied one part: a CPTensor of dtype float64 whose full() was
    # complex on NumPy, torch's "expected m1 and m2 to have the same dtype" later; TT
    # checked Python's complex only (np.complex64 and 0-d complex arrays went through)
    for c in (1j, np.complex64(1j), backend.asarray(np.complex128(1j))):
        with pytest.raises(ArgumentError, match=r"a complex scalar times a real "
                                                r"(TTTensor|CPTensor|TuckerTensor|HTTensor)"):
            x * c
    z = x * np.float32(-2.0)  # a real scalar still scales, keeping the dtype
    assert z.dtype == x.dtype
    assert rel_error(z, -2.0 * np_of(x)) < 1e-6
    # a 0-d array of another dtype too: NumPy made the multiplied part of a float32
    # format float64 (TT's first core, CP's weights), TensorFlow refused real times complex
    for dtype in ("float32", "complex128"):
        xd = x.to(dtype=dtype)
        z = xd * backend.asarray(np.float64(-2.0))
        assert z.dtype == xd.dtype and (z / backend.asarray(np.float64(4.0))).dtype == xd.dtype
        assert {backend.dtype_name(p) for p in _parts(z)} == {backend.dtype_name(p)
                                                              for p in _parts(xd)}
        assert rel_error(z, -2.0 * np_of(x)) < 1e-6


def _parts(x):
    """Every array of a format."""
    for attr in ("cores", "factors"):
        if hasattr(x, attr):
            yield from getattr(x, attr)
    for attr in ("weights", "core"):
        if hasattr(x, attr) and not callable(getattr(x, attr)):
            yield getattr(x, attr)
    yield from getattr(x, "_arrays", {}).values()


@pytest.mark.parametrize("name", ["TTTensor", "CPTensor", "TuckerTensor", "HTTensor"])
def test_every_tensor_format_reads_an_entry_and_divides_by_a_scalar(backend, name):
    # CP and Tucker had neither x[i, j, k] nor x / c (Python's "not subscriptable" and
    # "unsupported operand"); TT and HT had both
    x = _formats(backend)[name]
    dense = np_of(x)
    for key in ((1, 2, 3), (-1, 0, -2), (np.int64(2), 1, 0)):
        got = x[key]
        assert_like(got, x.full())
        assert abs(float(np_of(got)) - dense[key]) < 1e-12 * np.abs(dense).max()
    assert rel_error(x / 4, dense / 4) < 1e-15
    if name != "TTTensor":  # TT's indexing also takes slices
        for key in ((1, 2), 3, (1.0, 2, 3), (True, 1, 1)):
            with pytest.raises(tnlib.ShapeError, match=rf"{name} index: give 3 integers"):
                x[key]
    with pytest.raises(tnlib.ShapeError, match=rf"^{name} index: index -7 is out of range "
                                               rf"for mode 1 of size {x.shape[1]}"):
        x[0, -7, 0]


TRUNCATING = {  # name: (a call with eps in the rank's place, the rank bound it names)
    "hosvd": (lambda a: tucker.hosvd(a, 3), "ranks"),
    "tt_svd": (lambda a: tt.tt_svd(a, 2), "max_rank"),
    "hsvd": (lambda a: ht.hsvd(a, eps=1.0), "max_rank"),
    "round": (lambda a: tt.tt_svd(a, eps=0).round(5), "max_rank"),
    "tt_matrix": (lambda a: tt.tt_matrix(tnlib.backend_of(a).reshape(a, (30, 8)), (5, 6),
                                         (2, 4), eps=2), "max_rank"),
    "left_svd": (lambda a: tnlib.linalg.left_svd(a[0], 1), "max_rank"),
    "truncated_svd": (lambda a: tnlib.linalg.truncated_svd(a[0], 4), "max_rank"),
}


@pytest.mark.parametrize("name", list(TRUNCATING))
def test_a_truncation_accuracy_of_one_or_more_is_refused_naming_the_ranks(backend, name):
    # hosvd(a, 3) read 3 as eps (hooi's second argument is ranks) and returned rank 1: any
    # eps >= 1 allows an error as large as the data
    call, ranks = TRUNCATING[name]
    with pytest.raises(ArgumentError, match=rf"^{name}: eps=\d(\.0)? is a relative accuracy "
                                            rf"and must be below 1 .* pass {ranks}="):
        call(backend.asarray(_hilbert(8)[:5, :6, :]))


@pytest.mark.parametrize("name", ["TTTensor", "TTMatrix", "CPTensor", "TuckerTensor",
                                  "HTTensor"])
@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_every_format_keeps_its_norm_near_the_float_limits(backend, name, scale):
    # CP, Tucker and HT summed squares as they were: 0 at 1e-200, inf (CP: NaN) at 1e200;
    # HT rounding at 1e200 cut every rank to 1 (its eps * norm was inf)
    x = _formats(backend)[name]
    want = float(np_of(x.norm()))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        big = x * scale
        got = big.norm()
        assert_like(got, x.norm())
        assert abs(float(np_of(got)) / scale / want - 1) < 1e-13
        if name == "HTTensor":
            assert abs(float(np_of(big.round(1e-10).norm())) / scale / want - 1) < 1e-9


@pytest.mark.parametrize("name", ["CPTensor", "TuckerTensor", "HTTensor"])
def test_format_dots_near_the_float_limits(backend, name):
    # a dot of 1e160-scale CP tensors was NaN (inf - inf of its terms), Tucker and HT gave
    # inf with NumPy's overflow warning; a product of 1e300 and 1e-300 tensors is exact
    x = _formats(backend)[name]
    want = complex(np_of(x.dot(x)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = (x * 1e300).dot(x * 1e-300)
        assert_like(got, x.dot(x))
        assert abs(complex(np_of(got)) / want - 1) < 1e-13
    if backend.free_reads or backend.host_eligible([backend.ones((2,))]):
        # the warning reads the value: eager host arrays, and eager CPU arrays of the
        # frameworks, whose dots run on the host
        with pytest.warns(tnlib.PrecisionWarning, match=rf"{name}.dot: the value exceeds the "
                                                        r"range of float64"):
            assert np.isinf(float(np_of((x * 1e160).dot(x * 1e160))))
        with pytest.warns(tnlib.PrecisionWarning, match="below the range of float64"):
            assert float(np_of((x * 1e-170).dot(x * 1e-170))) == 0.0
    else:  # no NaN from finite parts
        assert np.isinf(float(np_of((x * 1e160).dot(x * 1e160))))


def test_ranks_and_accuracies_computed_with_numpy_are_taken_as_python_numbers(backend):
    """Ranks as a 1-d NumPy integer array (``np.minimum(r, n)``) and a 0-d array for an
    int or an `eps` give what the list and the Python number give (each was an
    ArgumentError "must be ... a sequence of ints"); a float array is still refused."""
    a = on(backend, np.random.default_rng(0).standard_normal((4, 5, 6)))
    bonds, modes = np.array([2, 3]), np.array([2, 3, 2])
    same = {
        "random": lambda r: tt.random((4, 5, 6), r, seed=0, backend=backend).ranks,
        "tt_svd": lambda r: tt.tt_svd(a, max_rank=r).ranks,
        "round": lambda r: tt.random((4, 5, 6), 4, seed=0, backend=backend).round(
            max_rank=r).ranks,
        "tt_sketch": lambda r: tt.tt_sketch(a, r, seed=0).ranks,
    }
    for name, call in same.items():
        assert call(bonds) == call([2, 3]) == (1, 2, 3, 1), name
    assert tucker.hosvd(a, ranks=modes).ranks == (2, 3, 2)
    assert tucker.hooi(a, modes).ranks == (2, 3, 2)
    assert tt.tt_svd(a, eps=np.array(0.5)).ranks == tt.tt_svd(a, eps=0.5).ranks
    assert cp.cp_als(a, np.array(2), max_iter=3, tol=0).rank == 2
    with pytest.raises(ArgumentError, match=r"tt_svd: max_rank must be an integer >= 1"):
        tt.tt_svd(a, max_rank=np.array([2.0, 3.0]))
    with pytest.raises(ShapeError, match=r"random: ranks must be an int, d-1 = 2"):
        tt.random((4, 5, 6), np.array([2, 3, 4]), backend=backend)
