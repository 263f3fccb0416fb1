"""The PyTorch backend: CPU and CUDA tensors, autograd through every contract method."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import _pytree
from ._base import Backend

_NAMES = ("float32", "float64", "complex64", "complex128", "int32", "int64", "bool",
          "float16", "bfloat16", "int8", "int16", "uint8")


class TorchBackend(Backend):
    """PyTorch tensors. Creation functions default to float64, not torch's float32."""

    name = "torch"
    _oe_backend = "torch"
    _einsum_blas = False
    supports_grad = True
    supports_jit = False

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.version = torch.__version__
        self._by_name = {n: getattr(torch, n) for n in _NAMES}
        self._to_name = {v: k for k, v in self._by_name.items()}

    def devices(self) -> list[str]:
        out = ["cpu"]
        if self.torch.cuda.is_available():
            out += [f"cuda:{i}" for i in range(self.torch.cuda.device_count())]
        return out

    # ------------------------------------------------------------------ dtypes
    def resolve_dtype(self, spec: Any) -> Any:
        if spec is None:
            spec = self.default_float_dtype
        if isinstance(spec, self.torch.dtype):
            return spec
        if isinstance(spec, str) and spec in self._by_name:  # "bfloat16": no NumPy dtype
            return self._by_name[spec]
        return self._by_name[np.dtype(spec).name]

    def dtype_name(self, x: Any) -> str:
        dt = x.dtype if hasattr(x, "dtype") else x
        if isinstance(dt, self.torch.dtype):
            return self._to_name[dt]
        return np.dtype(dt).name

    # -------------------------------------------------------------- conversion
    def asarray(self, data: Any, dtype: Any = None, device: Any = None) -> Any:
        torch = self.torch
        dt = None if dtype is None else self.resolve_dtype(dtype)
        if isinstance(data, torch.Tensor):
            return data.to(dtype=dt or data.dtype, device=device or data.device)
        if not isinstance(data, (np.ndarray, np.generic, int, float, complex, bool, list, tuple)):
            from ._dispatch import backend_of

            data = backend_of(data).to_numpy(data)
        # Through NumPy so Python floats become float64, not torch's float32 default.
        arr = np.asarray(data)
        if not arr.flags.writeable or any(s < 0 for s in arr.strides):
            arr = arr.copy()  # torch cannot wrap read-only or negatively strided memory
        return torch.as_tensor(arr, dtype=dt, device=device or torch.get_default_device())

    def to_numpy(self, a: Any) -> np.ndarray:
        if not isinstance(a, self.torch.Tensor):
            return np.asarray(a)
        if a.dtype == self.torch.bfloat16:  # NumPy has no bfloat16: float32 holds it exactly
            a = a.float()
        return a.detach().resolve_conj().resolve_neg().cpu().numpy()

    def is_array(self, a: Any) -> bool:
        return isinstance(a, self.torch.Tensor)

    def device(self, a: Any) -> Any:
        return a.device

    def astype(self, a: Any, dtype: Any) -> Any:
        return a.to(self.resolve_dtype(dtype))

    def host_view(self, a: Any) -> Any:
        if isinstance(a, self.torch.Tensor) and not (a.is_cuda or a.is_conj() or a.is_neg()):
            # shares the tensor's memory, so it is never written through
            out = (a.detach() if a.requires_grad else a).numpy()
            out.flags.writeable = False
            return out
        return self.to_numpy(a)

    def host_eligible(self, arrays: Any) -> bool:
        torch = self.torch
        if torch.compiler.is_compiling():
            return False
        if not arrays:
            return torch.get_default_device().type == "cpu"
        grad = torch.is_grad_enabled()
        wrapped = _functorch_check()
        for a in arrays:
            if a.is_cuda or (grad and a.requires_grad) or a.device.type != "cpu" or (
                    wrapped is not None and wrapped(a)) or a.dtype == torch.bfloat16:
                return False  # (bfloat16 has no NumPy view: the function itself refuses it)
        return True

    def differentiating(self, arrays: Any) -> bool:
        wrapped = _functorch_check()  # torch.func transforms wrap the tensors they trace
        grad = self.torch.is_grad_enabled()
        return any((grad and a.requires_grad) or (wrapped is not None and wrapped(a))
                   for a in arrays)

    def item(self, a: Any) -> Any:
        return a.item() if isinstance(a, self.torch.Tensor) else a

    def synchronize(self, a: Any) -> Any:
        if isinstance(a, self.torch.Tensor) and a.is_cuda:
            self.torch.cuda.synchronize(a.device)
        return a

    # ---------------------------------------------------------------- creation
    def _kw(self, dtype: Any, device: Any) -> dict:
        return {"dtype": self.resolve_dtype(dtype), "device": device}

    def zeros(self, shape: Sequence[int], dtype: Any = None, device: Any = None) -> Any:
        return self.torch.zeros(tuple(shape), **self._kw(dtype, device))

    def ones(self, shape: Sequence[int], dtype: Any = None, device: Any = None) -> Any:
        return self.torch.ones(tuple(shape), **self._kw(dtype, device))

    def full(self, shape: Sequence[int], value: Any, dtype: Any = None, device: Any = None) -> Any:
        return self.torch.full(tuple(shape), value, **self._kw(dtype, device))

    def eye(self, n: int, m: int | None = None, dtype: Any = None, device: Any = None) -> Any:
        return self.torch.eye(n, n if m is None else m, **self._kw(dtype, device))

    def zeros_like(self, a: Any) -> Any:
        return self.torch.zeros_like(a)

    def ones_like(self, a: Any) -> Any:
        return self.torch.ones_like(a)

    # ------------------------------------------------------------------ layout
    def _long(self, idx: Any, like: Any) -> Any:
        if isinstance(idx, self.torch.Tensor):
            return idx.to(device=like.device, dtype=self.torch.int64)
        return self.torch.as_tensor(np.asarray(idx, dtype=np.int64), device=like.device)

    def _index(self, index: Any, like: Any) -> Any:
        """Convert NumPy index arrays inside an index expression to torch tensors."""
        if isinstance(index, tuple):
            return tuple(self._index(i, like) for i in index)
        if isinstance(index, (np.ndarray, list)):
            return self._long(index, like)
        return index

    def reshape(self, a: Any, shape: Sequence[int]) -> Any:
        return self.torch.reshape(a, tuple(shape))

    def transpose(self, a: Any, axes: Sequence[int] | None = None) -> Any:
        if axes is None:
            axes = tuple(range(a.ndim))[::-1]
        return a.permute(*axes)

    def moveaxis(self, a: Any, source: int, destination: int) -> Any:
        return self.torch.movedim(a, source, destination)

    def concatenate(self, arrays: Sequence[Any], axis: int = 0) -> Any:
        return self.torch.cat(list(arrays), dim=axis)

    def stack(self, arrays: Sequence[Any], axis: int = 0) -> Any:
        return self.torch.stack(list(arrays), dim=axis)

    def diag(self, a: Any) -> Any:
        return self.torch.diag(a)

    def take(self, a: Any, indices: Any, axis: int = 0) -> Any:
        idx = self._long(indices, a)
        axis = axis % a.ndim
        out = self.torch.index_select(a, axis, idx.reshape(-1))
        return out.reshape(a.shape[:axis] + idx.shape + a.shape[axis + 1 :])

    def take_along_axis(self, a: Any, indices: Any, axis: int) -> Any:
        return self.torch.take_along_dim(a, self._long(indices, a), dim=axis)

    def index_update(self, a: Any, index: Any, values: Any, reuse: bool = False,
                     divisor: Any = None) -> Any:
        torch = self.torch
        grads = (a.requires_grad or isinstance(values, torch.Tensor) and values.requires_grad
                 or isinstance(divisor, torch.Tensor) and divisor.requires_grad)
        check = _functorch_check()
        wrapped = check is not None and any(isinstance(t, torch.Tensor) and check(t)
                                            for t in (a, values, divisor))
        in_place = reuse and not grads and not wrapped
        out = a if in_place else a.clone()
        if divisor is None:
            out[self._index(index, a)] = values
        elif in_place and isinstance(index, int) and isinstance(values, torch.Tensor):
            torch.div(values, divisor, out=out[index])  # one kernel: the quotient in the row
        else:
            out[self._index(index, a)] = values / divisor
        return out

    def index_add(self, a: Any, index: Any, values: Any) -> Any:
        index = self._index(index, a)
        if not isinstance(index, tuple):
            index = (index,)
        if all(isinstance(i, self.torch.Tensor) for i in index):
            values = self.torch.as_tensor(values, dtype=a.dtype, device=a.device)
            return a.index_put(index, values.expand(a[index].shape), accumulate=True)
        out = a.clone()
        out[index] = out[index] + values
        return out

    def flip(self, a: Any, axis: int) -> Any:
        return self.torch.flip(a, (axis,))

    def tril(self, a: Any, k: int = 0) -> Any:
        return self.torch.tril(a, k)

    def triu(self, a: Any, k: int = 0) -> Any:
        return self.torch.triu(a, k)

    def squeeze(self, a: Any, axis: int | None = None) -> Any:
        return a.squeeze() if axis is None else a.squeeze(axis)

    def expand_dims(self, a: Any, axis: int) -> Any:
        return a.unsqueeze(axis)

    def broadcast_to(self, a: Any, shape: Sequence[int]) -> Any:
        return self.torch.broadcast_to(a, tuple(shape))

    def copy(self, a: Any) -> Any:
        return a.clone()

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        ref = a if isinstance(a, self.torch.Tensor) else b
        a = a if isinstance(a, self.torch.Tensor) else self.torch.as_tensor(
            a, dtype=ref.dtype, device=ref.device)
        b = b if isinstance(b, self.torch.Tensor) else self.torch.as_tensor(
            b, dtype=ref.dtype, device=ref.device)
        return self.torch.where(cond, a, b)

    def argsort(self, a: Any, axis: int = -1) -> Any:
        return self.torch.argsort(a, dim=axis, stable=True)

    def sort(self, a: Any, axis: int = -1) -> Any:
        return self.torch.sort(a, dim=axis).values

    # ------------------------------------------------------------- elementwise
    def _tensor_like(self, b: Any, a: Any) -> Any:
        if isinstance(b, self.torch.Tensor):
            return b
        return self.torch.as_tensor(b, dtype=a.dtype, device=a.device)

    def abs(self, a: Any) -> Any:
        return self.torch.abs(a)

    def sqrt(self, a: Any) -> Any:
        return self.torch.sqrt(a)

    def exp(self, a: Any) -> Any:
        return self.torch.exp(a)

    def log(self, a: Any) -> Any:
        return self.torch.log(a)

    def sin(self, a: Any) -> Any:
        return self.torch.sin(a)

    def cos(self, a: Any) -> Any:
        return self.torch.cos(a)

    def sign(self, a: Any) -> Any:
        return self.torch.sgn(a)

    def conj(self, a: Any) -> Any:
        return self.torch.conj(a) if a.is_complex() else a

    def real(self, a: Any) -> Any:
        return self.torch.real(a) if a.is_complex() else a

    def imag(self, a: Any) -> Any:
        return self.torch.imag(a) if a.is_complex() else self.torch.zeros_like(a)

    def maximum(self, a: Any, b: Any) -> Any:
        if isinstance(b, (int, float)):  # one kernel, no scalar copied to the device
            return self.torch.clamp_min(a, b)
        return self.torch.maximum(a, self._tensor_like(b, a))

    def minimum(self, a: Any, b: Any) -> Any:
        if isinstance(b, (int, float)):
            return self.torch.clamp_max(a, b)
        return self.torch.minimum(a, self._tensor_like(b, a))

    def clip(self, a: Any, low: Any, high: Any) -> Any:
        return self.torch.clamp(a, low, high)

    def isfinite(self, a: Any) -> Any:
        return self.torch.isfinite(a)

    # -------------------------------------------------------------- reductions
    def sum(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        if axis is None:
            return self.torch.sum(a)
        return self.torch.sum(a, dim=axis, keepdim=keepdims)

    def prod(self, a: Any, axis: Any = None) -> Any:
        return self.torch.prod(a) if axis is None else self.torch.prod(a, dim=axis)

    def max(self, a: Any, axis: Any = None) -> Any:
        return self.torch.max(a) if axis is None else self.torch.amax(a, dim=axis)

    def min(self, a: Any, axis: Any = None) -> Any:
        return self.torch.min(a) if axis is None else self.torch.amin(a, dim=axis)

    def mean(self, a: Any, axis: Any = None) -> Any:
        return self.torch.mean(a) if axis is None else self.torch.mean(a, dim=axis)

    def argmax(self, a: Any, axis: int | None = None) -> Any:
        return self.torch.argmax(a, dim=axis)

    def argmin(self, a: Any, axis: int | None = None) -> Any:
        return self.torch.argmin(a, dim=axis)

    def norm(self, a: Any, axis: Any = None) -> Any:
        return self.torch.linalg.vector_norm(a, dim=axis)

    def all(self, a: Any) -> Any:
        return self.torch.all(a)

    def any(self, a: Any) -> Any:
        return self.torch.any(a)

    def cumsum(self, a: Any, axis: int = 0) -> Any:
        return self.torch.cumsum(a, dim=axis)

    # ------------------------------------------------------------- contraction
    def tensordot(self, a: Any, b: Any, axes: Any = 2) -> Any:
        return self.torch.tensordot(a, b, dims=axes)

    def kron(self, a: Any, b: Any) -> Any:
        return self.torch.kron(a, b)

    # ----------------------------------------------------------- linear algebra
    def svd(self, a: Any) -> tuple[Any, Any, Any]:
        # torch.linalg.svd defaults to full_matrices=True; the contract is reduced
        linalg = self.torch.linalg
        try:
            return linalg.svd(a, full_matrices=False)
        except linalg.LinAlgError:  # gesdd's rare non-convergence: the adjoint's problem
            u, s, vh = self._svd_of_adjoint(a, linalg.svd, full_matrices=False)
            return vh.mH, s, u.mH

    def svdvals(self, a: Any) -> Any:
        linalg = self.torch.linalg
        try:
            return linalg.svdvals(a)
        except linalg.LinAlgError:
            return self._svd_of_adjoint(a, linalg.svdvals)

    def _svd_of_adjoint(self, a: Any, method: Any, **kwargs: Any) -> Any:
        try:
            return method(a.mH, **kwargs)
        except self.torch.linalg.LinAlgError:
            from ..errors import FactorizationError

            raise FactorizationError(f"svd: the SVD of a {tuple(a.shape)} matrix did not "
                                     "converge (on torch, for it and for its adjoint)") from None

    def _diag_phase(self, r: Any) -> Any:
        d = self.torch.diagonal(r, dim1=-2, dim2=-1)
        if not d.is_complex():  # +-1 (a zero diagonal entry keeps its row): two kernels
            return self.torch.copysign(self.torch.ones_like(d), d)
        mag = self.torch.abs(d)
        safe = self.torch.where(mag == 0, self.torch.ones_like(mag), mag)
        return self.torch.where(mag == 0, self.torch.ones_like(d), d / safe)

    def matmul_sub(self, c: Any, a: Any, b: Any) -> Any:
        torch = self.torch
        if a.ndim == 2 and b.ndim in (1, 2) and c.ndim == b.ndim and a.dtype == b.dtype == c.dtype:
            fused = torch.addmv if b.ndim == 1 else torch.addmm
            return fused(c, a, b, alpha=-1)
        return c - a @ b

    def qr(self, a: Any, mode: str = "reduced", signs: bool = True) -> Any:
        if mode == "r":
            _, r = self.torch.linalg.qr(a, mode="r")
            return self.conj(self._diag_phase(r))[..., :, None] * r if signs else r
        q, r = self.torch.linalg.qr(a, mode="reduced")
        if not signs:
            return q, r
        s = self._diag_phase(r)  # diag(R) >= 0 on every backend
        return q * s[..., None, :], self.conj(s)[..., :, None] * r

    def eigh(self, a: Any) -> tuple[Any, Any]:
        return self.torch.linalg.eigh(a)

    def solve(self, a: Any, b: Any, check: bool = True) -> Any:
        if check:
            return self.torch.linalg.solve(a, b)
        return self.torch.linalg.solve_ex(a, b)[0]  # the status stays on the device

    def solve_triangular(self, a: Any, b: Any, lower: bool = False) -> Any:
        vec = b.ndim == 1  # torch wants a matrix right-hand side
        x = self.torch.linalg.solve_triangular(a, b[:, None] if vec else b, upper=not lower)
        return x[:, 0] if vec else x

    def cholesky(self, a: Any) -> Any:
        return self.torch.linalg.cholesky(a)

    def inv(self, a: Any) -> Any:
        return self.torch.linalg.inv(a)

    def pinv(self, a: Any) -> Any:
        return self.torch.linalg.pinv(a)

    def expm(self, a: Any) -> Any:
        return self.torch.linalg.matrix_exp(a)

    # ----------------------------------------------------------------- autodiff
    def value_and_grad(self, f: Callable, argnums: int = 0) -> Callable:
        torch = self.torch

        def wrapped(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
            leaves, rebuild = _pytree.flatten(args[argnums])
            leaves = [leaf.detach().requires_grad_(True) for leaf in leaves]
            new_args = list(args)
            new_args[argnums] = rebuild(leaves)
            with torch.enable_grad():
                value = f(*new_args, **kwargs)
                grads = torch.autograd.grad(value, leaves, allow_unused=True)
            grads = [torch.zeros_like(x) if g is None else g for x, g in zip(leaves, grads)]
            return value.detach(), rebuild(grads)

        return wrapped

    def hvp(self, f: Callable, primal: Any, tangent: Any) -> tuple[Any, Any, Any]:
        torch = self.torch
        leaves, rebuild = _pytree.flatten(primal)
        dirs, _ = _pytree.flatten(tangent)
        leaves = [leaf.detach().requires_grad_(True) for leaf in leaves]
        with torch.enable_grad():
            value = f(rebuild(leaves))
            grads = torch.autograd.grad(value, leaves, create_graph=True, allow_unused=True)
            grads = [torch.zeros_like(x) if g is None else g for x, g in zip(leaves, grads)]
            # H t is the gradient of Re <g, t> (a real scalar for complex leaves too)
            inner = sum(torch.real((torch.conj(g) * t).sum()) if g.is_complex() else
                        (g * t).sum() for g, t in zip(grads, dirs) if g.requires_grad)
            if isinstance(inner, torch.Tensor) and inner.requires_grad:
                hv = torch.autograd.grad(inner, leaves, allow_unused=True)
            else:  # f is linear: its Hessian vanishes
                hv = [None] * len(leaves)
        hv = [torch.zeros_like(x) if h is None else h for x, h in zip(leaves, hv)]
        return value.detach(), rebuild([g.detach() for g in grads]), rebuild(list(hv))

    def segment_sum(self, data: Any, segment_ids: Any, num_segments: int) -> Any:
        out = self.torch.zeros((num_segments,) + tuple(data.shape[1:]), dtype=data.dtype,
                               device=data.device)
        return out.index_add(0, self._long(segment_ids, data), data)

    def grad(self, f: Callable, argnums: int = 0) -> Callable:
        vg = self.value_and_grad(f, argnums)
        return lambda *args, **kwargs: vg(*args, **kwargs)[1]

    def jit(self, f: Callable, fuse: bool = False, **kwargs: Any) -> Callable:
        raise self._missing(
            "jit", "tnlib runs torch eagerly; wrap your own function in torch.compile if wanted"
        )

    def stop_gradient(self, a: Any) -> Any:
        return a.detach()


_FUNCTORCH: list = []


def _functorch_check() -> Any:
    """torch's test for tensors of ``torch.func`` transforms (grad, vmap), or None."""
    if not _FUNCTORCH:
        try:
            from torch._C._functorch import is_functorch_wrapped_tensor
        except ImportError:  # pragma: no cover - older torch
            is_functorch_wrapped_tensor = None
        _FUNCTORCH.append(is_functorch_wrapped_tensor)
    return _FUNCTORCH[0]
