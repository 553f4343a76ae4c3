"""Activity regularizers of the zoo: sparsity penalties on the code."""

from keras_ae.regularizers.kl_sparsity import KLSparsity
from keras_ae.regularizers.l1_activity import L1Activity

__all__ = ["KLSparsity", "L1Activity"]
