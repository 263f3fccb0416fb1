"""The guided tour printed by ``python -m tnlib demo``; it grows with the library."""

from __future__ import annotations


def run(backends: list[str]) -> None:
    """Print the tour's sections for the usable `backends`."""
    print("\n(more of the tour arrives with the tensor formats)")
