"""Sampling multi-indices from a train: histograms against the exact probabilities."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tnlib
from tests.helpers import np_of
from tnlib import tt


def _histogram(samples: np.ndarray, shape: tuple) -> np.ndarray:
    h = np.zeros(shape)
    np.add.at(h, tuple(samples.T), 1.0)
    return h / len(samples)


def _chi2_ok(samples: np.ndarray, p: np.ndarray) -> bool:
    """Pearson's statistic of the histogram against `p` below its 1e-4 quantile bound
    (mean k, variance 2k: k + 6 sqrt(2k) + 10 is far in the tail)."""
    n = len(samples)
    h = _histogram(samples, p.shape) * n
    seen = p > 0
    assert h[~seen].sum() == 0, "an index of probability zero was drawn"
    stat = float((((h - n * p) ** 2)[seen] / (n * p[seen])).sum())
    k = int(seen.sum()) - 1
    return stat < k + 6 * np.sqrt(2 * k) + 10


@pytest.mark.parametrize("squared", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_samples_follow_the_trains_distribution(backend, squared, dtype):
    rng = np.random.default_rng(0)
    a = rng.random((3, 4, 5, 2)) ** 3
    a[1, 2] = 0.0  # a slab of probability zero is never drawn
    x = tt.tt_svd(a).to(dtype=dtype, backend=backend.name)
    p = a**2 if squared else a
    s = tt.sample(x, 40000, seed=1, squared=squared)
    assert tnlib.backend_of(s).name == backend.name
    assert backend.dtype_name(s).startswith("int") and backend.shape(s) == (40000, 4)
    assert str(backend.device(s)) == str(x.device)
    assert _chi2_ok(np_of(s), p / p.sum())


def test_a_seed_gives_the_same_samples_on_every_backend(backend):
    x = tt.random((3, 4, 5), 3, seed=0)
    y = x * x  # non-negative
    for squared, z in ((True, x), (False, y)):
        here = np_of(tt.sample(z.to(backend=backend.name), 500, seed=7, squared=squared))
        np.testing.assert_array_equal(here, tt.sample(z, 500, seed=7, squared=squared))


def test_born_rule_of_a_complex_mps(backend):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((2, 3, 2, 3)) + 1j * rng.standard_normal((2, 3, 2, 3))
    x = tt.tt_svd(backend.asarray(a))
    p = np.abs(a) ** 2
    assert _chi2_ok(np_of(tt.sample(x, 30000, seed=3, squared=True)), p / p.sum())
    with pytest.raises(tnlib.ArgumentError, match="complex"):
        tt.sample(x, 10)


def test_long_product_states_sample_each_mode_independently(backend):
    """300 modes with P(i_k = 1) = 0.2, at cores of 1e±200 (no core product is
    representable without the unit-scale form)."""
    core = np.array([0.8, 0.2]).reshape(1, 2, 1)
    cores = [backend.asarray(core * (1e200 if k % 2 else 1e-200)) for k in range(300)]
    x = tt.TTTensor(cores)
    s = np_of(tt.sample(x, 2000, seed=0))
    assert abs(s.mean() - 0.2) < 4 * np.sqrt(0.16 / s.size)
    amp = tt.TTTensor([backend.asarray(np.sqrt(core / 1e-200 * 1e-100)) for _ in range(300)])
    s2 = np_of(tt.sample(amp, 2000, seed=1, squared=True))
    assert abs(s2.mean() - 0.2) < 4 * np.sqrt(0.16 / s2.size)


def test_conditionals_with_negative_weight_warn(backend):
    a = np.random.default_rng(4).random((6, 6, 6)) + 0.05
    exact = tt.tt_svd(backend.asarray(a))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tt.sample(exact, 2000, seed=0)  # non-negative: no warning
    noisy = tt.tt_svd(backend.asarray(a - 0.2 * (a < 0.3)))  # some entries < 0
    assert (np_of(noisy) < 0).any()
    with pytest.warns(tnlib.PrecisionWarning, match="negative conditional weights"):
        s = np_of(tt.sample(noisy, 2000, seed=0))
    assert (np_of(noisy)[tuple(s.T)] > 0).all()  # negative entries were never drawn


def test_bad_input_is_named(backend):
    x = tt.random((3, 4), 2, seed=0, backend=backend)
    with pytest.raises(tnlib.ArgumentError, match="sums to"):
        tt.sample(-(x * x), 10)
    with pytest.raises(tnlib.ArgumentError, match="zero tensor"):
        tt.sample(0.0 * x, 10, squared=True)
    with pytest.raises(tnlib.ArgumentError, match="n must be"):
        tt.sample(x, -1)
    with pytest.raises(tnlib.ArgumentError, match="n must be"):
        tt.sample(x, 2.5)
    with pytest.raises(tnlib.ArgumentError, match="seed"):
        tt.sample(x, 3, seed="a")
    with pytest.raises(tnlib.ArgumentError, match="squared"):
        tt.sample(x, 3, squared="yes")
    with pytest.raises(tnlib.ArgumentError, match="TTTensor"):
        tt.sample(np_of(x), 3)
    empty = tt.sample(x * x, 0)
    assert backend.shape(empty) == (0, 2) and backend.dtype_name(empty).startswith("int")
    cores = [np_of(c).copy() for c in x.cores]
    for bad in (np.nan, np.inf):
        cores[1][0, 0, 0] = bad  # was: indices drawn from NaN weights, or "the zero tensor"
        y = tt.TTTensor([backend.asarray(c) for c in cores])
        for squared in (False, True):
            with pytest.raises(tnlib.ArgumentError, match="sample: x holds NaN or inf"):
                tt.sample(y, 3, squared=squared)


def test_sample_under_jit_matches_eager(backend):
    if not backend.supports_jit:
        pytest.skip(f"{backend.name} runs eagerly: nothing is traced")
    x = tt.random((3, 4, 5), 2, seed=0, backend=backend)
    for squared, z in ((True, x), (False, x * x)):
        jitted = backend.jit(lambda *c, sq=squared: tt.sample(tt.TTTensor(list(c)), 50, seed=5,
                                                              squared=sq))(*z.cores)
        np.testing.assert_array_equal(np_of(jitted),
                                      np_of(tt.sample(z, 50, seed=5, squared=squared)))
