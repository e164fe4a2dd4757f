"""Plain torch.nn modules: encoders, recurrent cells and the CTC head.

Every encoder follows one interface: ``forward(x, lengths) -> (features, out_lengths)``
with features (B, T, C) and an ``output_size`` attribute equal to C.
"""

from seqlab.nn.blstm import BLSTMEncoder
from seqlab.nn.cells import PRESETS, LSTMVariant, resolve_variant
from seqlab.nn.crnn import CRNNEncoder
from seqlab.nn.ctc import CTCHead, ctc_loss, min_ctc_frames
from seqlab.nn.custom_lstm import CustomLSTM
from seqlab.nn.hierarchical_mdlstm import HierarchicalMDLSTMEncoder
from seqlab.nn.mdlstm import MDLSTM

__all__ = [
    "BLSTMEncoder", "CRNNEncoder", "CTCHead", "CustomLSTM", "HierarchicalMDLSTMEncoder", "LSTMVariant", "MDLSTM", "PRESETS",
    "ctc_loss", "min_ctc_frames", "resolve_variant",
]
