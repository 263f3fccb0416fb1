"""Past one machine: evaluation on executors, and data streamed block by block (Dask, zarr).

Nothing here imports Dask at import time; the helpers take whatever array or
executor they are given and import Dask only to read a ``dask.array.Array``.
"""
