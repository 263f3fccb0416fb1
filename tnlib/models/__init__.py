"""Estimators built on the tensor formats (scikit-learn API); imports scikit-learn."""

from .expm import ExponentialMachine

__all__ = ["ExponentialMachine"]
