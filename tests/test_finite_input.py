"""Decompositions refuse NaN and inf up front, naming the argument and the entry."""

from __future__ import annotations

import numpy as np
import pytest

from tnlib import cp, ht, tt, tucker
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
