"""The formats hold floating-point numbers: integer or bool parts, or a request for an
integer dtype, are refused by name; complex terms never lose their imaginary parts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tnlib import cp, ht, tt, tucker
from tnlib.errors import ArgumentError, NonFiniteError, PrecisionWarning, ShapeError

from .helpers import assert_like, np_of, on, rel_error

_PAULI_Y = np.array([[0.0, -1j], [1j, 0.0]])


def test_containers_refuse_integer_and_bool_parts(backend):
    ints = np.arange(12).reshape(1, 3, 4)
    with pytest.raises(ArgumentError, match=r"TTTensor: core 0 has dtype int64; expected real"):
        tt.TTTensor([on(backend, ints), on(backend, np.ones((4, 2, 1), dtype=np.int64))])
    with pytest.raises(ArgumentError, match=r"TTTensor: core 0 has dtype bool"):
        tt.TTTensor([on(backend, np.ones((1, 3, 1), dtype=bool))])
    with pytest.raises(ArgumentError, match=r"TTMatrix: core 0 has dtype int64"):
        tt.TTMatrix([on(backend, np.ones((1, 2, 2, 1), dtype=np.int64))])
    with pytest.raises(ArgumentError, match=r"CPTensor: factor 0 has dtype int64"):
        cp.CPTensor(None, [on(backend, np.ones((3, 2), dtype=np.int64))] * 2)
    with pytest.raises(ArgumentError, match=r"CPTensor: weights has dtype int64"):
        cp.CPTensor(on(backend, np.ones(2, dtype=np.int64)), [on(backend, np.ones((3, 2)))] * 2)
    with pytest.raises(ArgumentError, match=r"TuckerTensor: core has dtype int64"):
        tucker.TuckerTensor(on(backend, np.ones((2, 2), dtype=np.int64)),
                            [on(backend, np.ones((3, 2), dtype=np.int64))] * 2)
    h = ht.random((3, 4, 5), 2, seed=0, backend=backend)
    arrays = {n: on(backend, np.round(np_of(h.array(n))).astype(np.int64))
              for n in h.tree.nodes}
    with pytest.raises(ArgumentError, match=r"HTTensor: the array of node .* has dtype int64"):
        ht.HTTensor(h.tree, arrays)
    # the same data as floats is a valid train with the right entries
    x = tt.TTTensor([on(backend, ints.astype(float)), on(backend, np.ones((4, 2, 1)))])
    assert rel_error(x.full(), ints[0] @ np.ones((4, 2))) == 0.0


@pytest.mark.parametrize("make", [
    lambda dt, b: tt.random((3, 4), 2, seed=0, dtype=dt, backend=b),
    lambda dt, b: tt.ones((3, 4), dtype=dt, backend=b),
    lambda dt, b: tt.zeros((3, 4), dtype=dt, backend=b),
    lambda dt, b: tt.eye((3, 4), dtype=dt, backend=b),
    lambda dt, b: tt.laplacian(4, 2, dtype=dt, backend=b),
    lambda dt, b: tt.qtt_laplacian(3, dtype=dt, backend=b),
    lambda dt, b: tt.nearest_neighbor(3, onsite=[(1.0, np.eye(2))], dtype=dt, backend=b),
    lambda dt, b: tt.operator_sum([(1.0, {0: np.eye(2)})], (2, 2), eps=1e-6, dtype=dt,
                                  backend=b),
    lambda dt, b: cp.random((3, 4), 2, seed=0, dtype=dt, backend=b),
    lambda dt, b: ht.random((3, 4, 5), 2, seed=0, dtype=dt, backend=b),
], ids=["tt.random", "ones", "zeros", "eye", "laplacian", "qtt_laplacian", "nearest_neighbor",
        "operator_sum", "cp.random", "ht.random"])
def test_creation_functions_refuse_an_integer_dtype(backend, make):
    with pytest.raises(ArgumentError, match=r"dtype 'int32' is not a floating-point type"):
        make("int32", backend)
    with pytest.raises(ArgumentError, match=r"dtype 'bool' is not a floating-point type"):
        make("bool", backend)
    with warnings.catch_warnings():  # a float dtype is honoured, with no word about the
        warnings.simplefilter("error", PrecisionWarning)  # tolerances the builders use
        x = make("float32", backend)
    assert x.backend.name == backend.name and x.backend.dtype_name(x.dtype) == "float32"


def test_integer_data_still_becomes_a_tensor_or_an_index(backend):
    import tnlib

    idx = tnlib.tensor([[0, 1], [2, 3]], dtype="int64", backend=backend)
    assert backend.dtype_name(idx) == "int64"
    x = tt.random((3, 4), 2, seed=0, backend=backend)
    assert backend.shape(x.evaluate(idx)) == (2,)


def test_operators_keep_complex_terms_complex(backend):
    with pytest.raises(ArgumentError, match=r"nearest_neighbor: dtype float64 is real but a "
                                            r"term is complex"):
        tt.nearest_neighbor(3, onsite=[(1.0, _PAULI_Y)], dtype="float64", backend=backend)
    with pytest.raises(ArgumentError, match=r"operator_sum: dtype float32 is real"):
        tt.operator_sum([(1j, {0: np.eye(2)})], (2, 2), dtype="float32", backend=backend)
    h = tt.nearest_neighbor(3, onsite=[(1.0, _PAULI_Y)], dtype="complex64", backend=backend)
    ref = sum(np.kron(np.kron(*[_PAULI_Y if k == s else np.eye(2) for k in range(2)]),
                      _PAULI_Y if s == 2 else np.eye(2)) for s in range(3))
    assert rel_error(h.full(), ref) < 1e-6
    assert_like(h.cores[0], on(backend, np.zeros(1, dtype=np.complex64)))


def test_operator_terms_of_the_wrong_form_are_named(backend):
    def op_sum(terms: object, shape: object = (2, 2), **kw: object) -> object:
        return tt.operator_sum(terms, shape, backend=backend, **kw)

    for terms, error, match in [
        ([1.0], ShapeError, r"terms\[0\] must be a \(coefficient, \{site: matrix\}\) pair"),
        ([(1.0, np.eye(2))], ShapeError, r"terms\[0\] must map sites to matrices"),
        ([(float("nan"), {0: np.eye(2)})], ArgumentError,
         r"coefficient of terms\[0\] must be a finite number, got nan"),
        ([("2", {0: np.eye(2)})], ArgumentError, "coefficient of terms"),
        ([(1.0, {1.5: np.eye(2)})], ShapeError, r"site 1.5 is not an integer in 0..1"),
        ([(1.0, {0: np.full((2, 2), np.inf)})], NonFiniteError, "non-finite"),
        ([(1.0, {0: np.array([["a", "b"], ["c", "d"]])})], ArgumentError, "hold numbers"),
    ]:
        with pytest.raises(error, match=match):
            op_sum(terms)
    with pytest.raises(ShapeError, match=r"operator_sum: shape must be"):
        op_sum([(1.0, {0: np.eye(2)})], (2, 0))
    with pytest.raises(ArgumentError, match=r"operator_sum: eps must be"):
        op_sum([(1.0, {0: np.eye(2)})], eps=-1.0)
    with pytest.raises(ShapeError, match=r"nearest_neighbor: pair\[0\] must be a \(J, A, B\)"):
        tt.nearest_neighbor(3, pair=[(1.0, np.eye(2))], backend=backend)
    # a backend array as a local operator is read like a NumPy one
    h = tt.nearest_neighbor(3, onsite=[(2.0, on(backend, np.diag([1.0, -1.0])))],
                            backend=backend)
    assert rel_error(h.diag().full(), 2.0 * np.array(
        [sum(1 - 2 * ((i >> (2 - s)) & 1) for s in range(3)) for i in range(8)]
    ).reshape(2, 2, 2)) < 1e-14


def test_diag_and_scale_name_what_they_need(backend):
    x = tt.random((3, 4), 2, seed=0, backend=backend)
    with pytest.raises(ArgumentError, match=r"diag: x must be a TTTensor, got list"):
        tt.diag([1.0, 2.0])
    with pytest.raises(ArgumentError, match=r"scale: c must be a number or a 0-d"):
        tt.scale(x, "2")
    with pytest.raises(ArgumentError, match=r"scale: x must be a TTTensor"):
        tt.scale(np.ones(3), 2.0)
    y = tt.scale(x, 2.5)
    assert rel_error(y, 2.5 * np_of(x)) < 1e-15
    assert_like(y.cores[0], x.cores[0])


def _smooth(n: int = 6, d: int = 4) -> np.ndarray:
    g = np.meshgrid(*[np.linspace(0, 1, n)] * d, indexing="ij", sparse=True)
    return 1.0 / (1.0 + sum(g))


def test_half_precision_data_factorize_in_single_and_keep_their_dtype(backend):
    """No framework factorizes float16 (NumPy, torch, TF and JAX refuse it); the backends
    factorize in float32, as torch's autocast does, and hand float16 back."""
    a = _smooth()
    a16 = on(backend, a, dtype="float16")
    s = backend.svdvals(on(backend, a.reshape(36, 36), dtype="float16"))
    assert backend.dtype_name(s) == "float16"
    ref = np.linalg.svd(a.reshape(36, 36), compute_uv=False)
    np.testing.assert_allclose(np_of(s).astype(float), ref, atol=1e-3 * ref[0])  # half's ulp
    for x in (tt.tt_svd(a16, eps=1e-2), tt.tt_svd(a16, eps=0).round(1e-2),
              tucker.hosvd(a16, eps=1e-2), ht.hsvd(a16, eps=1e-2)):
        assert x.backend.name == backend.name and x.backend.dtype_name(x.dtype) == "float16"
        assert rel_error(np_of(x).astype(float), a) < 1.2e-2  # eps plus half-precision noise
    y = tt.orthogonalize(tt.random((3, 4, 5), 3, seed=0, dtype="float16", backend=backend),
                         "left")
    c = np_of(y.cores[0]).astype(float).reshape(3, 3)
    np.testing.assert_allclose(c.T @ c, np.eye(3), atol=5e-3)  # orthonormal to float16


def test_bfloat16_is_refused_by_name_and_read_exactly(backend):
    with pytest.raises(ArgumentError, match=r"random: dtype 'bfloat16' is not|random: dtype "
                                            r"'bfloat16' is not a data type of backend"):
        tt.random((3, 4), 2, dtype="bfloat16", backend=backend)
    if backend.name == "numpy":
        return  # NumPy has no bfloat16 arrays to hand to the decompositions
    import tnlib

    b = backend.astype(on(backend, np.array([1.0, 0.5, 3.0])), "bfloat16")
    with pytest.raises(ArgumentError, match=r"tt_svd: a has dtype bfloat16; expected real or "
                                            r"complex numbers \(float16, float32"):
        tt.tt_svd(b)
    host = tnlib.to_numpy(b)
    assert host.astype(np.float32).tolist() == [1.0, 0.5, 3.0]  # (ml_dtypes on TF, JAX)


def test_half_precision_tolerances_and_range_follow_float16(backend):
    from tnlib.errors import NonFiniteError

    a16 = on(backend, _smooth(), dtype="float16")
    # float16 resolves about 1e-3: a finer eps is raised to 4 of its epsilons, with a word
    with pytest.warns(PrecisionWarning, match=r"tt_svd: eps=1e-06 is below the resolution "
                                              r"of float16 data; using eps=0\.0039"):
        tt.tt_svd(a16, eps=1e-6)
    with pytest.warns(PrecisionWarning, match=r"hooi: tol=1e-06 .* float16"):
        tucker.hooi(a16, (2, 2, 2, 2), tol=1e-6)
    # data near float16's largest value (65504), whose norm is beyond it: the train spreads
    # its scale over the cores; formats with one norm-carrying part say so
    big = 3e4 * _smooth()
    b16 = on(backend, big, dtype="float16")
    x = tt.tt_svd(b16, eps=1e-2)
    for y in (x, x.round(1e-2)):
        assert y.backend.dtype_name(y.dtype) == "float16"
        assert rel_error(np_of(y).astype(float), big) < 1.2e-2
    for call in (lambda: tucker.hosvd(b16, eps=1e-2), lambda: ht.hsvd(b16, eps=1e-2),
                 lambda: tucker.hooi(b16, (2, 2, 2, 2)), lambda: cp.cp_als(b16, 2)):
        with pytest.raises(NonFiniteError, match=r"exceeds? the range of float16 .* wider "
                                                 r"dtype"):
            call()


def test_cp_als_of_half_precision_data_fits_to_its_resolution(backend):
    # CP-ALS measures its error as a difference of squared norms, which float16 resolves to
    # only ~3 % (it stopped there, on an exact rank-2 tensor); the CP gradient's line search
    # overflowed float16 (NumPy's warnings). Both fit in float32 and return float16
    rng = np.random.default_rng(0)
    a = np.einsum("ar,br,cr,dr->abcd", *[rng.standard_normal((n, 2)) for n in (6, 4, 3, 3)])
    a16 = on(backend, a, dtype="float16")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fits = (cp.cp_als(a16, 2, max_iter=200), cp.cp_gradient(a16, 2, max_iter=500, seed=0))
    for x in fits:
        assert x.backend.name == backend.name
        assert {x.backend.dtype_name(f) for f in (x.weights, *x.factors)} == {"float16"}
        assert rel_error(np_of(x).astype(float), a) < 2e-3  # two float16 epsilons
