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

from restorekit.models.layers import check_channels, conv3x3
from restorekit.models.registry import register_model


class DnCNN(nn.Module):
    """Args:
    channels: 1 (gray) or 3 (colour).
    depth: number of conv layers (17 for DnCNN-S, 20 for DnCNN-B).
    features: width of the hidden layers.
    batchnorm: batch norm after each middle conv (the paper); False for BN-merged weights.
    bias: conv biases; default ``not batchnorm`` (a bias before BN is redundant, as in the paper).
    """

    conditioned = False
    multiple = 1  # fully convolutional, no down-sampling: any size works

    def __init__(self, channels: int = 1, depth: int = 17, features: int = 64,
                 batchnorm: bool = True, bias: bool | None = None):
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
        self._init_weights()

    def _init_weights(self) -> None:
        # He et al. 2015 initialisation, as the paper states; BN starts as the identity.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        # The last conv predicts the noise: starting it at zero makes the untrained network
        # the identity (output = input) instead of input minus a large random residual, so
        # the first steps already improve on the noisy image (a ReZero-style choice; the
        # paper's He init of this layer takes thousands of steps to recover).
        last = self.body[-1]
        nn.init.zeros_(last.weight)
        if last.bias is not None:
            nn.init.zeros_(last.bias)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        # sigma is ignored: DnCNN is trained for one level (S) or blind (B).
        return x - self.body(x)


@register_model("dncnn")
def dncnn(channels: int = 1, depth: int = 17, features: int = 64, batchnorm: bool = True,
          bias: bool | None = None) -> DnCNN:
    return DnCNN(channels=channels, depth=depth, features=features, batchnorm=batchnorm, bias=bias)
