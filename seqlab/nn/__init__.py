"""Plain torch.nn modules: encoders, recurrent cells, the CTC head and the inference model (CTCModel).

Every encoder follows one interface: ``forward(x, lengths) -> (features, out_lengths)``
with features (B, T, C) and an ``output_size`` attribute equal to C.
"""

from seqlab.nn.cells import PRESETS, LSTMVariant, resolve_variant
from seqlab.nn.crnn import CRNNEncoder
from seqlab.nn.ctc import CTCHead, CTCModel, ctc_loss, min_ctc_frames
from seqlab.nn.custom_lstm import CustomLSTM
from seqlab.nn.hierarchical_mdlstm import HierarchicalMDLSTMEncoder
from seqlab.nn.mdlstm import MDLSTM
from seqlab.nn.recurrent import RecurrentEncoder

# The encoders a model config (model.encoder._target_) and a checkpoint may name. A new encoder is
# one file in seqlab/nn/ and one entry here (and a config group in seqlab/conf/model/).
ENCODERS: tuple[type, ...] = (RecurrentEncoder, CRNNEncoder, HierarchicalMDLSTMEncoder)

__all__ = [
    "ENCODERS",
    "CRNNEncoder", "CTCHead", "CTCModel", "CustomLSTM", "HierarchicalMDLSTMEncoder", "LSTMVariant", "MDLSTM",
    "PRESETS", "RecurrentEncoder", "ctc_loss", "min_ctc_frames", "resolve_variant",
]
