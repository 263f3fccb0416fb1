"""Which backend runs a call: arrays decide; the default only where no array does.

Order for a function with no array input: its ``backend=`` argument, the
innermost :func:`use_backend` context (a ``contextvars`` variable, so threads
and async tasks don't see each other's), :func:`set_backend`, the
``TNLIB_BACKEND`` environment variable, then ``"numpy"``.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import importlib.util
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._pytree import is_container
from ..errors import ArgumentError, BackendError, BackendMismatchError
from ._base import Backend

__all__ = [
    "BACKEND_NAMES",
    "available_backends",
    "backend_of",
    "get",
    "get_backend",
    "resolve",
    "set_backend",
    "tensor",
    "to_numpy",
    "use_backend",
]

#: every backend tnlib knows, in the order :func:`available_backends` reports them
BACKEND_NAMES = ("numpy", "torch", "tensorflow", "jax", "cupy")

_MODULES = {
    "numpy": ("numpy", "NumpyBackend", "numpy"),
    "torch": ("torch", "TorchBackend", "torch"),
    "tensorflow": ("tensorflow", "TensorflowBackend", "tensorflow"),
    "jax": ("jax", "JaxBackend", "jax"),
    "cupy": ("cupy", "CupyBackend", "cupy"),
}
# framework module prefixes used to recognize array types, by backend
_PREFIXES = {
    "torch": ("torch",),
    "tensorflow": ("tensorflow", "keras"),
    "jax": ("jax", "jaxlib"),
    "cupy": ("cupy",),
}

_INSTANCES: dict[str, Backend] = {}
_LOCK = threading.Lock()
_TYPE_CACHE: dict[type, str | None] = {}
_CONTEXT: contextvars.ContextVar[str | None] = contextvars.ContextVar("tnlib_backend", default=None)
_GLOBAL: list[str | None] = [None]


def get(name: str | Backend) -> Backend:
    """The backend called `name`, importing its framework on first use.

    Raises
    ------
    BackendError
        For an unknown name (the message lists the valid ones), a framework that
        is not installed (the message names the pip extra), or CuPy without a GPU.
    """
    if isinstance(name, Backend):
        return name
    inst = _INSTANCES.get(name)
    if inst is not None:
        return inst
    if name not in _MODULES:
        valid = ", ".join(repr(n) for n in BACKEND_NAMES)
        raise BackendError(f"unknown backend {name!r}; expected one of {valid}")
    module, cls_name, extra = _MODULES[name]
    with _LOCK:
        if name in _INSTANCES:
            return _INSTANCES[name]
        if importlib.util.find_spec(module) is None:
            raise BackendError(
                f"backend {name!r} is not available: {module} is not installed; "
                f"install it with `pip install tnlib[{extra}]`"
            )
        try:
            mod = importlib.import_module(f"tnlib.backends.{name}")
            inst = getattr(mod, cls_name)()
        except BackendError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken framework must not break others
            raise BackendError(
                f"backend {name!r} is installed but failed to load ({type(exc).__name__}: "
                f"{exc}); reinstall it with `pip install tnlib[{extra}]`"
            ) from exc
        _INSTANCES[name] = inst
        return inst


def available_backends() -> list[str]:
    """Names of the backends usable on this machine, in the order of :data:`BACKEND_NAMES`.

    Imports each installed framework to check that it loads (and, for CuPy,
    that a GPU is present).

    Examples
    --------
    >>> import tnlib
    >>> "numpy" in tnlib.available_backends()
    True
    """
    out = []
    for name in BACKEND_NAMES:
        try:
            get(name)
        except BackendError:
            continue
        out.append(name)
    return out


def _default_name() -> str:
    return _CONTEXT.get() or _GLOBAL[0] or os.environ.get("TNLIB_BACKEND") or "numpy"


def get_backend() -> Backend:
    """The active default backend (used only where no input array decides).

    Examples
    --------
    >>> import tnlib
    >>> tnlib.get_backend().name
    'numpy'
    """
    return get(_default_name())


def set_backend(name: str | Backend) -> None:
    """Set the process-wide default backend for functions with no array input.

    Parameters
    ----------
    name : {"numpy", "torch", "tensorflow", "jax", "cupy"} or Backend

    Examples
    --------
    >>> import tnlib
    >>> tnlib.set_backend("numpy")
    """
    _GLOBAL[0] = get(name).name


@contextlib.contextmanager
def use_backend(name: str | Backend) -> Iterator[Backend]:
    """Context manager: the default backend inside the ``with`` block.

    The setting is context-local: other threads and asyncio tasks keep theirs.

    Examples
    --------
    >>> import tnlib
    >>> with tnlib.use_backend("numpy") as xp:
    ...     xp.name
    'numpy'
    """
    backend = get(name)
    token = _CONTEXT.set(backend.name)
    try:
        yield backend
    finally:
        _CONTEXT.reset(token)


def resolve(backend: str | Backend | None) -> Backend:
    """A function's ``backend=`` argument as a :class:`Backend` (None: the default)."""
    return get_backend() if backend is None else get(backend)


def _type_backend(tp: type) -> str | None:
    try:
        return _TYPE_CACHE[tp]
    except KeyError:
        pass
    found = None
    if issubclass(tp, np.ndarray):
        found = "numpy"
    else:
        modules = tuple(getattr(c, "__module__", "") or "" for c in tp.__mro__)
        for name, prefixes in _PREFIXES.items():
            if any(p in sys.modules for p in prefixes) and any(
                m == p or m.startswith(p + ".") for m in modules for p in prefixes
            ):
                found = name
                break
        if found == "tensorflow" and not _is_tf_array_type(tp):
            found = None
    _TYPE_CACHE[tp] = found
    return found


def _is_tf_array_type(tp: type) -> bool:
    tf = sys.modules.get("tensorflow")
    return tf is not None and issubclass(tp, (tf.Tensor, tf.Variable))


def _name_of(obj: Any) -> tuple[str | None, Any]:
    """Backend name of one object and the object that decided it."""
    if is_container(obj):
        return obj.backend.name, obj
    if isinstance(obj, (list, tuple)):
        kinds = {type(item) for item in obj}
        if len(kinds) == 1:  # a train's cores: one array type decides without a search
            name = _type_backend(next(iter(kinds)))
            if name is not None:
                return name, obj[0]
        found, who = None, None
        for item in obj:
            name, w = _name_of(item)
            if name is not None:
                if found is not None and name != found:
                    _mismatch(who, w)
                found, who = name, w
        return found, who
    return _type_backend(type(obj)), obj


def _mismatch(a: Any, b: Any) -> None:
    raise BackendMismatchError(
        f"arrays of different backends in one call: {type(a).__module__}.{type(a).__name__} "
        f"and {type(b).__module__}.{type(b).__name__}; convert one with tnlib.tensor(x, "
        f"backend=...)"
    )


def backend_of(*objs: Any) -> Backend:
    """The backend of arrays or tensor-network objects.

    Python scalars, NumPy scalars and ``None`` don't count; lists and tuples are
    searched. With no array at all, the default backend is returned.

    Raises
    ------
    BackendMismatchError
        If the arrays belong to two different backends (naming both types).

    Examples
    --------
    >>> import numpy as np, tnlib
    >>> tnlib.backend_of(np.ones(3), 2.0).name
    'numpy'
    """
    name, who = _name_of(objs)
    if name is None:
        return get_backend()
    inst = _INSTANCES.get(name)
    return inst if inst is not None else get(name)


def tensor(data: Any, dtype: Any = None, device: Any = None,
           backend: str | Backend | None = None) -> Any:
    """A native array of `backend` (default: the active default backend).

    Parameters
    ----------
    data : array_like
        Nested lists, scalars, NumPy arrays or arrays of any backend.
    dtype : str or framework dtype, optional
        ``None`` keeps the data's dtype (integer index arrays stay integer,
        Python floats become float64).
    device : optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``... or a framework device object. A device the
        backend lacks is a :class:`~tnlib.errors.BackendError`; so is an explicit dtype
        the backend would replace (float64 on JAX without ``jax_enable_x64``).
    backend : str or Backend, optional

    Examples
    --------
    >>> import tnlib
    >>> a = tnlib.tensor([[1.0, 2.0], [3.0, 4.0]], backend="numpy")
    >>> a.dtype
    dtype('float64')
    """
    xp = resolve(backend)
    dtype, device = xp.placement(dtype, device, "tensor", floating=False)
    try:
        return xp.asarray(data, dtype=dtype, device=device)
    except (TypeError, ValueError) as exc:  # ragged lists, strings, objects
        raise ArgumentError(f"tensor: data of type {type(data).__name__} cannot become a "
                            f"{xp.name} array ({exc})") from None


def to_numpy(a: Any) -> np.ndarray:
    """A NumPy copy of a native array of any backend (or of a scalar result).

    Examples
    --------
    >>> import numpy as np, tnlib
    >>> tnlib.to_numpy(np.float64(2.0))
    array(2.)
    """
    name = _type_backend(type(a))
    if name is None:
        if is_container(a):  # np.asarray would wrap it in a 0-d object array
            raise ArgumentError(f"to_numpy: a is a {type(a).__name__}, not an array; take "
                                "tnlib.to_numpy(a.full()) for its dense values")
        return np.asarray(a)
    return get(name).to_numpy(a)
