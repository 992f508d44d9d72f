"""The v4 vocoder: 100-band log-mel at 100 Hz -> 48 kHz audio (`gsv-v4-pretrained/vocoder.pth`).

A HiFiGAN generator without timbre input (upstream `init_hifigan`: `Generator(100, resblock "1", kernels
[3, 7, 11], dilations [1, 3, 5], upsample [10, 6, 2, 2, 2] with kernels [20, 12, 4, 4, 4], 512 initial channels,
conv_post with a bias)`, x480 in time, tanh output. The file is the state dict itself, without weight norm.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gpt_sovits.messages import Message
from gpt_sovits.models.sovits import check_state_dict
from gpt_sovits.models.sovits_layers import HiFiGANGenerator

SAMPLE_RATE = 48000
MEL_CHANNELS = 100
UPSAMPLE_RATES = [10, 6, 2, 2, 2]  # x480: 100 frames / s -> 48 kHz
UPSAMPLE_KERNEL_SIZES = [20, 12, 4, 4, 4]
UPSAMPLE_INITIAL_CHANNEL = 512
RESBLOCK_KERNEL_SIZES = [3, 7, 11]
RESBLOCK_DILATION_SIZES = [[1, 3, 5]] * 3


def v4_vocoder() -> HiFiGANGenerator:
    return HiFiGANGenerator(
        MEL_CHANNELS,
        UPSAMPLE_INITIAL_CHANNEL,
        UPSAMPLE_RATES,
        UPSAMPLE_KERNEL_SIZES,
        RESBLOCK_KERNEL_SIZES,
        RESBLOCK_DILATION_SIZES,
        gin_channels=0,
        output_bias=True,
    )


def load_v4_vocoder(path: str | Path) -> HiFiGANGenerator:
    """Read vocoder.pth (safely) into the generator; float32, eval mode. Call it as `model(mel)[:, 0]`."""
    from gpt_sovits.checkpoints import load_state_dict_file

    path = Path(path)
    model = v4_vocoder()
    # The generator runs its 1-D convolutions as (1 x k) 2-D ones: give every conv weight a height axis.
    state = {
        name: tensor.float()[:, :, None, :] if tensor.dim() == 3 else tensor.float()
        for name, tensor in load_state_dict_file(path, None).items()
    }
    check_state_dict(model, state, f"{path.parent.name}/{path.name}", Message("v4 vocoder"))
    model.load_state_dict(state, strict=True)
    return model.eval().requires_grad_(False)
