"""Decompositions refuse NaN and inf up front, naming the argument and the entry; on an
accelerator that check, the data's scale and its norm cost one read."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import np_of, rel_error
from tnlib import cp, ht, tt, tucker
from tnlib._validation import unit_data
from tnlib.backends import host_execution
from tnlib.errors import ArgumentError

CALLS = {
    "tt_svd": lambda a: tt.tt_svd(a, eps=1e-8),
    "hosvd": lambda a: tucker.hosvd(a, eps=1e-8),
    "hooi": lambda a: tucker.hooi(a, (2, 2, 2)),
    "hsvd": lambda a: ht.hsvd(a, eps=1e-8),
    "cp_als": lambda a: cp.cp_als(a, 2),
}


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_non_finite_data_is_refused_before_any_factorization(backend, name, bad):
    a = np.ones((24, 5, 3))
    a[20, 1, 2] = bad
    with pytest.raises(ArgumentError, match=rf"{name}: a holds non-finite values .*\(20, 1, 2\)"):
        CALLS[name](backend.asarray(a))


def test_tt_matrix_names_the_matrix_entry(backend):
    a = np.ones((24, 15))
    a[7, 11] = np.nan
    with pytest.raises(ArgumentError, match=r"tt_matrix: a holds non-finite values .*\(7, 11\)"):
        tt.tt_matrix(backend.asarray(a), (4, 6), (5, 3))


@pytest.mark.parametrize("name", list(CALLS))
def test_non_finite_data_is_refused_on_an_accelerator_too(backend, one_read, name):
    # there the check shares its read with the scale and the norm (unit_data)
    a = np.ones((24, 5, 3))
    a[3, 4, 0] = np.nan
    with pytest.raises(ArgumentError, match=rf"{name}: a holds non-finite values .*\(3, 4, 0\)"):
        CALLS[name](backend.asarray(a))


@pytest.mark.parametrize("peak", [3.0, 1e-200, 1e200])
def test_checks_scale_and_norm_of_the_data_cost_one_read_on_an_accelerator(backend, one_read,
                                                                          peak):
    data = np.random.default_rng(0).standard_normal((6, 7, 8))
    data *= peak / np.abs(data).max()
    a = backend.asarray(data)
    before = len(one_read)
    scaled, scale, norm = unit_data(a, backend, "f")
    # data that must be brought to unit scale has its norm read again, after scaling
    assert len(one_read) - before == (1 if peak == 3.0 else 2)
    assert scale == (None if peak == 3.0 else pytest.approx(peak, rel=1e-15))
    assert norm == float(backend.item(backend.norm(scaled)))  # the backend's own, as read
    assert np.allclose(backend.to_numpy(scaled), data / (scale or 1.0), rtol=1e-15, atol=0)
    assert norm == pytest.approx(np.linalg.norm(data / (scale or 1.0)), rel=1e-14)
    assert unit_data(a, backend, "f", norm=False)[2] is None


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("peak", [1.0, 1e200])
def test_decompositions_on_an_accelerator_match_the_host(backend, one_read, name, peak):
    rng = np.random.default_rng(2)
    data = cp.random((10, 9, 8), 2, seed=1).full() * peak
    data += 1e-3 * peak * rng.standard_normal(data.shape)
    with host_execution(True):
        want = CALLS[name](data).full()
    got = CALLS[name](backend.asarray(data))
    assert rel_error(np_of(got) / peak, want / peak) < 1e-9
