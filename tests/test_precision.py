"""A tolerance below the data's resolution is raised to it, with a PrecisionWarning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tnlib import ht, tt, tucker
from tnlib.errors import PrecisionWarning

from .helpers import on, rel_error


def _smooth(n: int = 8, d: int = 5) -> np.ndarray:
    g = np.meshgrid(*[np.linspace(0, 1, n)] * d, indexing="ij", sparse=True)
    return 1.0 / (1.0 + sum(g))


def _ranks(x):  # noqa: ANN001, ANN202
    return tuple(x.ranks.values()) if isinstance(x.ranks, dict) else tuple(x.ranks)


CALLS = {
    "tt_svd": lambda a, eps: tt.tt_svd(a, eps=eps),
    "round": lambda a, eps: tt.tt_svd(a, eps=0).round(eps),
    "hosvd": lambda a, eps: tucker.hosvd(a, eps=eps),
    "hsvd": lambda a, eps: ht.hsvd(a, eps=eps),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_float32_eps_below_resolution_warns_and_keeps_ranks_of_the_signal(backend, name):
    a = on(backend, _smooth(), dtype="float32")
    with pytest.warns(PrecisionWarning, match=rf"{name}: eps=1e-10 is below the resolution "
                                              r"of float32 data; using eps=4\.8e-07"):
        x = CALLS[name](a, 1e-10)
    y = CALLS[name](a, 4 * float(np.finfo(np.float32).eps))
    assert rel_error(x, y) < 1e-6  # the same truncation as at the resolvable eps
    assert _ranks(x) == _ranks(y)
    assert rel_error(x, _smooth()) < 2e-5  # float32 work: a few dozen ulps


@pytest.mark.parametrize("name", list(CALLS))
def test_resolvable_and_zero_eps_do_not_warn(backend, name):
    a32 = on(backend, _smooth(), dtype="float32")
    a64 = on(backend, _smooth())
    with warnings.catch_warnings():
        warnings.simplefilter("error", PrecisionWarning)
        CALLS[name](a32, 1e-6)
        CALLS[name](a64, 1e-14)
        CALLS[name](a32, 0.0)  # no truncation by accuracy: nothing to warn about


def test_amen_eps_below_float32_resolution_warns(backend):
    a = tt.laplacian(4, 3, dtype="float32", backend=backend)
    f = tt.ones((4,) * 3, dtype="float32", backend=backend)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x = tt.amen_solve(a, f, eps=1e-9, max_sweeps=2)
    (w,) = [w for w in caught if w.category is PrecisionWarning]
    assert "amen_solve: eps=1e-09 is below the resolution of float32" in str(w.message)
    assert backend.dtype_name(x.cores[0]) == "float32"


def test_hooi_tol_follows_the_dtype(backend):
    rng = np.random.default_rng(4)
    u, v, w = (rng.standard_normal((n, 3)) for n in (9, 10, 11))
    a = np.einsum("ir,jr,kr->ijk", u, v, w) + 1e-3 * rng.standard_normal((9, 10, 11))
    a32 = on(backend, a, dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default tol is one float32 can meet: no warning
        x, info = tucker.hooi(a32, (3, 3, 3), return_info=True)
    assert info.converged and rel_error(x, a) < 2e-3
    with pytest.warns(PrecisionWarning, match="hooi: tol=1e-10 is below the resolution"):
        tucker.hooi(a32, (3, 3, 3), tol=1e-10)


def test_default_tolerances_follow_the_dtype_without_a_warning(backend):
    """A default tolerance means "as fine as the data resolve": float32 data get float32's
    floor silently; the same number passed by the caller is still a request it cannot
    honour, warned about under the name of the function called."""
    a32 = on(backend, _smooth(6, 4), dtype="float32")
    sp, sz = np.array([[0.0, 1.0], [0.0, 0.0]]), np.diag([0.5, -0.5])
    pair = [(0.5, sp, sp.T), (0.5, sp.T, sp), (1.0, sz, sz)]
    h = tt.nearest_neighbor(6, pair=pair, dtype="float32", backend=backend)
    hc = tt.nearest_neighbor(6, pair=pair, dtype="complex64", backend=backend)
    x0 = tt.random((2,) * 6, 2, seed=0, dtype="float32", backend=backend)
    lap = tt.laplacian(4, 3, dtype="float32", backend=backend)
    ones = tt.ones((4,) * 3, dtype="float32", backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PrecisionWarning)
        for x in (tt.tt_svd(a32), ht.hsvd(a32), tt.quantize(backend.reshape(a32, (-1,))[:1024]),
                  tt.tt_matrix(backend.reshape(a32, (36, 36)), (6, 6), (6, 6)),
                  tt.amen_mv(lap, ones),
                  tt.operator_sum([(1.0, {0: np.eye(2)})], (2, 2), dtype="float32",
                                  backend=backend),
                  tt.tdvp(-1j * hc, x0.to(dtype="complex64"), 0.1, steps=1),
                  tt.dmrg_eig(h, x0, max_sweeps=20)[1]):
            assert x.backend.dtype_name(x.dtype) in ("float32", "complex64")
    with pytest.warns(PrecisionWarning, match=r"^amen_mv: eps=1e-08 is below"):
        tt.amen_mv(lap, ones, eps=1e-8)  # (it was named "round:", the inner call)
    with pytest.warns(PrecisionWarning, match=r"^tt_svd: eps=1e-14 is below"):
        tt.tt_svd(a32, eps=1e-14)
