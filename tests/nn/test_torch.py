"""PyTorch layers: TTLinear, cp_conv2d, tucker_conv2d, TTLSTM/TTGRU and their cells."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from tnlib import tt  # noqa: E402
from tnlib.errors import ArgumentError, ShapeError  # noqa: E402
from tnlib.nn.torch import (  # noqa: E402
    TTGRU,
    TTLSTM,
    TTGRUCell,
    TTLinear,
    TTLSTMCell,
    cp_conv2d,
    tucker_conv2d,
)

F64 = torch.float64


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_tensornet_layer_parameter_count_and_forward():
    layer = TTLinear((7, 4, 7, 4), (5, 5, 5, 5), ranks=4)
    assert sum(p.numel() for p in layer.parameters()) == 1725
    assert layer(torch.randn(3, 784)).shape == (3, 625)
    assert layer(torch.randn(2, 5, 784)).shape == (2, 5, 625)  # any leading dims


@pytest.mark.parametrize("contraction", ["auto", "chain", "halves", "dense", "sequential"])
@pytest.mark.parametrize("batch", [1, 4, 200])
def test_forward_is_x_times_the_dense_weight_in_every_order(contraction, batch):
    layer = TTLinear((3, 4, 5), (4, 2, 3), ranks=(3, 5), contraction=contraction, dtype=F64)
    with torch.no_grad():
        layer.bias.normal_()
    w = layer.to_tt_matrix().full()
    x = torch.randn(batch, 60, dtype=F64)
    want = x @ w + layer.bias
    torch.testing.assert_close(layer(x), want, rtol=1e-12, atol=1e-12)
    with torch.no_grad():  # the gradient-free route (a cached dense weight where cheaper)
        torch.testing.assert_close(layer(x), want, rtol=1e-12, atol=1e-12)


def test_cached_inference_weight_follows_parameter_updates():
    layer = TTLinear((4, 4), (4, 4), ranks=16, dtype=F64)  # full rank: the dense route wins
    x = torch.randn(50, 16, dtype=F64)
    with torch.no_grad():
        y0 = layer(x)
        layer.cores[0].mul_(2.0)
        torch.testing.assert_close(layer(x), 2.0 * y0)


def test_gradients_reach_every_core_and_match_finite_differences():
    layer = TTLinear((2, 3, 2), (3, 2, 2), ranks=2, dtype=F64)
    x = torch.randn(5, 12, dtype=F64)
    params = list(layer.parameters())
    assert torch.autograd.gradcheck(lambda *p: _functional(layer, p, x), params)
    layer(x).square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in params)


def _functional(layer, params, x):
    return torch.func.functional_call(layer, dict(zip(
        [n for n, _ in layer.named_parameters()], params)), (x,))


@pytest.mark.parametrize("init, target", [("glorot", 2 / (256 + 512)), ("he", 2 / 256)])
def test_initialization_variance_matches_the_dense_init(init, target):
    var = np.mean([torch.var(TTLinear((4, 8, 8), (8, 8, 8), 4, init=init, dtype=F64)
                             .to_tt_matrix().full()).item() for _ in range(20)])
    assert abs(var / target - 1) < 0.1


def test_from_linear_is_exact_for_a_tt_structured_weight():
    m = tt.TTMatrix([torch.randn(s, dtype=F64) for s in
                     [(1, 4, 2, 3), (3, 2, 4, 2), (2, 3, 2, 1)]])
    dense = nn.Linear(24, 16, dtype=F64)
    with torch.no_grad():
        dense.weight.copy_(m.full().T)
    layer = TTLinear.from_linear(dense, in_shape=(4, 2, 3), out_shape=(2, 4, 2))
    assert layer.ranks == (1, 3, 2, 1)
    x = torch.randn(7, 24, dtype=F64)
    torch.testing.assert_close(layer(x), dense(x), rtol=1e-12, atol=1e-12)
    auto = TTLinear.from_linear(dense, eps=1e-10)  # shapes factored automatically
    torch.testing.assert_close(auto(x), dense(x), rtol=1e-9, atol=1e-9)


def test_from_linear_truncates_to_the_requested_accuracy():
    dense = nn.Linear(64, 64, dtype=F64)
    layer = TTLinear.from_linear(dense, eps=0.5)
    err = torch.linalg.norm(layer.weight() - dense.weight.T) / torch.linalg.norm(dense.weight)
    assert err <= 0.5 + 1e-12
    assert sum(p.numel() for p in layer.cores.parameters()) < 64 * 64


def _rank_r_conv(r, c_out, c_in, k, **kw):
    conv = nn.Conv2d(c_in, c_out, k, dtype=F64, **kw)
    factors = [torch.randn(n, r, dtype=F64) for n in (c_out, c_in, k, k)]
    with torch.no_grad():
        conv.weight.copy_(torch.einsum("ar,br,cr,dr->abcd", *factors))
    return conv


@pytest.mark.parametrize("kw", [
    {"stride": 2, "padding": 1},
    {"padding": 2, "dilation": 2},
    {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "padding_mode": "reflect"},
    {"padding": "same"},
    {"bias": False},
])
def test_cp_conv2d_of_a_rank_r_kernel_reproduces_the_convolution(kw):
    conv = _rank_r_conv(3, 8, 5, 3, **kw)
    fast = cp_conv2d(conv, 3)
    assert [type(m) for m in fast] == [nn.Conv2d] * 4
    x = torch.randn(2, 5, 11, 13, dtype=F64)
    want = conv(x)
    assert fast(x).shape == want.shape
    assert (fast(x) - want).abs().max() <= 1e-6 * want.abs().max()
    n = sum(p.numel() for p in fast.parameters())
    assert n == 3 * (5 + 3 + 3 + 8) + (8 if conv.bias is not None else 0)


def test_cp_conv2d_of_a_zero_initialized_kernel_is_exact():
    conv = _rank_r_conv(3, 8, 5, 3)
    with torch.no_grad():
        conv.weight.zero_()
    fast = cp_conv2d(conv, 3)
    x = torch.randn(2, 5, 11, 13, dtype=F64)
    assert torch.equal(fast(x), conv(x))  # the bias alone, exactly


def test_tucker_conv2d_reproduces_a_low_multilinear_rank_kernel():
    conv = nn.Conv2d(6, 8, 3, stride=2, padding=1, dtype=F64)
    core = torch.randn(3, 2, 3, 3, dtype=F64)
    u_out, u_in = torch.randn(8, 3, dtype=F64), torch.randn(6, 2, dtype=F64)
    with torch.no_grad():
        conv.weight.copy_(torch.einsum("abij,ta,sb->tsij", core, u_out, u_in))
    fast = tucker_conv2d(conv, (3, 2))
    x = torch.randn(2, 6, 9, 9, dtype=F64)
    torch.testing.assert_close(fast(x), conv(x), rtol=1e-9, atol=1e-9)


def test_tucker_conv2d_of_a_pointwise_convolution_keeps_the_ranks_the_kernel_has():
    """A 1x1 convolution from 5 to 8 channels has Tucker ranks at most (5, 5) (a rank is
    at most the product of the others): asking (8, 5) gave a core of 5 output channels
    for a middle layer built with 8, a RuntimeError of torch's copy."""
    conv = nn.Conv2d(5, 8, 1, dtype=F64)
    fast = tucker_conv2d(conv, (8, 5))
    assert [m.out_channels for m in fast] == [5, 5, 8]
    x = torch.randn(2, 5, 7, 7, dtype=F64)
    torch.testing.assert_close(fast(x), conv(x), rtol=1e-9, atol=1e-9)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ShapeError, match="in_shape"):
        TTLinear((2, 3), (2, 3, 4), 2)
    with pytest.raises(ArgumentError, match="ranks"):
        TTLinear((2, 3), (2, 3), 0)
    with pytest.raises(ShapeError, match="input"):
        TTLinear((2, 3), (2, 3), 2)(torch.randn(4, 5))
    with pytest.raises(ArgumentError, match="conv"):
        cp_conv2d(nn.Linear(3, 3), 2)
    with pytest.raises(ArgumentError, match="groups"):
        cp_conv2d(nn.Conv2d(4, 4, 3, groups=2), 2)
    with pytest.raises(ArgumentError, match="rank"):
        cp_conv2d(nn.Conv2d(4, 4, 3), 0)
    with pytest.raises(ArgumentError, match="ranks"):
        tucker_conv2d(nn.Conv2d(4, 4, 3), (1, 2, 3))
    with pytest.raises(ShapeError, match="from_linear"):
        TTLinear.from_linear(nn.Linear(12, 6), in_shape=(3, 3), out_shape=(2, 3))
    with pytest.raises(ArgumentError, match="linear"):
        TTLinear.from_linear(nn.Conv2d(2, 2, 1))
    with pytest.raises(ArgumentError, match="proj_size"):
        TTLSTM((2, 3), (2, 2), 2, proj_size=2)
    # an array where an option or a size goes is named (was NumPy's ambiguous truth value)
    pair = np.zeros(2)
    with pytest.raises(ArgumentError, match="contraction must be one of"):
        TTLinear((2, 3), (2, 3), 2, contraction=pair)
    with pytest.raises(ArgumentError, match="init must be one of"):
        TTLinear((2, 3), (2, 3), 2, init=pair)
    with pytest.raises(ArgumentError, match="proj_size"):
        TTLSTM((2, 3), (2, 2), 2, proj_size=pair)



@pytest.mark.parametrize("make", [lambda **kw: TTLinear((2, 3), (2, 3), 2, **kw),
                                  lambda **kw: TTLSTMCell((2, 3), (2, 2), 2, **kw),
                                  lambda **kw: TTGRU((2, 3), (2, 2), 2, **kw)])
def test_layer_dtypes_and_devices_are_checked_by_name(make):
    # integer dtypes and unknown devices leaked torch's NotImplementedError / RuntimeError,
    # a dtype name ("float64") its TypeError; names are now understood
    name = type(make()).__name__
    with pytest.raises(ArgumentError, match=rf"{name}: dtype must be a floating-point or "
                                            r"complex torch dtype .* got torch.int32"):
        make(dtype=torch.int32)
    with pytest.raises(ArgumentError, match=rf"{name}: device 'tpu' is not a torch device"):
        make(device="tpu")
    layer = make(dtype="float64")
    assert all(p.dtype == torch.float64 for p in layer.parameters())


def test_cell_states_are_checked():
    # a state of the wrong size reached torch's matmul ("mat1 and mat2 shapes cannot be
    # multiplied"), a one-element LSTM state Python's unpacking
    gru, lstm = TTGRUCell((2, 3), (2, 2), 2), TTLSTMCell((2, 3), (2, 2), 2)
    x = torch.randn(5, 6)
    with pytest.raises(ShapeError, match=r"TTGRUCell: state has shape \(5, 3\), expected "
                                         r"\(5, 4\)"):
        gru(x, torch.zeros(5, 3))
    with pytest.raises(ShapeError, match=r"state has shape \(4,\), expected \(5, 4\)"):
        lstm(x, (torch.zeros(5, 4), torch.zeros(4)))
    with pytest.raises(ArgumentError, match=r"TTLSTMCell: hx must be a tuple \(h, c\)"):
        lstm(x, (torch.zeros(5, 4),))
    with pytest.raises(ArgumentError, match="TTGRUCell: input must be a torch.Tensor"):
        gru(np.ones((5, 6)))
    h, c = lstm(x[0], (torch.zeros(4), torch.ones(4)))  # unbatched, as nn.LSTMCell
    assert h.shape == c.shape == (4,)


def test_non_finite_weights_are_named_by_the_converter():
    # they were "tt_matrix: a holds non-finite values" / "cp_als: ...", at transposed indices
    linear, conv = nn.Linear(6, 4), nn.Conv2d(2, 3, 3)
    with torch.no_grad():
        linear.weight[2, 3] = float("inf")
        conv.weight[1, 0, 2, 1] = float("nan")
    with pytest.raises(ArgumentError, match=r"TTLinear.from_linear: the layer's weight holds "
                                            r"non-finite values \(inf at index \(2, 3\)\)"):
        TTLinear.from_linear(linear, 2, in_shape=(2, 3), out_shape=(2, 2))
    for convert, arg in ((cp_conv2d, 2), (tucker_conv2d, (2, 1))):
        with pytest.raises(ArgumentError, match=rf"{convert.__name__}: the layer's weight holds "
                                                r"non-finite values \(nan at index \(1, 0, 2, "
                                                r"1\)\)"):
            convert(conv, arg)

def _dense_twin(tt_rnn, cls, **kw):
    """The nn.LSTM / nn.GRU whose weights are the TT layer's, made dense."""
    dirs = 2 if tt_rnn.bidirectional else 1
    ref = cls(tt_rnn.input_size, tt_rnn.hidden_size, num_layers=tt_rnn.num_layers,
              bidirectional=tt_rnn.bidirectional, dtype=F64, **kw)
    with torch.no_grad():
        for i, cell in enumerate(tt_rnn.cells):
            layer, d = divmod(i, dirs)
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            getattr(ref, "weight_ih" + sfx).copy_(cell.ih.weight().T)
            getattr(ref, "bias_ih" + sfx).copy_(cell.ih.bias.normal_())
            getattr(ref, "weight_hh" + sfx).copy_(cell.weight_hh)
            getattr(ref, "bias_hh" + sfx).copy_(cell.bias_hh.normal_())
    return ref


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_tt_lstm_equals_nn_lstm_with_the_dense_weight(bidirectional, batch_first):
    lstm = TTLSTM((4, 8), (4, 4), 3, num_layers=2, batch_first=batch_first,
                  bidirectional=bidirectional, dtype=F64)
    ref = _dense_twin(lstm, nn.LSTM, batch_first=batch_first)
    x = torch.randn(3, 7, 32, dtype=F64)
    n = 2 * (2 if bidirectional else 1)
    h0, c0 = torch.randn(n, 3 if batch_first else 7, 16, dtype=F64), \
        torch.randn(n, 3 if batch_first else 7, 16, dtype=F64)
    out, (h, c) = lstm(x, (h0, c0))
    want, (hw, cw) = ref(x, (h0, c0))
    for a, b in [(out, want), (h, hw), (c, cw)]:
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    # state passing: two halves with the carried state equal the whole sequence
    if batch_first and not bidirectional:
        o1, s1 = lstm(x[:, :3], (h0, c0))
        o2, s2 = lstm(x[:, 3:], s1)
        torch.testing.assert_close(torch.cat([o1, o2], 1), out, rtol=1e-12, atol=1e-12)


def test_tt_gru_equals_nn_gru_and_handles_unbatched_input():
    gru = TTGRU((4, 8), (4, 4), 3, num_layers=2, dtype=F64)
    ref = _dense_twin(gru, nn.GRU)
    x = torch.randn(6, 2, 32, dtype=F64)
    out, h = gru(x)
    want, hw = ref(x)
    torch.testing.assert_close(out, want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(h, hw, rtol=1e-12, atol=1e-12)
    o1, h1 = gru(x[:, 0])
    torch.testing.assert_close(o1, out[:, 0], rtol=1e-12, atol=1e-12)
    assert h1.shape == (2, 16)
    with pytest.raises(ShapeError, match="initial state"):
        gru(x, torch.zeros(1, 2, 16, dtype=F64))


@pytest.mark.parametrize("enforce_sorted", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("cls, ref_cls", [(TTLSTM, nn.LSTM), (TTGRU, nn.GRU)])
def test_recurrent_layers_take_packed_sequences_as_nn_lstm_does(cls, ref_cls, batch_first,
                                                               enforce_sorted):
    """A PackedSequence of several lengths (was an ArgumentError): the packed output, its
    batch sizes and orders, and the final states (each sequence's last step, the reverse
    direction run within each length) equal nn.LSTM's / nn.GRU's with the dense weights."""
    layer = cls((4, 8), (4, 4), 3, num_layers=2, bidirectional=True, batch_first=batch_first,
                dtype=F64)
    ref = _dense_twin(layer, ref_cls, batch_first=batch_first)
    lengths = [4, 7, 1, 5] if not enforce_sorted else [7, 5, 4, 1]
    x = torch.randn(4, 7, 32, dtype=F64) if batch_first else torch.randn(7, 4, 32, dtype=F64)
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=batch_first,
                                               enforce_sorted=enforce_sorted)
    h0 = torch.randn(4, 4, 16, dtype=F64)
    hx = (h0, torch.randn(4, 4, 16, dtype=F64)) if cls is TTLSTM else h0
    out, state = layer(packed, hx)
    want, want_state = ref(packed, hx)
    assert isinstance(out, nn.utils.rnn.PackedSequence)
    assert torch.equal(out.batch_sizes, want.batch_sizes)
    for a, b in [(out.sorted_indices, want.sorted_indices),
                 (out.unsorted_indices, want.unsorted_indices)]:
        assert (a is None and b is None) or torch.equal(a, b)
    torch.testing.assert_close(out.data, want.data, rtol=1e-12, atol=1e-12)
    for a, b in zip(torch.utils._pytree.tree_leaves(state),
                    torch.utils._pytree.tree_leaves(want_state)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    out.data.sum().backward()
    assert all(p.grad is not None for p in layer.parameters())


@pytest.mark.parametrize("cls, ref_cls", [(TTLSTM, nn.LSTM), (TTGRU, nn.GRU)])
def test_recurrent_layers_take_an_empty_batch_and_name_an_empty_sequence(cls, ref_cls):
    # an empty batch or sequence reached torch's reshape ("cannot reshape tensor of 0
    # elements into shape [0, -1]"); nn.LSTM/nn.GRU return an empty batch and refuse an
    # empty sequence
    layer = cls((2, 2), (2, 3), 2, num_layers=2, bidirectional=True, dtype=F64)
    out = layer(torch.ones(3, 0, 4, dtype=F64))[0]
    want = ref_cls(4, 6, num_layers=2, bidirectional=True, dtype=F64)(
        torch.ones(3, 0, 4, dtype=F64))[0]
    assert out.shape == want.shape == (3, 0, 12)
    for x in (torch.ones(0, 3, 4), torch.ones(0, 4)):
        with pytest.raises(ShapeError, match=rf"{cls.__name__}: input has shape "
                                             rf"\({x.shape[0]}, .*an empty sequence"):
            layer(x.double())
    batch_first = cls((2, 2), (2, 3), 2, batch_first=True, dtype=F64)
    assert batch_first(torch.ones(0, 3, 4, dtype=F64))[0].shape == (0, 3, 6)
    with pytest.raises(ShapeError, match="an empty sequence"):
        batch_first(torch.ones(3, 0, 4, dtype=F64))


def test_cells_match_the_nn_cells():
    cell = TTLSTMCell((4, 8), (4, 4), 3, dtype=F64)
    ref = nn.LSTMCell(32, 16, dtype=F64)
    gcell = TTGRUCell((4, 8), (4, 4), 3, dtype=F64)
    gref = nn.GRUCell(32, 16, dtype=F64)
    with torch.no_grad():
        for c, r in [(cell, ref), (gcell, gref)]:
            r.weight_ih.copy_(c.ih.weight().T)
            r.bias_ih.copy_(c.ih.bias)
            r.weight_hh.copy_(c.weight_hh)
            r.bias_hh.copy_(c.bias_hh)
    x, h, c = (torch.randn(5, n, dtype=F64) for n in (32, 16, 16))
    for a, b in zip(cell(x, (h, c)), ref(x, (h, c))):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gcell(x, h), gref(x, h), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gcell(x[0]), gref(x[0]), rtol=1e-12, atol=1e-12)


def test_tt_input_map_is_a_small_fraction_of_the_dense_one():
    gru = TTGRU((8, 8, 8, 8), (4, 4, 4, 4), ranks=4)
    dense_ih = 3 * 256 * 4096
    tt_ih = sum(p.numel() for p in gru.cells[0].ih.cores)
    assert tt_ih * 100 <= dense_ih


def test_from_linear_names_itself_in_its_argument_errors():
    """A bad `ranks` or `eps` was reported by the inner TT-SVD (``tt_svd: max_rank ...``)."""
    dense = torch.nn.Linear(16, 16)
    for kwargs, error, match in [({"ranks": 0}, ArgumentError, "ranks must be an integer"),
                                 ({"ranks": [2, 2, 2, 2]}, ShapeError, "ranks must be an int or"),
                                 ({"eps": float("nan")}, ArgumentError, "eps must be a finite"),
                                 ({"eps": -0.1}, ArgumentError, "eps must be a finite")]:
        with pytest.raises(error, match=rf"TTLinear.from_linear: {match}"):
            TTLinear.from_linear(dense, in_shape=(4, 4), out_shape=(4, 4), **kwargs)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_layers_convert_in_their_dtype(dtype):
    # no framework factorizes half precision: float16 is factorized in float32 by the
    # backends, bfloat16 (which the formats do not hold) by the adapters; the new layers
    # keep the original dtype and reproduce the layer to its resolution
    torch.manual_seed(0)
    lin = nn.Linear(16, 24).to(dtype)
    layer = TTLinear.from_linear(lin, in_shape=(4, 4), out_shape=(4, 6))
    assert {p.dtype for p in layer.parameters()} == {dtype}
    x = torch.randn(5, 16).to(dtype)
    with torch.no_grad():
        want, got = lin(x).float(), layer(x).float()
    assert (got - want).abs().max() <= 32 * torch.finfo(dtype).eps * want.abs().max()
    conv = _rank_r_conv(2, 6, 4, 3).to(dtype)
    for fast in (cp_conv2d(conv, 2, max_iter=200), tucker_conv2d(conv, (6, 4))):
        assert {p.dtype for p in fast.parameters()} == {dtype}
        xi = torch.randn(1, 4, 9, 9).to(dtype)
        with torch.no_grad():
            want, got = conv(xi).float(), fast(xi).float()
        assert (got - want).abs().max() <= 20 * torch.finfo(dtype).eps * want.abs().max()
