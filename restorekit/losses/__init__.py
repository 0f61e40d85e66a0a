"""Training objectives with one signature: ``objective(net, batch, generator) -> loss``."""

from __future__ import annotations

from typing import Callable

from restorekit.errors import RestorekitError
from restorekit.losses.self_supervised import OBJECTIVES
from restorekit.losses.supervised import LOSSES


def get_objective(loss: str = "l1", self_supervised: str | None = None) -> Callable:
    """The supervised objective with ``loss``, or a self-supervised one (n2v, neighbor2neighbor)."""
    if self_supervised:
        if self_supervised not in OBJECTIVES:
            raise RestorekitError(f"unknown self-supervised method {self_supervised!r}; choose from {', '.join(OBJECTIVES)}")
        return OBJECTIVES[self_supervised]
    if loss not in LOSSES:
        raise RestorekitError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")
    fn = LOSSES[loss]

    def supervised(net, batch, generator):
        return fn(net(batch.noisy, batch.sigma), batch.clean)

    return supervised
