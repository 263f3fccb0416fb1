"""TT-LSTM and TT-GRU: recurrent layers whose input-to-hidden map is a TT layer (Yang et al.).

The input map of every gate is one :class:`TTLinear` from ``in_shape`` to
``(G * h_1, h_2, ..., h_d)`` (``G`` = 4 gates for the LSTM, 3 for the GRU), so its
output splits into the gates in ``nn.LSTM`` / ``nn.GRU`` order (i, f, g, o /
r, z, n). It is applied to all time steps in one call, the expensive part of a
long input; the hidden-to-hidden map stays dense. Gate equations, argument
order, shapes and the initial state follow ``nn.LSTM`` / ``nn.GRU`` exactly.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch
from torch import nn

from .._validation import check_positive_int, check_shape
from ..errors import ArgumentError, ShapeError
from ._torch_linear import TTLinear, _check_float, factory_kwargs

_GATES = {"lstm": 4, "gru": 3}


def _lstm_step(gi: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_hh: torch.Tensor,
               b_hh: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    gates = gi + h @ w_hh.T
    if b_hh is not None:
        gates = gates + b_hh
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _gru_step(gi: torch.Tensor, h: torch.Tensor, w_hh: torch.Tensor,
              b_hh: torch.Tensor | None) -> torch.Tensor:
    gh = h @ w_hh.T
    if b_hh is not None:
        gh = gh + b_hh
    ir, iz, in_ = gi.chunk(3, dim=-1)
    hr, hz, hn = gh.chunk(3, dim=-1)
    r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
    n = torch.tanh(in_ + r * hn)
    return (1 - z) * n + z * h


class _TTCellBase(nn.Module):
    kind = "lstm"

    def __init__(self, in_shape: Any, hidden_shape: Any, ranks: Any, bias: bool = True, *,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        where = type(self).__name__
        in_shape = check_shape(in_shape, where, "in_shape")
        hidden_shape = check_shape(hidden_shape, where, "hidden_shape")
        gates = _GATES[self.kind]
        self.hidden_size = math.prod(hidden_shape)
        self.input_size = math.prod(in_shape)
        out_shape = (gates * hidden_shape[0],) + hidden_shape[1:]
        kw = factory_kwargs(device, dtype, where)
        self.ih = TTLinear(in_shape, out_shape, ranks, bias=bias, **kw)
        bound = 1.0 / math.sqrt(self.hidden_size)
        self.weight_hh = nn.Parameter(
            torch.empty(gates * self.hidden_size, self.hidden_size, **kw).uniform_(-bound, bound))
        self.bias_hh = nn.Parameter(torch.zeros(gates * self.hidden_size, **kw)) if bias \
            else None

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise ArgumentError(f"{type(self).__name__}: input must be a torch.Tensor, got "
                                f"{type(x).__name__}")
        if x.dim() not in (1, 2) or x.shape[-1] != self.input_size:
            raise ShapeError(f"{type(self).__name__}: input has shape {tuple(x.shape)}, expected "
                             f"(batch, {self.input_size}) or ({self.input_size},)")

    def _state(self, x: torch.Tensor, hx: Any, batched: bool) -> tuple:
        """The states of `hx` (None: zeros) as ``(batch, hidden)`` tensors, checked against
        the input `x` (already batched): ``(h, c)`` for an LSTM cell, ``(h,)`` for a GRU."""
        where, n = type(self).__name__, 2 if self.kind == "lstm" else 1
        if hx is None:
            return (x.new_zeros(x.shape[0], self.hidden_size),) * n
        if self.kind == "lstm" and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ArgumentError(f"{where}: hx must be a tuple (h, c)")
        states = tuple(hx) if self.kind == "lstm" else (hx,)
        expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        for s in states:
            if not isinstance(s, torch.Tensor) or tuple(s.shape) != expected:
                got = tuple(s.shape) if isinstance(s, torch.Tensor) else type(s).__name__
                raise ShapeError(f"{where}: state has shape {got}, expected {expected}")
        return states if batched else tuple(s[None] for s in states)


class TTLSTMCell(_TTCellBase):
    """One LSTM step with a TT input map; called like ``nn.LSTMCell``.

    Parameters
    ----------
    in_shape, hidden_shape : sequence of int
        Factorizations of the input and hidden sizes (same number of factors).
    ranks : int or sequence of int
        TT-ranks of the input map.
    bias : bool

    Examples
    --------
    >>> import torch
    >>> from tnlib.nn.torch import TTLSTMCell
    >>> cell = TTLSTMCell((4, 8), (4, 4), ranks=3)
    >>> h, c = cell(torch.randn(5, 32))
    >>> h.shape, c.shape
    (torch.Size([5, 16]), torch.Size([5, 16]))
    """

    kind = "lstm"

    def forward(self, x: torch.Tensor, hx: tuple | None = None) -> tuple:
        self._check_input(x)
        batched = x.dim() == 2
        x = x if batched else x[None]
        h, c = self._state(x, hx, batched)
        h, c = _lstm_step(self.ih(x), h, c, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h[0], c[0])


class TTGRUCell(_TTCellBase):
    """One GRU step with a TT input map; called like ``nn.GRUCell``.

    Examples
    --------
    >>> import torch
    >>> from tnlib.nn.torch import TTGRUCell
    >>> TTGRUCell((4, 8), (4, 4), ranks=3)(torch.randn(5, 32)).shape
    torch.Size([5, 16])
    """

    kind = "gru"

    def forward(self, x: torch.Tensor, hx: torch.Tensor | None = None) -> torch.Tensor:
        self._check_input(x)
        batched = x.dim() == 2
        x = x if batched else x[None]
        (h,) = self._state(x, hx, batched)
        h = _gru_step(self.ih(x), h, self.weight_hh, self.bias_hh)
        return h if batched else h[0]


class _TTRecurrent(nn.Module):
    kind = "lstm"

    def __init__(self, in_shape: Any, hidden_shape: Any, ranks: Any, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, *, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        where = type(self).__name__
        if not isinstance(proj_size, numbers.Integral) or proj_size != 0:
            raise ArgumentError(f"{where}: proj_size must be 0 (projections are not supported), "
                                f"got {proj_size!r}")
        in_shape = check_shape(in_shape, where, "in_shape")
        hidden_shape = check_shape(hidden_shape, where, "hidden_shape")
        self.num_layers = check_positive_int(num_layers, where, "num_layers")
        self.dropout = _check_float(dropout, where, "dropout")
        self.batch_first, self.bidirectional = bool(batch_first), bool(bidirectional)
        self.input_size, self.hidden_size = math.prod(in_shape), math.prod(hidden_shape)
        dirs = 2 if self.bidirectional else 1
        cell = TTLSTMCell if self.kind == "lstm" else TTGRUCell
        # a layer above the first reads the hidden state(s): (dirs * h_1, h_2, ...)
        upper = (dirs * hidden_shape[0],) + hidden_shape[1:]
        kw = factory_kwargs(device, dtype, where)
        self.cells = nn.ModuleList(
            cell(in_shape if layer == 0 else upper, hidden_shape, ranks, bias, **kw)
            for layer in range(self.num_layers) for _ in range(dirs))

    def forward(self, x: Any, hx: Any = None) -> tuple:
        if isinstance(x, nn.utils.rnn.PackedSequence):
            return self._forward_packed(x, hx)
        return self._forward(x, hx)

    def _forward_packed(self, x: nn.utils.rnn.PackedSequence, hx: Any) -> tuple:
        """A packed batch of sequences of several lengths, as ``nn.LSTM`` takes it: run
        padded, each sequence's state frozen past its end (so ``h_n`` is its last step's),
        its reverse direction reversed within its own length, and the output packed as the
        input was."""
        padded, lengths = nn.utils.rnn.pad_packed_sequence(x)  # the batch's own order
        out, state = self._forward(padded, hx, lengths.to(padded.device), time_first=True)
        order = x.sorted_indices
        data = nn.utils.rnn.pack_padded_sequence(
            out if order is None else out[:, order],
            lengths if order is None else lengths[order.cpu()]).data
        return nn.utils.rnn.PackedSequence(data, x.batch_sizes, x.sorted_indices,
                                           x.unsorted_indices), state

    def _forward(self, x: torch.Tensor, hx: Any, lengths: torch.Tensor | None = None,
                 time_first: bool = False) -> tuple:
        where = type(self).__name__
        batch_first = self.batch_first and not time_first
        if not isinstance(x, torch.Tensor):
            raise ArgumentError(f"{where}: input must be a torch.Tensor or a PackedSequence, got "
                                f"{type(x).__name__}")
        if x.dim() not in (2, 3) or x.shape[-1] != self.input_size:
            raise ShapeError(f"{where}: input has shape {tuple(x.shape)}, expected (seq, batch, "
                             f"{self.input_size}) (batch first if batch_first) or unbatched "
                             f"(seq, {self.input_size})")
        batched = x.dim() == 3
        if x.shape[1 if batched and batch_first else 0] == 0:
            raise ShapeError(f"{where}: input has shape {tuple(x.shape)}, an empty sequence; "
                             f"the sequence length must be >= 1")
        if not batched:
            x = x[:, None]
        elif batch_first:
            x = x.transpose(0, 1)
        dirs = 2 if self.bidirectional else 1
        n_states = self.num_layers * dirs
        h0, c0 = self._initial_state(hx, x, n_states, batched)
        h_n, c_n = [], []
        back = _reversal(x.shape[0], lengths, x.device) if dirs == 2 else None
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                i = layer * dirs + d
                seq = x if d == 0 else _reverse(x, back)
                out, h, c = self._run(self.cells[i], seq, h0[i], None if c0 is None else c0[i],
                                      lengths)
                outs.append(out if d == 0 else _reverse(out, back))
                h_n.append(h)
                c_n.append(c)
            x = torch.cat(outs, dim=-1) if dirs == 2 else outs[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = nn.functional.dropout(x, self.dropout, training=True)
        h_n = torch.stack(h_n)
        out = x if not batch_first or not batched else x.transpose(0, 1)
        if not batched:
            out, h_n = out[:, 0], h_n[:, 0]
        if self.kind == "gru":
            return out, h_n
        c_n = torch.stack(c_n)
        return out, (h_n, c_n if batched else c_n[:, 0])

    def _initial_state(self, hx: Any, x: torch.Tensor, n_states: int, batched: bool) -> tuple:
        zeros = x.new_zeros(n_states, x.shape[1], self.hidden_size)
        if hx is None:
            return zeros, (zeros if self.kind == "lstm" else None)
        states = hx if self.kind == "lstm" else (hx,)
        if self.kind == "lstm" and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ArgumentError(f"{type(self).__name__}: hx must be a tuple (h_0, c_0)")
        expected = (n_states, x.shape[1], self.hidden_size) if batched else \
            (n_states, self.hidden_size)
        for s in states:
            if tuple(s.shape) != expected:
                raise ShapeError(f"{type(self).__name__}: initial state has shape "
                                 f"{tuple(s.shape)}, expected {expected}")
        states = [s if batched else s[:, None] for s in states]
        return states[0], (states[1] if self.kind == "lstm" else None)

    def _run(self, cell: _TTCellBase, seq: torch.Tensor, h: torch.Tensor,
             c: torch.Tensor | None, lengths: torch.Tensor | None = None) -> tuple:
        """`cell` over the time steps of `seq`; with `lengths`, sequence ``b`` ends at step
        ``lengths[b]``: its state is kept from there on (its outputs there are padding)."""
        steps, batch = seq.shape[:2]
        gi = cell.ih(seq.reshape(steps * batch, seq.shape[-1]))
        gi = gi.reshape(steps, batch, gi.shape[-1])
        outs = []
        for t in range(steps):
            if c is None:
                new = _gru_step(gi[t], h, cell.weight_hh, cell.bias_hh), None
            else:
                new = _lstm_step(gi[t], h, c, cell.weight_hh, cell.bias_hh)
            if lengths is None:
                h, c = new
            else:
                live = (lengths > t)[:, None]
                h = torch.where(live, new[0], h)
                c = None if c is None else torch.where(live, new[1], c)
            outs.append(h)
        return torch.stack(outs), h, c


def _reversal(steps: int, lengths: torch.Tensor | None, device: Any) -> torch.Tensor | None:
    """Time indices ``(steps, batch)`` that reverse each sequence within its own length
    (padding stays behind it): None for sequences of one length, reversed whole."""
    if lengths is None:
        return None
    t = torch.arange(steps, device=device)[:, None]
    return torch.where(t < lengths, lengths - 1 - t, t)


def _reverse(x: torch.Tensor, index: torch.Tensor | None) -> torch.Tensor:
    """`x` ``(steps, batch, features)`` reversed in time by :func:`_reversal`'s index."""
    if index is None:
        return x.flip(0)
    return torch.gather(x, 0, index[:, :, None].expand(x.shape))


class TTLSTM(_TTRecurrent):
    """LSTM whose input-to-hidden weights are TT layers; called like ``nn.LSTM``.

    Parameters
    ----------
    in_shape, hidden_shape : sequence of int
        Factorizations of the input size and the hidden size.
    ranks : int or sequence of int
        TT-ranks of each input map.
    num_layers, bias, batch_first, dropout, bidirectional
        As for ``nn.LSTM`` (``proj_size`` must be 0).

    Notes
    -----
    ``forward(input, hx=None)`` returns ``output, (h_n, c_n)`` with the shapes
    of ``nn.LSTM``. ``input`` may be a ``PackedSequence`` of sequences of several
    lengths (``nn.utils.rnn.pack_padded_sequence``): the output is packed alike and
    ``h_n``, ``c_n`` are each sequence's last step.

    References
    ----------
    Y. Yang, D. Krompass, V. Tresp, "Tensor-train recurrent neural networks for
    video classification", ICML 2017.

    Examples
    --------
    >>> import torch
    >>> from tnlib.nn.torch import TTLSTM
    >>> lstm = TTLSTM((4, 8, 8), (4, 4, 4), ranks=4, batch_first=True)
    >>> out, (h, c) = lstm(torch.randn(2, 10, 256))
    >>> out.shape, h.shape
    (torch.Size([2, 10, 64]), torch.Size([1, 2, 64]))
    """

    kind = "lstm"


class TTGRU(_TTRecurrent):
    """GRU whose input-to-hidden weights are TT layers; called like ``nn.GRU``.

    Returns ``output, h_n`` with the shapes of ``nn.GRU``; takes a ``PackedSequence``
    as :class:`TTLSTM` does.

    Examples
    --------
    >>> import torch
    >>> from tnlib.nn.torch import TTGRU
    >>> gru = TTGRU((4, 8, 8), (4, 4, 4), ranks=4, num_layers=2)
    >>> out, h = gru(torch.randn(10, 2, 256))
    >>> out.shape, h.shape
    (torch.Size([10, 2, 64]), torch.Size([2, 2, 64]))
    """

    kind = "gru"
