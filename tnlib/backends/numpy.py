"""The NumPy backend: the reference implementation of the contract."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._numpylike import NumpyLikeBackend


class NumpyBackend(NumpyLikeBackend):
    """NumPy arrays on the host. No autodiff, no jit."""

    name = "numpy"
    free_reads = True
    _oe_backend = "numpy"
    np = np
    la = np.linalg

    def __init__(self) -> None:
        self.version = np.__version__

    def devices(self) -> list[str]:
        """Devices this backend can place arrays on."""
        return ["cpu"]

    def _svd_last_resort(self, a: Any, vectors: bool) -> Any:
        # the one-sided Householder + QR iteration SVD (gesvd), slower, converges where
        # gesdd does not; SciPy has it, NumPy does not
        try:
            from scipy.linalg import LinAlgError, svd
        except ImportError:
            return super()._svd_last_resort(a, vectors)
        try:
            if a.ndim == 2:
                return svd(a, full_matrices=False, compute_uv=vectors, lapack_driver="gesvd",
                           check_finite=False)
            parts = [self._svd_last_resort(m, vectors) for m in a.reshape(-1, *a.shape[-2:])]
        except LinAlgError:
            return super()._svd_last_resort(a, vectors)
        if not vectors:
            return np.stack(parts).reshape(*a.shape[:-2], -1)
        return tuple(np.stack(p).reshape(*a.shape[:-2], *p[0].shape) for p in zip(*parts))

    def asarray(self, data: Any, dtype: Any = None, device: Any = None) -> Any:
        if not isinstance(data, (np.ndarray, np.generic, int, float, complex, bool, list, tuple)):
            data = _foreign_to_numpy(data)
        return np.asarray(data, dtype=None if dtype is None else self.resolve_dtype(dtype))

    def to_numpy(self, a: Any) -> np.ndarray:
        return np.asarray(a)

    def is_array(self, a: Any) -> bool:
        return isinstance(a, np.ndarray)

    def device(self, a: Any) -> str:
        return "cpu"

    def item(self, a: Any) -> Any:
        return np.asarray(a).item()

    def qr(self, a: Any, mode: str = "reduced", signs: bool = True) -> Any:
        # signs are always fixed here: in place, on the host, for next to nothing
        # numpy.linalg.qr is 1.4-2x slower than calling LAPACK's geqrf/orgqr directly
        # (measured on 1200 x 120 and 10^5 x 80 matrices); use SciPy's wrappers when present.
        funcs = _lapack_qr(a)
        if funcs is None:
            return super().qr(a, mode)
        geqrf, orgqr = funcs
        k = min(a.shape)
        # SciPy's default workspace is the minimal one, which forces LAPACK's
        # unblocked algorithm (2.5x slower on 1000 x 1000); give room for blocks of 64.
        packed, tau, _, info = geqrf(a, lwork=max(1, 64 * a.shape[1]))
        if info != 0:  # pragma: no cover - LAPACK argument error
            return super().qr(a, mode)
        r = np.triu(packed[:k, :])
        if mode == "r":
            return self._fix_r(r)
        q, _, info = orgqr(packed[:, :k], tau, lwork=max(1, 64 * k))
        s = self._diag_phase(r)
        q *= s[None, :]  # LAPACK's fresh output: fix the signs in place
        return q, np.conj(s)[:, None] * r

    def lstsq(self, a: Any, b: Any) -> Any:
        return np.linalg.lstsq(a, b, rcond=None)[0]

    def solve_triangular(self, a: Any, b: Any, lower: bool = False) -> Any:
        try:  # SciPy's trsm when it is installed; it is not a dependency
            from scipy.linalg import solve_triangular
        except ImportError:  # pragma: no cover - a general solve is correct, only slower
            return np.linalg.solve(a, b)
        return solve_triangular(a, b, lower=lower, check_finite=False)

    def pinv(self, a: Any) -> Any:
        return np.linalg.pinv(a)

    def segment_sum(self, data: Any, segment_ids: Any, num_segments: int) -> Any:
        # np.add.at is unbuffered and ~20x slower than a sparse one-hot product,
        # which SciPy (when installed; not a dependency) does in one O(N) pass
        try:
            from scipy import sparse
        except ImportError:  # pragma: no cover - correct, only slower
            return super().segment_sum(data, segment_ids, num_segments)
        n = data.shape[0]
        onehot = sparse.csr_matrix(
            (np.ones(n, dtype=data.dtype), (np.asarray(segment_ids), np.arange(n))),
            shape=(num_segments, n))
        out = onehot @ data.reshape(n, -1)
        return np.asarray(out).reshape((num_segments,) + data.shape[1:])


_QR_FUNCS: dict = {}


def _lapack_qr(a: Any) -> tuple | None:
    """SciPy's (geqrf, orgqr/ungqr) for a 2-D float array, or None."""
    if not isinstance(a, np.ndarray) or a.ndim != 2 or a.size == 0 or a.dtype.char not in "fdFD":
        return None
    key = a.dtype.char
    if key not in _QR_FUNCS:
        try:
            from scipy.linalg import lapack
        except ImportError:  # pragma: no cover - SciPy is optional
            _QR_FUNCS[key] = None
        else:
            q_name = "ungqr" if key in "FD" else "orgqr"
            _QR_FUNCS[key] = lapack.get_lapack_funcs(("geqrf", q_name), (a,))
    return _QR_FUNCS[key]


def _foreign_to_numpy(data: Any) -> Any:
    """NumPy copy of an array from another framework (through its backend)."""
    from ._dispatch import backend_of

    xp = backend_of(data)
    return xp.to_numpy(data) if xp.is_array(data) else data
