"""Flattening of tensor-network containers into their arrays.

Containers (``TTTensor``, ``CPTensor``, ...) are immutable records of native
arrays. They define ``_tree_flatten() -> (children, aux)`` and the classmethod
``_tree_unflatten(aux, children)``. This module registers them as JAX pytrees
once JAX is in use, and gives the torch and TensorFlow backends the same
flatten/unflatten so their ``grad`` accepts containers too.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

_CONTAINERS: list[type] = []
_JAX_DONE: set[type] = set()


def register_container(cls: type) -> type:
    """Class decorator: make `cls` a pytree for JAX (now if JAX is loaded, else later)."""
    _CONTAINERS.append(cls)
    if "jax" in sys.modules:
        register_with_jax()
    return cls


def register_with_jax() -> None:
    """Register every known container class with ``jax.tree_util`` (idempotent)."""
    import jax

    for cls in _CONTAINERS:
        if cls in _JAX_DONE:
            continue
        jax.tree_util.register_pytree_node(
            cls,
            lambda obj: obj._tree_flatten(),
            lambda aux, children, cls=cls: cls._tree_unflatten(aux, children),
        )
        _JAX_DONE.add(cls)


def is_container(obj: Any) -> bool:
    """True for tnlib tensor-network containers."""
    return hasattr(obj, "_tree_flatten") and hasattr(type(obj), "_tree_unflatten")


def flatten(obj: Any, atom: Callable[[Any], bool] | None = None
            ) -> tuple[list[Any], Callable[[list[Any]], Any]]:
    """Flatten arrays nested in containers, lists, tuples and dicts.

    Returns the leaves and a function that rebuilds the same structure from a
    list of new leaves (e.g. gradients). Objects for which `atom` is true are leaves
    themselves, not opened.
    """
    if atom is not None and atom(obj):
        return [obj], lambda new: new[0]
    if is_container(obj):
        children, aux = obj._tree_flatten()
        leaves, rebuild_children = flatten(list(children), atom)
        cls = type(obj)

        def rebuild(new: list[Any]) -> Any:
            return cls._tree_unflatten(aux, tuple(rebuild_children(new)))

        return leaves, rebuild
    if isinstance(obj, (list, tuple)):
        parts = [flatten(item, atom) for item in obj]
        sizes = [len(p[0]) for p in parts]
        leaves = [leaf for p in parts for leaf in p[0]]
        kind = type(obj)

        def rebuild(new: list[Any]) -> Any:
            out, pos = [], 0
            for (_, sub), size in zip(parts, sizes):
                out.append(sub(new[pos : pos + size]))
                pos += size
            if kind is list:
                return out
            return kind(*out) if hasattr(kind, "_fields") else tuple(out)  # NamedTuples stay

        return leaves, rebuild
    if isinstance(obj, dict):
        keys = list(obj)
        leaves, rebuild_values = flatten([obj[k] for k in keys], atom)
        return leaves, lambda new: dict(zip(keys, rebuild_values(new)))
    return [obj], lambda new: new[0]
