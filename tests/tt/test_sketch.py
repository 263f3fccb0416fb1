"""tt_sketch: one pass, exact on low-rank data, blocks/terms/workers add up, honest estimate."""

from __future__ import annotations

import numpy as np
import pytest

from tnlib import tt
from tnlib.errors import ArgumentError, BackendMismatchError, ShapeError

from ..helpers import assert_like, np_of

SHAPE = (6, 7, 8, 5)


def _low_rank(rank=3, seed=0):
    return tt.random(SHAPE, rank, seed=seed).full()


def _rel(x, a):
    return float(np.linalg.norm(np_of(x) - a) / np.linalg.norm(a))


def test_exact_on_an_exactly_low_rank_tensor(backend):
    a = _low_rank()
    x, info = tt.tt_sketch(backend.asarray(a), 3, seed=1, return_info=True)
    assert_like(x, backend.asarray(a))
    assert x.ranks == (1, 3, 3, 3, 1)
    assert _rel(x, a) < 1e-12
    assert info.passes == 1 and info.bytes_read == a.nbytes
    assert info.error_estimate < 1e-10


@pytest.mark.parametrize("chunks", [(3, 4, 5, 5), (1, 7, 3, 2), (6, 7, 8, 5)])
def test_dask_blocks_give_the_in_memory_sketch(chunks):
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(0)
    a = _low_rank(4) + 0.01 * rng.standard_normal(SHAPE)
    ref = tt.tt_sketch(a, 3, seed=7)
    x, info = tt.tt_sketch(da.from_array(a, chunks=chunks), 3, seed=7, return_info=True)
    assert x.backend.name == "numpy"
    np.testing.assert_allclose(np_of(x), np_of(ref), atol=1e-12 * np.abs(a).max())
    assert info.bytes_read == a.nbytes and info.passes == 1


def test_a_zarr_store_is_read_once_through_dask(tmp_path):
    da = pytest.importorskip("dask.array")
    zarr = pytest.importorskip("zarr")
    a = _low_rank()
    z = zarr.open(str(tmp_path / "a.zarr"), mode="w", shape=SHAPE, chunks=(2, 7, 4, 5),
                  dtype="f8")
    z[...] = a
    x, info = tt.tt_sketch(da.from_zarr(str(tmp_path / "a.zarr")), 3, seed=1,
                           return_info=True)
    assert _rel(x, a) < 1e-12
    assert info.bytes_read == a.nbytes


def test_a_sum_of_terms_is_sketched_term_by_term():
    da = pytest.importorskip("dask.array")
    a, b = _low_rank(2, 0), _low_rank(1, 1)
    x = tt.tt_sketch([a, da.from_array(b, chunks=(3, 7, 4, 5)), -0.5 * a], 3, seed=2)
    assert _rel(x, 0.5 * a + b) < 1e-12


def test_the_held_out_estimate_tracks_the_true_error():
    rng = np.random.default_rng(0)
    a = _low_rank(4)
    for seed, noise in enumerate([1e-4, 1e-3, 1e-2, 5e-2]):
        b = a + noise * np.linalg.norm(a) / np.sqrt(a.size) * rng.standard_normal(SHAPE)
        x, info = tt.tt_sketch(b, 3, seed=seed, return_info=True)
        true = _rel(x, b)
        assert true / 2 <= info.error_estimate <= 2 * true, (noise, true, info.error_estimate)
        assert 0.5 < info.norm_estimate / np.linalg.norm(b) < 2


def test_oversampling_controls_the_right_sketch_size():
    a = _low_rank()
    _, info = tt.tt_sketch(a, 2, oversample=3, seed=0, return_info=True)
    assert info.sketch_ranks == (1, 5, 5, 5, 1)
    _, info = tt.tt_sketch(a, 2, seed=0, return_info=True)
    assert info.sketch_ranks == (1, 4, 4, 4, 1)


def test_on_a_dask_cluster_the_workers_add_up():
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    a = _low_rank()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        x = tt.tt_sketch(da.from_array(a, chunks=(2, 7, 4, 5)), 3, seed=1)
    assert _rel(x, a) < 1e-12


def test_bad_input_names_the_argument():
    a = _low_rank()
    with pytest.raises(ArgumentError, match="ranks"):
        tt.tt_sketch(a, 0)
    with pytest.raises(ArgumentError, match="ranks"):
        tt.tt_sketch(a, [2, 2])
    with pytest.raises(ArgumentError, match="oversample"):
        tt.tt_sketch(a, 2, oversample=-1)
    with pytest.raises(ShapeError, match="one shape"):
        tt.tt_sketch([a, a[:3]], 2)
    with pytest.raises(ShapeError, match="2 axes"):
        tt.tt_sketch(np.ones(5), 1)
    with pytest.raises(ArgumentError, match="NaN"):
        b = a.copy()
        b[1, 2, 3, 4] = np.nan
        tt.tt_sketch(b, 2)
    with pytest.raises(ArgumentError, match="array"):
        tt.tt_sketch("data", 2)
    torch = pytest.importorskip("torch")
    x = tt.random(SHAPE, 2, seed=0)
    with pytest.raises(BackendMismatchError):
        tt.tt_sketch([x, tt.random(SHAPE, 2, seed=0, backend="torch")], 2)
    with pytest.raises(BackendMismatchError):
        tt.tt_sketch([torch.ones(SHAPE, dtype=torch.float64), x], 2)
    with pytest.raises(ShapeError, match="2 axes"):
        tt.tt_sketch(tt.random((5,), 1, seed=0), 1)
    with pytest.raises(ArgumentError, match="NaN"):
        tt.tt_sketch(tt.TTTensor([c * np.nan for c in x.cores]), 2)
    da = pytest.importorskip("dask.array")
    unknown = da.from_array(a, chunks=(3, 7, 8, 5))
    unknown = unknown[unknown[:, 0, 0, 0] > -np.inf]  # boolean indexing: unknown chunk sizes
    with pytest.raises(ShapeError, match="unknown chunk sizes"):
        tt.tt_sketch(unknown, 2)


def test_trains_are_sketched_from_their_cores_as_their_dense_tensors_are(backend):
    """A TTTensor term (was an ArgumentError) gives the sketch of its dense tensor, from
    its cores; a sum of trains and arrays (complex too) that of the dense sum; the bytes
    read are the cores'."""
    x = tt.random(SHAPE, 3, seed=0, backend=backend)
    y, info = tt.tt_sketch(x, 3, seed=1, return_info=True)
    ref = tt.tt_sketch(x.full(), 3, seed=1)
    assert_like(y, x)
    assert y.ranks == ref.ranks == (1, 3, 3, 3, 1)
    assert _rel(y, np_of(ref)) < 1e-12 and _rel(y, np_of(x)) < 1e-12
    assert info.bytes_read == sum(np_of(c).nbytes for c in x.cores)
    assert info.error_estimate < 1e-10
    z = tt.random(SHAPE, 2, seed=2, dtype="complex128", backend=backend)
    w = tt.random(SHAPE, 2, seed=3, dtype="complex128", backend=backend)
    dense = np_of(z) - 0.5 * np_of(w)
    terms = [z, backend.asarray(-0.5 * np_of(w))]
    mixed = tt.tt_sketch(terms, 4, seed=5)
    assert_like(mixed, z)
    assert _rel(mixed, np_of(tt.tt_sketch(backend.asarray(dense), 4, seed=5))) < 1e-12
    assert _rel(mixed, dense) < 1e-12


def test_a_sum_of_many_trains_recompressed_by_sketching_meets_its_estimate():
    """20 trains of rank 8, whose sum has rank 12 up to 1e-6 noise (summed ranks 160): the
    sketch at ranks 16 recovers it without rounding's QR of the 160-rank sum, its error
    within 3x of the held-out estimate and below 1e-4."""
    shape = (10,) * 8
    base = [tt.random(shape, 4, seed=100 + s) for s in range(3)]
    rng = np.random.default_rng(0)
    terms = [float(rng.standard_normal()) * base[i % 3] + 1e-6 * tt.random(shape, 4, seed=i)
             for i in range(20)]
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    assert max(total.ranks) == 160
    x, info = tt.tt_sketch(terms, 16, seed=0, return_info=True)
    err = float(np_of((x - total).norm()) / np_of(total.norm()))
    assert err < 1e-4
    assert info.error_estimate / 3 <= err <= 3 * info.error_estimate


def test_data_near_the_float_limits_is_sketched_at_unit_scale(backend):
    """Dense data at 1e±300 and subnormal 1e-310 (the sketch of 1e-310 data was NaN, the
    error estimate of 1e300 data NaN and of 1e-300 data 0): the same relative accuracy,
    an estimate that tracks it, the norm estimate at the data's scale."""
    a = _low_rank()
    ref = np.linalg.norm(a)
    for scale in (1e300, 1e-300, 1e-310):
        x, info = tt.tt_sketch(backend.asarray(scale * a), 3, seed=1, return_info=True)
        err = float(np.linalg.norm(np_of(x) / scale - a) / ref)
        assert err < (1e-12 if scale != 1e-310 else 1e-10)
        assert info.error_estimate < 10 * max(err, 1e-15)
        assert abs(info.norm_estimate / scale / ref - 1) < 0.5
