"""The one input check of the 2-D encoders (CRNN, hierarchical MDLSTM).

Every encoder is built with ``input_size``, the features per step the data
gives (for images C x H, channels times the normalised height; for speech the
features per frame). The 2-D encoders read a batch as an image:

- (B, C, H, W) images (line images: time runs along W) pass as they are;
- (B, T, F) frames (a filterbank, as Deep Speech 2 convolves it) are read as
  (B, C, F / C, T) images: frequency up the image, time along it. With
  ``input_channels`` > 1 the features are split into C equal blocks (say the
  static, delta and delta-delta coefficients, 3 x 41 of TIMIT's 123).
"""

from __future__ import annotations

from torch import Tensor

from seqlab.errors import ConfigError


def image_height(name: str, input_size: int | None, input_channels: int) -> int | None:
    """H of the images an encoder built for ``input_size`` = C x H reads (None: any).

    Raises:
        ConfigError: when ``input_size`` is not a positive multiple of ``input_channels``.
    """
    if input_channels < 1:
        raise ConfigError(f"{name}: input_channels must be >= 1, got {input_channels}")
    if input_size is None:
        return None
    if input_size < 1 or input_size % input_channels:
        raise ConfigError(f"{name}: input_size {input_size} (features per step: image height x channels) must be "
                          f"a positive multiple of input_channels {input_channels}")
    return input_size // input_channels


def as_image(name: str, x: Tensor, lengths: Tensor, channels: int, height: int | None) -> Tensor:
    """Check a batch and give it as (B, C, H, W) images; see the module docstring.

    Args:
        name: the encoder, for the messages.
        x: (B, C, H, W) images or (B, T, F) frames, padded on the right of the time axis.
        lengths: (B,) integer valid widths (images) or frames.
        channels: C the encoder was built for.
        height: H the encoder was built for (None: any).

    Raises:
        ConfigError: naming the encoder, the shape it got and the setting to change.
    """
    if x.dim() == 3:
        b, t, f = x.shape
        if f % channels:
            raise ConfigError(f"{name}: frames of {f} features cannot be read as {channels}-channel images")
        x = x.reshape(b, t, channels, f // channels).permute(0, 2, 3, 1)  # (B, T, F) -> (B, C, F/C, T)
    if x.dim() != 4 or x.shape[1] != channels:
        raise ConfigError(f"{name}: expected images (B, {channels}, H, W) or frames (B, T, F), got {tuple(x.shape)}")
    if height is not None and x.shape[2] != height:
        raise ConfigError(f"{name}: built for input_size {channels * height} (height {height} x {channels} "
                          f"channels), got inputs of {channels * x.shape[2]}; leave model.encoder.input_size "
                          "to the data (???), or set it to the data's image height or features per frame")
    if lengths.shape != (x.shape[0],) or lengths.dtype.is_floating_point:
        raise ConfigError(f"{name}: lengths must be a (B,) integer tensor with B = {x.shape[0]}, "
                          f"got {tuple(lengths.shape)} {lengths.dtype}")
    return x
