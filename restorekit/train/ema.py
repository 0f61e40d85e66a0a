"""An exponential moving average of a model's weights, the copy that is validated and shipped.

After each optimizer step every averaged tensor moves ``1 - decay`` of the way to the trained
one (``decay`` 0.999: an average over about the last thousand steps). Averaging removes the
step-to-step noise of training at a constant learning rate, which otherwise only a decay of
the rate removes (KAIR's ``E_decay``, Polyak averaging). Buffers are copied, not averaged.
"""

from __future__ import annotations

import copy

import torch


class EmaWeights:
    def __init__(self, model: torch.nn.Module, decay: float):
        if not 0 < decay < 1:
            raise ValueError(f"an average's decay lies in (0, 1), got {decay}")
        self.decay = decay
        self.model = copy.deepcopy(model).requires_grad_(False).eval()

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        for averaged, trained in zip(self.model.parameters(), model.parameters()):
            averaged.lerp_(trained, 1 - self.decay)
        for averaged, trained in zip(self.model.buffers(), model.buffers()):
            averaged.copy_(trained)

    def state_dict(self) -> dict:
        return self.model.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state)
