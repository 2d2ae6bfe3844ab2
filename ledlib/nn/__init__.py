"""LED's networks: autoencoders, permutation-invariant encoder, mixture-density decoder, latent RNN."""

from .autoencoder import Autoencoder, FieldDecoder, FieldEncoder, kl_to_standard_normal
from .layers import MLP, activation
from .led import LED, ModelFileError, atomic_torch_save, build_autoencoder, build_rnn
from .mixture import MixtureDensityDecoder, inverse_softplus, mixture_log_prob
from .permutation import PermutationInvariantEncoder
from .rnn import LatentRNN, LatentRollout, detach_hidden

__all__ = [
    "MLP", "activation", "FieldEncoder", "FieldDecoder", "Autoencoder", "kl_to_standard_normal",
    "PermutationInvariantEncoder", "MixtureDensityDecoder", "mixture_log_prob", "inverse_softplus",
    "LatentRNN", "LatentRollout", "detach_hidden", "LED", "build_autoencoder", "build_rnn", "atomic_torch_save",
    "ModelFileError",
]
