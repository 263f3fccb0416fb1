"""Tensorized neural-network layers for PyTorch, Keras 3 and Flax NNX.

Import the module of your framework: :mod:`tnlib.nn.torch`, :mod:`tnlib.nn.keras`
or :mod:`tnlib.nn.flax`. Importing :mod:`tnlib.nn` itself imports no framework.
"""
