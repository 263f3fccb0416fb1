"""tt_svd and hosvd of Dask arrays: two passes, the in-memory result, the eps bound."""

from __future__ import annotations

import contextlib
import os
import time
import warnings

import numpy as np
import pytest

from tnlib import tt, tucker
from tnlib.errors import ArgumentError, ExecutionError, ShapeError

da = pytest.importorskip("dask.array")


class CountingSource:
    """An array-like that counts the chunk reads Dask makes."""

    def __init__(self, a):
        self.a, self.reads = a, 0
        self.shape, self.dtype, self.ndim = a.shape, a.dtype, a.ndim

    def __getitem__(self, key):
        out = self.a[key]
        self.reads += out.size > 0  # Dask peeks at an empty slice for metadata
        return out


def _hilbert(n=10, d=5):
    i = np.arange(float(n))
    return 1.0 / (1.0 + sum(np.ix_(*[i] * d)))


def _exact(seed=0):
    return tt.random((6, 7, 5, 8, 4), 3, seed=seed).full()


@pytest.mark.parametrize("gram_limit", [4096, 40, 1])
def test_tt_svd_of_a_dask_array_equals_the_in_memory_one(gram_limit):
    a = _exact()
    ref = tt.tt_svd(a, eps=1e-6)
    x, info = tt.tt_svd(da.from_array(a, chunks=(2, 7, 3, 8, 2)), eps=1e-6,
                        return_info=True, gram_limit=gram_limit)
    assert x.ranks == ref.ranks == (1, 3, 3, 3, 3, 1)
    assert np.linalg.norm(x.full() - ref.full()) <= 1e-10 * np.linalg.norm(a)
    passes = 1 if gram_limit == 1 else 2  # no end fits a limit of 1: read whole, once
    assert info.passes == passes and info.bytes_read == passes * a.nbytes


def test_tt_svd_of_a_zarr_store_equals_the_in_memory_one(tmp_path):
    zarr = pytest.importorskip("zarr")
    a = _exact(4) + 1e-4 * _hilbert(8, 5)[:6, :7, :5, :8, :4]
    z = zarr.open(str(tmp_path / "a.zarr"), mode="w", shape=a.shape, chunks=(6, 7, 2, 3, 4),
                  dtype="f8")
    z[...] = a
    for eps in (1e-3, 1e-9):
        ref = tt.tt_svd(a, eps=eps)
        x, info = tt.tt_svd(da.from_zarr(str(tmp_path / "a.zarr")), eps=eps, return_info=True)
        assert x.ranks == ref.ranks and info.passes == 2
        assert np.linalg.norm(x.full() - ref.full()) <= 1e-10 * np.linalg.norm(a)


@pytest.mark.parametrize("chunks", [(3, 4, 5, 2, 7), (1, 10, 10, 10, 1), (7, 3, 9, 4, 2)])
def test_the_eps_bound_holds_across_chunkings_that_split_every_mode(chunks):
    a = _hilbert()
    for eps in (1e-3, 1e-6):
        x, info = tt.tt_svd(da.from_array(a, chunks=chunks), eps=eps, return_info=True,
                            gram_limit=50)
        err = np.linalg.norm(x.full() - a) / np.linalg.norm(a)
        assert err <= eps
        assert err == pytest.approx(info.error_estimate, rel=0.05)
        assert max(x.ranks) <= max(tt.tt_svd(a, eps=eps).ranks) + 1


def test_each_chunk_is_read_exactly_twice():
    a = _hilbert(8, 4)
    src = CountingSource(a)
    arr = da.from_array(src, chunks=(4, 8, 3, 8), asarray=True)
    n_chunks = int(np.prod(arr.numblocks))
    x = tt.tt_svd(arr, eps=1e-6)
    assert src.reads == 2 * n_chunks
    src.reads = 0
    tucker.hosvd(arr, eps=1e-6)
    assert src.reads == 2 * n_chunks
    assert np.linalg.norm(x.full() - a) <= 1e-6 * np.linalg.norm(a)


def test_hosvd_of_a_dask_array_meets_the_bound_and_matches_in_memory(tmp_path):
    zarr = pytest.importorskip("zarr")
    a = _hilbert(12, 3) + 1e-3 * np.sin(np.arange(12.0 ** 3)).reshape(12, 12, 12)
    z = zarr.open(str(tmp_path / "a.zarr"), mode="w", shape=a.shape, chunks=(5, 12, 7),
                  dtype="f8")
    z[...] = a
    for eps in (1e-2, 1e-5):
        x, info = tucker.hosvd(da.from_zarr(str(tmp_path / "a.zarr")), eps=eps,
                               return_info=True)
        err = np.linalg.norm(x.full() - a) / np.linalg.norm(a)
        assert err <= eps and info.passes == 2
    x = tucker.hosvd(da.from_zarr(str(tmp_path / "a.zarr")), ranks=(4, 5, 6))
    ref = tucker.hosvd(a, ranks=(4, 5, 6))
    assert x.ranks == (4, 5, 6)
    assert abs(np.linalg.norm(x.full() - a) - np.linalg.norm(ref.full() - a)) <= \
        0.05 * np.linalg.norm(ref.full() - a)


def _graded(seed=0, shape=(10, 9, 8, 9, 10), floor=1e-12):
    """Six rank-1 terms of weights 1 down to `floor`: every unfolding has rank 6."""
    rng = np.random.default_rng(seed)
    out = np.zeros(shape)
    for w in np.geomspace(1.0, floor, 6):
        out += w * tt.random(shape, 1, seed=int(rng.integers(1 << 30))).full()
    return out


def test_tsqr_reaches_accuracies_the_grams_cannot():
    a = _graded()
    arr = da.from_array(a, chunks=(10, 9, 3, 9, 10))
    nrm = np.linalg.norm(a)
    for eps in (1e-9, 1e-11):
        ref = tt.tt_svd(a, eps=eps)
        x, info = tt.tt_svd(arr, eps=eps, return_info=True)
        err = np.linalg.norm(x.full() - a) / nrm
        assert info.method == "tsqr" and info.passes == 2
        assert err <= eps and x.ranks == ref.ranks
        assert err <= info.error_estimate * (1 + 1e-6) <= 2 * err  # an upper bound
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = tt.tt_svd(arr, eps=1e-11, method="gram")
    assert np.linalg.norm(g.full() - a) / nrm > 1e-11  # squared singular values are lost


@pytest.mark.parametrize("method", ["gram", "tsqr"])
def test_complex_and_extreme_scale_data_decompose_as_in_memory(method):
    a = _exact(2)
    c = a + 1j * _exact(3)
    x = tt.tt_svd(da.from_array(c, chunks=(3, 7, 5, 4, 2)), eps=1e-6, method=method)
    assert np.linalg.norm(x.full() - c) <= 1e-9 * np.linalg.norm(c)
    for scale in (1e-200, 1e200):
        b = _hilbert(8, 4) * scale
        x, info = tt.tt_svd(da.from_array(b, chunks=(8, 3, 3, 8)), eps=1e-5, method=method,
                            return_info=True)
        err = np.linalg.norm((x.full() - b) / scale) / np.linalg.norm(b / scale)
        assert err <= 1e-5 and info.norm == pytest.approx(np.linalg.norm(b / scale) * scale)
    # float32's safe range is narrower: Grams of 1e30 data overflow it ("holds NaN or inf")
    b = (_hilbert(8, 4) * 1e30).astype(np.float32)
    x = tt.tt_svd(da.from_array(b, chunks=(8, 3, 3, 8)), eps=1e-3, method=method)
    assert x.cores[0].dtype == np.float32
    assert np.linalg.norm(x.full() / 1e30 - b / 1e30) <= 1e-3 * np.linalg.norm(b / 1e30)
    z = tt.tt_svd(da.from_array(np.zeros((4, 5, 6)), chunks=2), eps=1e-6, method=method)
    assert z.ranks == (1, 1, 1, 1) and not np.any(z.full())


def test_on_a_dask_cluster():
    distributed = pytest.importorskip("distributed")
    a = _exact(1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        x = tt.tt_svd(da.from_array(a, chunks=(3, 7, 5, 4, 4)), eps=1e-6)
        t = tucker.hosvd(da.from_array(a, chunks=(3, 7, 5, 4, 4)), eps=1e-6)
    assert np.linalg.norm(x.full() - a) <= 1e-10 * np.linalg.norm(a)
    assert np.linalg.norm(t.full() - a) <= 1e-10 * np.linalg.norm(a)


def test_in_memory_calls_report_one_pass_and_the_true_error():
    a = _hilbert(8, 4)
    x, info = tt.tt_svd(a, eps=1e-4, return_info=True)
    assert info.passes == 1 and info.bytes_read == a.nbytes
    assert info.error_estimate == pytest.approx(
        np.linalg.norm(x.full() - a) / np.linalg.norm(a), rel=1e-6)


def test_bad_dask_input_is_refused():
    a = _hilbert(6, 3)
    arr = da.from_array(a, chunks=3)
    unknown = arr[arr[:, 0, 0] > -1]
    with pytest.raises(ShapeError, match="unknown chunk sizes"):
        tt.tt_svd(unknown, eps=1e-6)
    with pytest.raises(ArgumentError, match="dtype"):
        tt.tt_svd(da.from_array(np.ones((4, 4), dtype=int), chunks=2))
    with pytest.raises(ArgumentError, match="gram_limit"):
        tt.tt_svd(arr, gram_limit=0)
    with pytest.raises(ArgumentError, match="method"):
        tt.tt_svd(arr, method="qr")
    with pytest.raises(ArgumentError, match="method"):
        tt.tt_svd(a, method="qr")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tt.tt_svd(arr, eps=1e-12, method="gram")
    assert any("Gram" in str(w.message) for w in caught)


def _loader(block_info=None, marker=None, die=None):
    """Blocks of ``_hilbert(12, 4)``; the first block kills its worker process once or always."""
    loc = block_info[None]["array-location"]
    if die and all(start == 0 for start, _ in loc):
        if die == "always":
            os._exit(1)
        with contextlib.suppress(FileExistsError), open(marker, "x"):
            os._exit(1)  # the first attempt only: the marker exists afterwards
    axes = [np.arange(a, b, dtype=float) for a, b in loc]
    return 1.0 / (1.0 + sum(np.ix_(*axes)))


def _loaded(**kwargs):
    return da.map_blocks(_loader, chunks=((6, 6),) * 4, dtype=float,
                         meta=np.empty((0,) * 4), **kwargs)


def _cluster(distributed, **kwargs):
    return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                    dashboard_address=None, **kwargs)


def test_a_worker_killed_mid_decomposition_is_replaced_and_the_result_is_right(tmp_path):
    distributed = pytest.importorskip("distributed")
    a = _hilbert(12, 4)
    with _cluster(distributed) as cluster, distributed.Client(cluster):
        x = tt.tt_svd(_loaded(marker=str(tmp_path / "died"), die="once"), eps=1e-8)
    assert (tmp_path / "died").exists()  # a worker did die
    assert np.linalg.norm(x.full() - a) <= 1e-8 * np.linalg.norm(a)


def test_workers_that_keep_dying_or_none_left_raise_instead_of_hanging():
    distributed = pytest.importorskip("distributed")
    dask = pytest.importorskip("dask")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with _cluster(distributed) as cluster, distributed.Client(cluster):
            with pytest.raises(ExecutionError, match="workers died"):
                tt.tt_svd(_loaded(die="always"), eps=1e-6)
    with dask.config.set({"tnlib.no-workers-timeout": 1}), \
            distributed.LocalCluster(n_workers=0, dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        start = time.monotonic()
        with pytest.raises(ExecutionError, match="no workers"):
            tucker.hosvd(da.from_array(_hilbert(6, 3), chunks=3), eps=1e-6)
        assert time.monotonic() - start < 30


def test_non_finite_dask_data_is_refused():
    a = _hilbert(6, 3)
    a[2, 3, 4] = np.nan
    with pytest.raises(ArgumentError, match="^tt_svd: the dask array holds NaN or inf"):
        tt.tt_svd(da.from_array(a, chunks=3), eps=1e-6)
    with pytest.raises(ArgumentError, match="^hosvd: the dask array holds NaN or inf"):
        tucker.hosvd(da.from_array(a, chunks=3), eps=1e-6)
