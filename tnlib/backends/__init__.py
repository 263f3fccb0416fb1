"""Backends: the array contract and its five implementations."""

from ._base import DTYPE_NAMES, Backend
from ._dispatch import (
    BACKEND_NAMES,
    available_backends,
    backend_of,
    get,
    get_backend,
    resolve,
    set_backend,
    tensor,
    to_numpy,
    use_backend,
)
from ._host import host_execution

__all__ = [
    "BACKEND_NAMES",
    "DTYPE_NAMES",
    "Backend",
    "available_backends",
    "backend_of",
    "get",
    "get_backend",
    "host_execution",
    "resolve",
    "set_backend",
    "tensor",
    "to_numpy",
    "use_backend",
]
