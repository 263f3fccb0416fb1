"""Fuzzing the public API with hostile input: every call returns a correct result or raises a
TnlibError -- never a foreign exception, a hang or a silently wrong (NaN) answer.

Runs on NumPy (the contract is backend-independent; the other backends' argument checks are
the same code), and the decompositions also on torch, TensorFlow and JAX arrays through the
frameworks' own operations (``host_execution(False)``, the path of tracing and autodiff), where
a framework's own errors could leak. Each call runs under an alarm, so a hang fails the test
instead of CI.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import tnlib  # noqa: E402
from tnlib import cp, ht, linalg, riemannian, tt, tucker  # noqa: E402
from tnlib.backends import host_execution  # noqa: E402
from tnlib.errors import BackendError, TnlibError  # noqa: E402

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SECONDS = 20  # per call: anything slower on these tiny inputs is a hang


@contextlib.contextmanager
def time_limit(seconds: int = SECONDS):
    def handler(signum, frame):  # noqa: ANN001, ARG001
        raise TimeoutError(f"call did not return within {seconds} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def contract(call):  # noqa: ANN001, ANN201
    """Run `call`; a TnlibError is an accepted answer (returned as None)."""
    with time_limit(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return call()
        except TnlibError:
            return None


values = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False),
    st.sampled_from([0.0, 1e-300, -1e-300, 1e300, -1e300, np.nan, np.inf, -np.inf]),
)
shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4)
arrays = hnp.arrays(np.float64, shapes, elements=values)
int_arrays = hnp.arrays(np.int64, shapes, elements=st.integers(-100, 100))
epss = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(
    [0, 1e-8, 0.5, -1.0, "1e-3", None, True]))
ranks = st.one_of(st.none(), st.integers(-3, 6), st.floats(0, 5),
                  st.lists(st.integers(-1, 5), max_size=4), st.just("3"))


def _finite_result(x) -> bool:  # noqa: ANN001
    return bool(np.all(np.isfinite(tnlib.to_numpy(x.full()))))


@FUZZ
@given(a=st.one_of(arrays, int_arrays), eps=epss, max_rank=ranks)
def test_tt_svd(a, eps, max_rank):
    x = contract(lambda: tt.tt_svd(a, eps=eps, max_rank=max_rank))
    if x is None:
        return
    assert x.shape == a.shape
    assert np.all(np.isfinite(a)), "non-finite data was accepted"
    assert _finite_result(x)
    if max_rank is None and isinstance(eps, float) and 1e-6 <= eps and np.abs(a).max() > 0:
        err = np.linalg.norm(x.full() - a) / np.linalg.norm(a)
        assert err <= eps * 1.0001 + 1e-12


@FUZZ
@given(a=arrays, eps=epss, max_rank=ranks)
def test_round(a, eps, max_rank):
    assume(np.all(np.isfinite(a)) and np.abs(a).max() < 1e200)
    x = tt.tt_svd(a, eps=0)
    y = contract(lambda: (x + x).round(eps, max_rank=max_rank))
    if y is None:
        return
    assert y.shape == a.shape and _finite_result(y)


@FUZZ
@given(a=st.one_of(arrays, int_arrays), eps=epss, r=ranks)
def test_hosvd_and_hooi(a, eps, r):
    x = contract(lambda: tucker.hosvd(a, eps=eps, ranks=r))
    if x is not None:
        assert np.all(np.isfinite(a)) and x.shape == a.shape and _finite_result(x)
    y = contract(lambda: tucker.hooi(a, r, max_iter=5))
    if y is not None:
        assert np.all(np.isfinite(a)) and y.shape == a.shape and _finite_result(y)


@FUZZ
@given(a=st.one_of(arrays, int_arrays), rank=ranks, max_iter=st.integers(-1, 5))
def test_cp_als(a, rank, max_iter):
    x = contract(lambda: cp.cp_als(a, rank, max_iter=max_iter))
    if x is not None:
        assert np.all(np.isfinite(a)) and x.shape == a.shape and _finite_result(x)


FRAMEWORK_FUZZ = settings(FUZZ, max_examples=15)


@pytest.mark.parametrize("name", ["torch", "tensorflow", "jax"])
@FRAMEWORK_FUZZ
@given(a=arrays, eps=epss, r=ranks)
def test_decompositions_through_framework_ops(name, a, eps, r):
    try:
        xp = tnlib.backends.get(name)
    except BackendError as exc:
        pytest.skip(str(exc))
    xa = xp.asarray(a)
    with host_execution(False):
        results = [contract(lambda: tt.tt_svd(xa, eps=eps, max_rank=r)),
                   contract(lambda: tucker.hosvd(xa, eps=eps, ranks=r)),
                   contract(lambda: tucker.hooi(xa, r, max_iter=3))]
    for x in results:
        if x is not None:
            assert np.all(np.isfinite(a)), "non-finite data was accepted"
            assert x.shape == a.shape and _finite_result(x)
            assert tnlib.backend_of(*x._tree_flatten()[0]) is xp


@pytest.mark.parametrize("name", ["torch", "tensorflow", "jax"])
@FRAMEWORK_FUZZ
@given(a=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=4, max_side=4),
                    elements=st.one_of(st.floats(-1e3, 1e3), st.sampled_from(
                        [0.0, 1e-300, -1e-300, 1e300, -1e300]))),
       eps=st.sampled_from([0.0, 1e-8, 0.5]), r=st.one_of(st.none(), st.integers(1, 4)))
def test_rounding_and_cp_through_framework_ops(name, a, eps, r):
    """Finite data must give finite results (TF's QR gave NaN on entries of 1e300)."""
    try:
        xp = tnlib.backends.get(name)
    except BackendError as exc:
        pytest.skip(str(exc))
    with host_execution(False):
        x = tt.tt_svd(xp.asarray(a), eps=0)
        results = [contract(lambda: tt.round(x + x, eps=eps, max_rank=r)),
                   contract(lambda: tt.orthogonalize(x, "right")),
                   contract(lambda: cp.cp_als(xp.asarray(a), r or 2, max_iter=3))]
    for y in results:
        if y is not None:
            assert y.shape == a.shape and _finite_result(y)


def _hostile(kind: str):  # noqa: ANN202
    def f(idx):  # noqa: ANN001, ANN202
        n = len(idx)
        if kind == "short":
            return np.ones(max(n - 1, 0))
        if kind == "nan":
            out = np.ones(n)
            out[n // 2] = np.nan
            return out
        if kind == "raise":
            raise RuntimeError("simulator crashed")
        if kind == "matrix":
            return np.ones((n, 2))
        if kind == "list":
            return [1.0] * n
        if kind == "strings":
            return np.array(["x"] * n)
        if kind == "none":
            return None
        return np.exp(-np.sum(idx, axis=1) / 10.0)
    return f


@FUZZ
@given(kind=st.sampled_from(["short", "nan", "raise", "matrix", "list", "strings", "none",
                             "good"]),
       shape=st.one_of(st.lists(st.integers(1, 5), min_size=1, max_size=5),
                       st.lists(st.integers(-1, 5), max_size=5), st.just("abc")),
       eps=st.one_of(st.sampled_from([1e-6, 1e-3]), epss), max_rank=ranks)
def test_cross_with_hostile_black_boxes(kind, shape, eps, max_rank):
    y = contract(lambda: tt.cross(_hostile(kind), shape, eps=eps, max_rank=max_rank,
                                  max_sweeps=3, seed=0))
    if y is None:
        return
    assert kind in ("good", "list"), f"a black box of kind {kind!r} was accepted"
    assert _finite_result(y)


@FUZZ
@given(cores=st.lists(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4,
                                                              max_side=3),
                                 elements=st.floats(-2, 2)), min_size=0, max_size=4))
def test_tt_constructor(cores):
    x = contract(lambda: tt.TTTensor(cores))
    if x is not None:
        assert x.ranks[0] == x.ranks[-1] == 1
        assert x.full().shape == x.shape


@FUZZ
@given(data=st.one_of(st.lists(st.floats(-5, 5), max_size=4), st.just([[1, 2], [3]]),
                      st.just("abc"), st.just(None), st.just({"a": 1})),
       dtype=st.sampled_from([None, "float32", "float64", "int64", "complex128", "float7",
                              "banana", 3]),
       device=st.sampled_from([None, "cpu", "cuda", "tpu:3", 7]),
       backend=st.sampled_from([None, "numpy", "nope", 3]))
def test_tensor(data, dtype, device, backend):
    a = contract(lambda: tnlib.tensor(data, dtype=dtype, device=device, backend=backend))
    if a is not None:
        assert isinstance(a, np.ndarray)


@FUZZ
@given(a=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
                    elements=values), tol=st.floats(0, 3), max_iter=st.integers(-1, 50))
def test_maxvol(a, tol, max_iter):
    out = contract(lambda: linalg.maxvol(a, tol=tol, max_iter=max_iter))
    if out is not None:
        rows, coef = out
        assert a.ndim == 2 and np.all(np.isfinite(coef))
        assert len(set(rows.tolist())) == a.shape[1]


@FUZZ
@given(a=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
                    elements=values), eps=epss, max_rank=ranks)
def test_truncated_svd(a, eps, max_rank):
    out = contract(lambda: linalg.truncated_svd(a, eps=eps, max_rank=max_rank))
    if out is not None:
        u, s, vh = out
        assert np.all(np.isfinite(a)) and np.all(np.isfinite(s))
        assert math.isfinite(float(np.linalg.norm(u @ np.diag(s) @ vh)))


@FUZZ
@given(exponents=st.lists(st.integers(-250, 250), min_size=1, max_size=6),
       seed=st.integers(0, 2**16))
def test_norm_dot_and_log_norm_of_trains_with_extreme_cores(exponents, seed):
    rng = np.random.default_rng(seed)
    d = len(exponents)
    r = [1] + [2] * (d - 1) + [1]
    unit = [rng.standard_normal((r[k], 2, r[k + 1])) for k in range(d)]
    x = tt.TTTensor([c * 10.0**e for c, e in zip(unit, exponents)])
    dense = tt.TTTensor(unit).full()
    expected = np.log(np.linalg.norm(dense)) + np.log(10.0) * sum(exponents)
    with time_limit(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # exp overflow of an unrepresentable norm
        got = float(tt.log_norm(x))
        norm = float(tt.norm(x))
    assert abs(got - expected) <= 1e-9 * max(1.0, abs(expected))
    if abs(expected) < 700:  # representable: the norm itself is right too
        assert abs(norm - np.exp(expected)) <= 1e-9 * np.exp(expected)
    # the sum and the entries too, whatever the cores' own scales
    if abs(sum(exponents)) < 300:  # every entry representable
        factor = 10.0 ** sum(exponents)
        with time_limit():
            total, entry = float(x.sum()), float(x[(0,) * d])
        assert abs(total - float(dense.sum()) * factor) <= 1e-9 * np.abs(dense).sum() * factor
        assert abs(entry - float(dense[(0,) * d]) * factor) <= 1e-9 * np.abs(dense).max() * factor


_X = tt.random((3, 4, 3), 2, seed=0)
_NAN_X = _X * np.nan  # NaN in, NaN out is allowed
_INF_X = tt.TTTensor([c * np.inf for c in _X.cores])  # ... and inf in, inf or NaN out
_OP = tt.laplacian(3, 3)
_CP = cp.random((3, 4, 3), 2, seed=2)
_Q = tt.random((2,) * 5, 2, seed=3)
_Q6 = tt.random((2,) * 6, 2, seed=3)  # two dimensions of three digits
_HT = ht.random((3, 4, 3, 2), 2, seed=4)
_CHEB = tt.ChebyshevTT(tt.random((3, 4, 3), 2, seed=1), [(0, 1), (-1, 1), (2, 3)])
anything = st.one_of(
    st.none(), st.integers(-3, 5), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3), st.lists(st.integers(0, 3), max_size=3),
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
               elements=values),
    st.builds(lambda s, r: tt.random(tuple(s), r, seed=1),
              st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(1, 3)),
    st.just(_X), st.just(_NAN_X), st.just(_INF_X), st.just(_OP))

_ENTRY_POINTS = {
    "dot": lambda v: tt.dot(_X, v),
    "norm": lambda v: tt.norm(v),
    "dot_log": lambda v: tt.dot(v, v, log=True),
    "dot_log_flag": lambda v: tt.dot(_X, _X, log=v),
    "full": lambda v: tt.full(v),
    "log_norm": lambda v: tt.log_norm(v),
    "round": lambda v: tt.round(_X, eps=v),
    "round_max_rank": lambda v: tt.round(_X, max_rank=v),
    "quantize": lambda v: tt.quantize(v),
    "evaluate": lambda v: tt.evaluate(_X, v),
    "project": lambda v: riemannian.project(_X, v),
    "retract": lambda v: riemannian.retract(_X, riemannian.project(_X, _X), step=v),
    "project_sum": lambda v: riemannian.project_sum(_X, v),
    "amen_rhs": lambda v: tt.amen_solve(_OP, v, max_sweeps=2),
    "amen_x0": lambda v: tt.amen_solve(_OP, tt.ones((3, 3, 3)), x0=v, max_sweeps=2),
    "dmrg": lambda v: tt.dmrg_eig(v, max_sweeps=2),
    "tdvp_t": lambda v: tt.tdvp(_OP, tt.ones((3, 3, 3)), v, steps=2),
    "tdvp_x0": lambda v: tt.tdvp(_OP, v, 0.1, steps=2),
    "maxvol": lambda v: linalg.maxvol(v),
    "qtt_function": lambda v: tt.qtt_function(np.sin, v, 1.0, 4),
    "qtt_function_dims": lambda v: tt.qtt_function(  # points (N,) for one dimension
        lambda p: np.reshape(p, (len(p), -1)).sum(axis=1), 0.0, 1.0, 3, dims=v),
    "qtt_function_ends": lambda v: tt.qtt_function(lambda p: p[:, 0] + p[:, 1], v, 2.0, 3,
                                                   dims=2),
    "TTTensor": lambda v: tt.TTTensor(v),
    "cp_gradient": lambda v: cp.cp_gradient(v, 2, max_iter=3),
    "cp_als_init": lambda v: cp.cp_als(_X.full(), 2, init=v, max_iter=3),
    "cp_als_rank": lambda v: cp.cp_als(_X.full(), v, max_iter=3),
    "hosvd_ranks": lambda v: tucker.hosvd(_X.full(), ranks=v),
    "hooi_ranks": lambda v: tucker.hooi(_X.full(), v, max_iter=3),
    "hsvd": lambda v: ht.hsvd(v, eps=1e-6),
    "hsvd_tree": lambda v: ht.hsvd(_X.full(), tree=v),
    "from_tt": lambda v: ht.from_tt(v),
    "tt_sketch": lambda v: tt.tt_sketch(_X.full(), v, seed=0),
    "cross_x0": lambda v: tt.cross(lambda i: np.sin(np.sum(i, axis=1)), (3, 4, 3), x0=v,
                                   max_sweeps=2, seed=0),
    "kron": lambda v: tt.kron(_X, v),
    "matvec": lambda v: _OP @ v,
    "tt_matrix": lambda v: tt.tt_matrix(np.eye(9), v, (3, 3)),
    "getitem": lambda v: _X[v],
    "tt_complete_ranks": lambda v: riemannian.tt_complete(
        np.array([[0, 0, 0], [1, 2, 1], [2, 3, 2]]), np.ones(3), (3, 4, 3), v, max_iter=2),
    "matrix_complete_values": lambda v: riemannian.matrix_complete(
        np.array([0, 1, 2]), np.array([0, 1, 2]), v, (3, 3), 1, max_iter=2),
    "minimize_tol": lambda v: riemannian.minimize(lambda y: tt.norm(y - _X) ** 2, _X,
                                                  grad=lambda y: 2.0 * (y - _X), tol=v,
                                                  max_iter=2),
    "laplacian": lambda v: tt.laplacian(v, 3),
    "random_ranks": lambda v: tt.random((3, 3, 3), v, seed=0),
    "sample_n": lambda v: tt.sample(_X * _X, v, seed=0),
    "sample_x": lambda v: tt.sample(v, 3, seed=0, squared=True),
    "max_abs": lambda v: tt.max_abs(v),
    "extrema_beam": lambda v: tt.extrema(_X, beam=v),
    "singular_values": lambda v: tt.singular_values(v),
    "entropy_alpha": lambda v: tt.entanglement_entropy(_X, alpha=v),
    "parafac2": lambda v: cp.parafac2(v, 2, max_iter=3),
    "parafac2_rank": lambda v: cp.parafac2(list(_X.full()), v, max_iter=3),
    "chebyshev_domain": lambda v: tt.chebyshev(lambda x: np.sin(x.sum(axis=1)), v, n=4,
                                               max_sweeps=2),
    "chebyshev_n": lambda v: tt.chebyshev(lambda x: np.sin(x.sum(axis=1)), [(0, 1)] * 2,
                                          n=v, max_sweeps=2),
    "chebyshev_points": lambda v: _CHEB(v),
    "sobol_x": lambda v: tt.sobol(v),
    "sobol_weights": lambda v: tt.sobol(_X, v),
    "sobol_pairs_x": lambda v: tt.sobol_pairs(v),
    "sobol_pairs_weights": lambda v: tt.sobol_pairs(_X, v),
    "hadamard": lambda v: tt.hadamard(_X, v),
    "add": lambda v: tt.add(_X, v),
    "diag": lambda v: tt.diag(v),
    "eye_shape": lambda v: tt.eye(v),
    "ones_shape": lambda v: tt.ones(v),
    "trace": lambda v: tt.trace(v),
    "apply_tensor": lambda v: tt.apply(lambda a: a * a, v, eps=1e-8, max_sweeps=2),
    "apply_eps": lambda v: tt.apply(lambda a: a * a, _X, eps=v, max_sweeps=2),
    "amen_mv_x": lambda v: tt.amen_mv(_OP, v, max_sweeps=2),
    "amen_mv_eps": lambda v: tt.amen_mv(_OP, tt.ones((3, 3, 3)), eps=v, max_sweeps=2),
    "dmrg_eigs_k": lambda v: tt.dmrg_eigs(_OP, v, max_sweeps=2),
    "qtt_laplacian": lambda v: tt.qtt_laplacian(v),
    "dequantize": lambda v: tt.dequantize(v),
    "orthogonalize": lambda v: tt.orthogonalize(_X, v),
    "tt_svd_method": lambda v: tt.tt_svd(_X.full(), eps=1e-8, method=v),
    "tdvp_method": lambda v: tt.tdvp(_OP, tt.ones((3, 3, 3)), 0.1, steps=1, method=v),
    "amen_local_solver": lambda v: tt.amen_solve(_OP, tt.ones((3, 3, 3)), local_solver=v,
                                                 max_sweeps=1),
    "minimize_method": lambda v: riemannian.minimize(lambda y: tt.norm(y - _X) ** 2, _X,
                                                     grad=lambda y: 2.0 * (y - _X), method=v,
                                                     max_iter=1),
    "sum_axis": lambda v: tt.sum(_X, axis=v),
    "nearest_neighbor": lambda v: tt.nearest_neighbor(v, pair=[(1.0, np.eye(2), np.eye(2))]),
    "cp_hals": lambda v: cp.cp_hals(v, 2, max_iter=3),
    "cp_hals_rank": lambda v: cp.cp_hals(np.abs(_X.full()), v, max_iter=3),
    "cp_apr_values": lambda v: cp.cp_apr(np.array([[0, 0, 0], [1, 2, 1]]), v, (3, 4, 3), 2,
                                         max_iter=3),
    "cp_apr_idx": lambda v: cp.cp_apr(v, np.ones(2), (3, 4, 3), 2, max_iter=3),
    "cp_als_sparse_shape": lambda v: cp.cp_als_sparse(np.array([[0, 0, 0], [1, 2, 1]]),
                                                      np.ones(2), v, 2, max_iter=3),
    "tucker_hals_ranks": lambda v: tucker.tucker_hals(np.abs(_X.full()), v, max_iter=3),
    "hooi_sparse_values": lambda v: tucker.hooi_sparse(np.array([[0, 0, 0], [1, 2, 1]]), v,
                                                       (3, 4, 3), 2, max_iter=3),
    "ht_truncate_eps": lambda v: ht.truncate(_HT, eps=v),
    "ht_truncate_max_rank": lambda v: ht.truncate(_HT, max_rank=v),
    "ht_random_ranks": lambda v: ht.random((3, 4, 3, 2), v, seed=0),
    "khatri_rao": lambda v: linalg.khatri_rao([np.ones((2, 3)), v]),
    "unfold_mode": lambda v: linalg.unfold(_X.full(), v),
    "fold_shape": lambda v: linalg.fold(np.ones((3, 12)), 0, v),
    "mode_product": lambda v: linalg.mode_product(_X.full(), v, 1),
    "randomized_svd_rank": lambda v: linalg.randomized_svd(np.ones((6, 5)), v, seed=0),
    "CPTensor_factors": lambda v: cp.CPTensor(None, v).shape,  # (values may overflow)
    "TuckerTensor_core": lambda v: tucker.TuckerTensor(v, [np.eye(3)] * 3).shape,
    "tensor": lambda v: tnlib.tensor(v),
    "to_dtype": lambda v: _X.to(dtype=v),
    "reshape_x": lambda v: tt.reshape(v, (36,)),
    "reshape_shape": lambda v: tt.reshape(_X, v),
    "reshape_eps": lambda v: tt.reshape(_X, (6, 6), eps=v),
    "permute": lambda v: tt.permute(v, (0, 2, 1)),
    "permute_axes": lambda v: tt.permute(_X, v),
    "permute_eps": lambda v: tt.permute(_X, (2, 1, 0), eps=v),
    "permute_max_rank": lambda v: tt.permute(_X, (2, 1, 0), max_rank=v),
    "qtt_fft": lambda v: tt.qtt_fft(v),
    "qtt_conv": lambda v: tt.qtt_conv(_Q, v),
    "qtt_conv_mode": lambda v: tt.qtt_conv(_Q, _Q, mode=v),
    "qtt_fft_eps": lambda v: tt.qtt_fft(_Q, eps=v),
    "qtt_fft_max_rank": lambda v: tt.qtt_fft(_Q, max_rank=v),
    "qtt_fft_norm": lambda v: tt.qtt_fft(_Q, norm=v, inverse=True),
    "qtt_fft_dims": lambda v: tt.qtt_fft(_Q, dims=v),
    "qtt_fft_axes": lambda v: tt.qtt_fft(_Q6, dims=2, axes=v),
    "qtt_fft_max_rank_2d": lambda v: tt.qtt_fft(_Q6, dims=2, max_rank=v),
    "qtt_conv_dims": lambda v: tt.qtt_conv(_Q6, _Q6, dims=v),
    "tucker_random_shape": lambda v: tucker.random(v, 2, seed=0),
    "tucker_random_ranks": lambda v: tucker.random((3, 4), v, seed=0),
    "divide_x": lambda v: tt.divide(v, _X),
    "divide_y": lambda v: tt.divide(_X * _X + 1.0, v),
    "divide_eps": lambda v: tt.divide(_X, _X * _X + 1.0, eps=v),
    "divide_max_sweeps": lambda v: tt.divide(_X, _X * _X + 1.0, max_sweeps=v),
    "concatenate": lambda v: tt.concatenate(v),
    "concatenate_x": lambda v: tt.concatenate([_X, v], axis=1),
    "concatenate_axis": lambda v: tt.concatenate([_X, _X], axis=v),
    "stack": lambda v: tt.stack([_X, v]),
    "stack_axis": lambda v: tt.stack([_X, _X], axis=v),
    "pad_x": lambda v: tt.pad(v, 1),
    "pad_width": lambda v: tt.pad(_X, v),
    "pad_mode": lambda v: tt.pad(_X, 1, mode=v),
    "pad_values": lambda v: tt.pad(_X, 1, constant_values=v),
    "toeplitz_c": lambda v: tt.toeplitz(v),
    "toeplitz_r": lambda v: tt.toeplitz(_X, v),
    "circulant": lambda v: tt.circulant(v),
    "circulant_dims": lambda v: tt.circulant(_Q6, dims=v),
    "cumsum_x": lambda v: tt.cumsum(v),
    "cumsum_axis": lambda v: tt.cumsum(_X, axis=v),
    "cp_score_estimate": lambda v: cp.score(v, _CP),
    "cp_score_truth": lambda v: cp.score(_CP, v),
    "cp_score_penalty": lambda v: cp.score(_CP, _CP, weight_penalty=v),
}


def _finite_input(value) -> bool:  # noqa: ANN001
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        return bool(np.all(np.isfinite(value)))
    return True


@settings(FUZZ, max_examples=int(os.environ.get("TNLIB_FUZZ_EXAMPLES", 600)))
@given(name=st.sampled_from(sorted(_ENTRY_POINTS)), value=anything)
def test_entry_points_with_arbitrary_arguments(name, value):
    """Whatever lands in an argument: a result or a TnlibError, and a finite result from
    finite input -- the regression suite of the probes that found leaking exceptions."""
    out = contract(lambda: _ENTRY_POINTS[name](value))
    if out is None or value is _NAN_X or value is _INF_X or not _finite_input(value):
        return  # NaN or inf in: NaN or inf out is allowed
    for part in out if isinstance(out, tuple) else (out,):
        arr = part.full() if hasattr(part, "full") else part
        if arr is not None and not isinstance(arr, (str, list)):
            host = np.asarray(tnlib.to_numpy(arr))
            if host.dtype.kind in "fc":
                assert np.all(np.isfinite(host)), f"{name}({value!r}) gave non-finite values"


def _layer_entry_points() -> dict:
    torch = pytest.importorskip("torch")
    from tnlib.nn import torch as tnn

    conv = torch.nn.Conv2d(3, 4, 3)
    return {
        "TTLinear_in": lambda v: tnn.TTLinear(v, (4, 4), 2),
        "TTLinear_ranks": lambda v: tnn.TTLinear((4, 4), (4, 4), v),
        "TTLinear_init": lambda v: tnn.TTLinear((4, 4), (4, 4), 2, init=v),
        "TTLinear_contraction": lambda v: tnn.TTLinear((4, 4), (4, 4), 2, contraction=v),
        "TTLinear_dtype": lambda v: tnn.TTLinear((4, 4), (4, 4), 2, dtype=v),
        "TTEmbedding_n": lambda v: tnn.TTEmbedding(v, 16, 2),
        "TTEmbedding_ranks": lambda v: tnn.TTEmbedding(100, 16, v),
        "TTEmbedding_pad": lambda v: tnn.TTEmbedding(100, 16, 2, padding_idx=v),
        "TTEmbedding_std": lambda v: tnn.TTEmbedding(100, 16, 2, std=v),
        "TTLSTM_layers": lambda v: tnn.TTLSTM((4, 4), (4, 4), 2, num_layers=v),
        "TTLSTM_dropout": lambda v: tnn.TTLSTM((4, 4), (4, 4), 2, dropout=v),
        "TTLSTM_proj": lambda v: tnn.TTLSTM((4, 4), (4, 4), 2, proj_size=v),
        "TRL_rank": lambda v: tnn.TRL((4, 4), (3,), v),
        "TRL_out": lambda v: tnn.TRL((4, 4), v, 2),
        "cp_conv2d_rank": lambda v: tnn.cp_conv2d(conv, v, max_iter=3),
        "tucker_conv2d_ranks": lambda v: tnn.tucker_conv2d(conv, v, max_iter=3),
    }


@settings(FUZZ, max_examples=int(os.environ.get("TNLIB_FUZZ_EXAMPLES", 300)))
@given(data=st.data())
def test_torch_layer_constructors_with_arbitrary_arguments(data):
    """A layer built from whatever lands in one argument, or a TnlibError."""
    entries = _layer_entry_points()
    name = data.draw(st.sampled_from(sorted(entries)))
    value = data.draw(anything)
    contract(lambda: entries[name](value))
