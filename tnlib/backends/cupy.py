"""The CuPy backend: NumPy's API on an NVIDIA GPU."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import BackendError
from ._numpylike import NumpyLikeBackend


class CupyBackend(NumpyLikeBackend):
    """CuPy arrays on a CUDA device. No autodiff, no jit."""

    name = "cupy"
    _oe_backend = "cupy"

    def __init__(self) -> None:
        import cupy
        import cupyx.scipy.linalg

        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # noqa: BLE001 - any CUDA failure means "no device"
            raise BackendError(
                f"backend 'cupy' is installed but found no CUDA device: {exc}"
            ) from exc
        if count == 0:
            raise BackendError("backend 'cupy' is installed but found no CUDA device")
        self.cupy = self.np = cupy
        self.la = cupy.linalg
        self._scipy_linalg = cupyx.scipy.linalg
        self.version = cupy.__version__

    def devices(self) -> list[str]:
        return [f"cuda:{i}" for i in range(self.cupy.cuda.runtime.getDeviceCount())]

    def _on(self, a: Any, device: Any) -> Any:
        if device is None:
            return a
        with self.cupy.cuda.Device(_device_id(device)):
            return self.cupy.asarray(a)

    def asarray(self, data: Any, dtype: Any = None, device: Any = None) -> Any:
        if not isinstance(data, (self.cupy.ndarray, np.ndarray, np.generic, int, float, complex,
                                 bool, list, tuple)):
            from ._dispatch import backend_of

            data = backend_of(data).to_numpy(data)
        dt = None if dtype is None else self.resolve_dtype(dtype)
        if device is None:
            return self.cupy.asarray(data, dtype=dt)
        with self.cupy.cuda.Device(_device_id(device)):
            return self.cupy.asarray(data, dtype=dt)

    def to_numpy(self, a: Any) -> np.ndarray:
        return self.cupy.asnumpy(a)

    def synchronize(self, a: Any) -> Any:
        if isinstance(a, self.cupy.ndarray):
            with a.device:
                self.cupy.cuda.get_current_stream().synchronize()
        return a

    def is_array(self, a: Any) -> bool:
        return isinstance(a, self.cupy.ndarray)

    def device(self, a: Any) -> str:
        return f"cuda:{a.device.id}"

    def lstsq(self, a: Any, b: Any) -> Any:
        return self.la.lstsq(a, b, rcond=None)[0]

    def solve_triangular(self, a: Any, b: Any, lower: bool = False) -> Any:
        return self._scipy_linalg.solve_triangular(a, b, lower=lower)

    def pinv(self, a: Any) -> Any:
        return self.la.pinv(a)

    def argsort(self, a: Any, axis: int = -1) -> Any:
        return self.cupy.argsort(a, axis=axis)  # CuPy's sort is always stable


def _device_id(device: Any) -> int:
    if isinstance(device, int):
        return device
    text = str(device)
    return int(text.split(":")[1]) if ":" in text else 0
