"""Singular values at every bond and entanglement entropies, against dense SVDs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tnlib
from tests.helpers import np_of
from tnlib import tt


def _dense_spectra(a: np.ndarray) -> list:
    return [np.linalg.svd(a.reshape(int(np.prod(a.shape[:b + 1])), -1), compute_uv=False)
            for b in range(a.ndim - 1)]


@pytest.mark.parametrize("dtype", ["float64", "complex128", "float32"])
def test_bond_spectra_and_entropies_equal_the_unfoldings(backend, dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 5, 6))
    if dtype == "complex128":
        a = a + 1j * rng.standard_normal(a.shape)
    x = tt.tt_svd(backend.asarray(a.astype(dtype)))
    tol = 1e-5 if dtype == "float32" else 1e-13
    got = tt.singular_values(x)
    want = _dense_spectra(a)
    assert len(got) == 3
    for s, ref in zip(got, want):
        assert tnlib.backend_of(s).name == backend.name
        assert backend.dtype_name(s) == ("float32" if dtype == "float32" else "float64")
        s = np_of(s)
        assert np.abs(s - ref[:len(s)]).max() <= tol * ref[0]
        assert np.all(ref[len(s):] <= tol * ref[0])  # what the ranks leave out is zero
    p = [q**2 / (q**2).sum() for q in want]
    von_neumann = [-(q * np.log(q)).sum() for q in p]
    np.testing.assert_allclose(np_of(tt.entanglement_entropy(x)), von_neumann, atol=10 * tol)
    renyi2 = [-np.log((q**2).sum()) for q in p]
    np.testing.assert_allclose(np_of(tt.entanglement_entropy(x, alpha=2)), renyi2,
                               atol=10 * tol)
    np.testing.assert_allclose(np_of(tt.entanglement_entropy(x, alpha=np.inf)),
                               [-np.log(q.max()) for q in p], atol=10 * tol)


def test_redundant_ranks_show_as_zeros_and_every_bond_has_the_norm(backend):
    x = tt.random((4, 4, 4, 4), 3, seed=1, backend=backend)
    y = x + x  # ranks 6, unfoldings of rank 3
    nrm = float(np_of(y.norm()))
    spectra = [np_of(s) for s in tt.singular_values(y)]
    assert [len(s) for s in spectra] == [4, 6, 4]  # ranks 6, or the unfolding's size
    for s in spectra:
        assert np.all(np.diff(s) <= 1e-12 * s[0])
        assert np.all(s[3:] <= 1e-13 * s[0])
        assert abs(np.sqrt((s**2).sum()) - nrm) <= 1e-13 * nrm


def test_a_long_ghz_state_at_extreme_scales(backend):
    """(|00…0> + |11…1>), 400 modes, cores of 1e±200: the singular values are 1 and 1 at
    every bond (no core product is representable), the entropy ln 2."""
    d = 400
    first = np.zeros((1, 2, 2))
    first[0, 0, 0] = first[0, 1, 1] = 1.0
    mid = np.zeros((2, 2, 2))
    mid[0, 0, 0] = mid[1, 1, 1] = 1.0
    last = np.zeros((2, 2, 1))
    last[0, 0, 0] = last[1, 1, 0] = 1.0
    cores = [first] + [mid] * (d - 2) + [last]
    x = tt.TTTensor([backend.asarray(c * (1e200 if k % 2 else 1e-200))
                     for k, c in enumerate(cores)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        spectra = [np_of(s) for s in tt.singular_values(x)]
        entropy = np_of(tt.entanglement_entropy(x))
    assert len(spectra) == d - 1
    assert max(np.abs(s - 1.0).max() for s in spectra) < 1e-12
    assert np.abs(entropy - np.log(2)).max() < 1e-12


def test_products_zeros_and_single_modes(backend):
    product = tt.ones((2, 3, 4), backend=backend)
    assert np.abs(np_of(tt.entanglement_entropy(product))).max() < 1e-14
    for alpha in (0.5, 1, 2, np.inf):
        zero = np_of(tt.entanglement_entropy(0.0 * product, alpha=alpha))
        assert zero.shape == (2,) and np.all(zero == 0.0)
    assert all(np.all(np_of(s) == 0.0) for s in tt.singular_values(0.0 * product))
    single = tt.ones((5,), backend=backend)
    assert tt.singular_values(single) == []
    assert backend.shape(tt.entanglement_entropy(single)) == (0,)


def test_bad_input_is_named(backend):
    x = tt.random((3, 4), 2, seed=0, backend=backend)
    for alpha in (-1.0, "2", True, float("nan")):
        with pytest.raises(tnlib.ArgumentError, match="alpha must be a real number >= 0"):
            tt.entanglement_entropy(x, alpha=alpha)
    with pytest.raises(tnlib.ArgumentError, match="singular_values: x must be a TTTensor"):
        tt.singular_values(np_of(x))
    cores = [np_of(c).copy() for c in x.cores]
    cores[1][0, 0, 0] = np.inf  # was: NumPy's LinAlgError "SVD did not converge"
    y = tt.TTTensor([backend.asarray(c) for c in cores])
    for name, call in (("singular_values", tt.singular_values),
                       ("entanglement_entropy", tt.entanglement_entropy)):
        with pytest.raises(tnlib.ArgumentError, match=f"{name}: x holds NaN or inf"):
            call(y)


def test_entropies_under_jit_match_eager_ones(backend):
    if not backend.supports_jit:
        pytest.skip(f"{backend.name} runs eagerly: nothing is traced")
    x = tt.random((3, 4, 5, 2), 3, seed=2, backend=backend)
    jitted = backend.jit(lambda *c: tt.entanglement_entropy(tt.TTTensor(list(c))))(*x.cores)
    np.testing.assert_allclose(np_of(jitted), np_of(tt.entanglement_entropy(x)), rtol=1e-12)
