"""Excited states by DMRG: `dmrg_eig(..., orthogonal_to=)` and `dmrg_eigs`, against exact
diagonalization."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of
from tests.tt.test_solvers import heisenberg
from tnlib import tt


def _gram(states):
    return np.array([[complex(np_of(tt.dot(a, b))) for b in states] for a in states])


def test_lowest_eigenpairs_of_the_heisenberg_chain_with_its_multiplets(backend):
    """The 8 lowest levels of the L=10 chain (a singlet, a triplet, a triplet, a singlet:
    degenerate ones once per independent eigenvector) to 1e-10 of exact diagonalization;
    the states orthonormal, their Rayleigh quotients the values, on the backend."""
    h = heisenberg(10, backend)
    dense = np_of(h.full())
    exact = np.linalg.eigvalsh(dense)[:8]
    values, states, infos = tt.dmrg_eigs(h, 8, max_rank=32, eps=1e-10, return_info=True)
    assert_like(values, h.cores[0])
    got = np_of(values)
    assert got.shape == (8,) and np.all(np.diff(got) >= -1e-12)
    assert np.abs(got - exact).max() <= 1e-10 * abs(exact[0])
    assert np.abs(_gram(states) - np.eye(8)).max() <= 1e-10
    for value, x, info in zip(got, states, infos):
        assert_like(x, h.cores[0])
        v = np_of(x).ravel()
        assert abs(v @ dense @ v - value) <= 1e-10 * abs(value)
        assert info.converged


def test_excited_states_of_an_operator_with_a_positive_spectrum_in_float32(backend):
    """A positive spectrum (the 3-D Laplacian, lowest 0.80) in float32: rounding leaves
    1e-8 of the found states in each local problem, where the projected operator is zero,
    and an unshifted Lanczos converged there (values 0, states repeated); shifted, the
    four lowest (one, then a triple) come out to float32's resolution."""
    h = tt.laplacian(5, 3, dtype="float32", backend=backend)
    exact = np.linalg.eigvalsh(np_of(h.full()).astype(np.float64))[:4]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tnlib.PrecisionWarning)
        values, states = tt.dmrg_eigs(h, 4, max_rank=12)
    assert_like(values, h.cores[0])
    assert np.abs(np_of(values) - exact).max() <= 1e-5
    assert np.abs(_gram(states) - np.eye(4)).max() <= 1e-5


def test_excited_states_of_operators_and_states_near_the_float_limits(backend):
    """H at 1e±200 (solved at unit scale) and states of norm 1e±300 (normalized): the
    same levels, relative to the scale."""
    h = heisenberg(8, backend)
    exact = np.linalg.eigvalsh(np_of(h.full()))[:3]
    for scale in (1e200, 1e-200):
        values, _ = tt.dmrg_eigs(scale * h, 3, max_rank=16, eps=1e-10)
        assert np.abs(np_of(values) / scale - exact).max() <= 1e-9
    _, ground = tt.dmrg_eig(h, max_rank=16, eps=1e-10)
    for scale in (1e300, 1e-300):
        e1, _ = tt.dmrg_eig(h, max_rank=16, eps=1e-10, orthogonal_to=[scale * ground])
        assert abs(float(np_of(e1)) - exact[1]) <= 1e-9


def test_more_states_than_an_edge_bond_holds(backend):
    """20 levels of the L=6 chain: the two-site space at each end (2 x 2 times a right
    basis of 4) has 16 dimensions, which 16 or more states fill (was an ArgumentError);
    those bonds keep their vector and the inner ones keep the train orthogonal."""
    h = heisenberg(6, backend)
    exact = np.linalg.eigvalsh(np_of(h.full()))[:20]
    values, states = tt.dmrg_eigs(h, 20, max_rank=8, eps=1e-12, tol=1e-10)
    assert np.abs(np_of(values) - exact).max() <= 1e-9
    assert np.abs(_gram(states) - np.eye(20)).max() <= 1e-9


def test_orthogonal_to_on_a_complex_hamiltonian_and_on_one_mode(backend):
    """Complex Hermitian H: the first excited level from `orthogonal_to` the ground state;
    a one-mode H (the dense path): the complement's lowest eigenvalue. Both on the
    framework path (as on a GPU: TensorFlow's matmul takes no vector)."""
    from tnlib.backends import host_execution

    h = heisenberg(4, backend, dtype="complex128")
    exact = np.linalg.eigvalsh(np_of(h.full()))
    x0 = tt.random((2,) * 4, 2, seed=2, dtype="complex128", backend=backend)
    e0, ground = tt.dmrg_eig(h, x0, max_rank=4)
    with host_execution(False):
        e1, first = tt.dmrg_eig(h, x0, max_rank=4, orthogonal_to=[ground])
    assert_like(first, x0)
    assert abs(float(np_of(e0)) - exact[0]) <= 1e-9 and abs(float(np_of(e1)) - exact[1]) <= 1e-9
    assert abs(complex(np_of(tt.dot(ground, first)))) <= 1e-9
    rng = np.random.default_rng(0)
    m = rng.standard_normal((6, 6))
    one = tt.TTMatrix([backend.asarray((m + m.T)[None, :, :, None])])
    with host_execution(False):
        values, states = tt.dmrg_eigs(one, 3)
    np.testing.assert_allclose(np_of(values), np.linalg.eigvalsh(m + m.T)[:3], atol=1e-12)
    assert np.abs(_gram(states) - np.eye(3)).max() <= 1e-12


def test_excited_state_arguments_are_checked(backend):
    h = heisenberg(4, backend)
    x = tt.random((2,) * 4, 2, seed=0, backend=backend)
    with pytest.raises(tnlib.ShapeError, match="orthogonal_to must be a list or tuple"):
        tt.dmrg_eig(h, orthogonal_to=x)
    with pytest.raises(tnlib.ShapeError, match=r"orthogonal_to\[0\] has shape \(2, 2, 2\)"):
        tt.dmrg_eig(h, orthogonal_to=[tt.random((2,) * 3, 2, seed=0, backend=backend)])
    with pytest.raises(tnlib.ArgumentError, match=r"orthogonal_to\[1\] must be a TTTensor"):
        tt.dmrg_eig(h, orthogonal_to=[x, np.ones(16)])
    with pytest.raises(tnlib.ArgumentError, match=r"orthogonal_to\[0\] is complex"):
        tt.dmrg_eig(h, orthogonal_to=[tt.random((2,) * 4, 2, seed=0, dtype="complex128",
                                                backend=backend)])
    with pytest.raises(tnlib.ArgumentError, match=r"dmrg_eigs: k must be an integer in "
                                                  r"\[1, 16\], got 17"):
        tt.dmrg_eigs(h, 17)
    with pytest.raises(tnlib.ArgumentError, match="dmrg_eigs: orthogonal_to is not taken"):
        tt.dmrg_eigs(h, 2, orthogonal_to=[x])
    # a zero state has no direction (it was a LinAlgError of the SVD of 0/0)
    for op, zero in ((h, 0.0 * x), (tt.eye((4,), backend=backend), tt.zeros((4,),
                                                                          backend=backend))):
        with pytest.raises(tnlib.ArgumentError, match=r"orthogonal_to\[0\] is the zero "):
            tt.dmrg_eig(op, orthogonal_to=[zero])
    # states that fill a local space leave nothing orthogonal to them: named, not a NaN
    basis = [tt.tt_svd(backend.asarray(np.eye(4)[j].reshape(2, 2))) for j in range(4)]
    with pytest.raises(tnlib.ArgumentError, match="the 4 states of orthogonal_to fill every "
                                                  "two-site local space of sweep 1"):
        tt.dmrg_eig(tt.eye((2, 2), backend=backend), orthogonal_to=basis)
