"""seqlab: sequence labelling with LSTM networks and CTC."""

__version__ = "0.1.0"
