"""PyTorch layers: :class:`TTLinear`, :class:`TTEmbedding`, CP and Tucker convolutions,
TT-LSTM and TT-GRU.

Importing this module imports torch. The shapes, ranks, initialization and the
contraction plans come from :mod:`tnlib.nn._spec`; the classes here only hold the
parameters and run the plans with torch's own operations.
"""

from ._torch_conv import cp_conv2d, tucker_conv2d
from ._torch_embedding import TTEmbedding
from ._torch_linear import TTLinear
from ._torch_rnn import TTGRU, TTLSTM, TTGRUCell, TTLSTMCell
from ._torch_trl import TRL

__all__ = ["TRL", "TTLinear", "TTEmbedding", "cp_conv2d", "tucker_conv2d", "TTLSTM", "TTGRU",
           "TTLSTMCell", "TTGRUCell"]
