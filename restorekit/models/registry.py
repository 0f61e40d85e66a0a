"""Model registry: architectures register small constructors under a name (timm-style).

>>> from restorekit.models import create_model, list_models
>>> model = create_model("dncnn", channels=1)           # doctest: +SKIP

Every model built here carries ``arch`` (the registered name) and ``arch_args`` (the keyword
arguments it was built with), so that weights can be saved with enough to rebuild it.
Constructors never touch disk or network: weights load only through ``load_model``.

The registry imports no architecture: ``restorekit/models/__init__.py`` imports the
architecture files, whose ``@register_model`` decorators fill it.
"""

from __future__ import annotations

import inspect
from typing import Callable

from torch import nn

from restorekit.errors import ModelLoadError

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator: register ``fn(**kwargs) -> nn.Module`` under ``name``."""

    def deco(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        _REGISTRY[name] = fn
        return fn

    return deco


def create_model(name: str, **kwargs) -> nn.Module:
    """Build a registered architecture with random weights."""
    if name not in _REGISTRY:
        raise ModelLoadError(f"unknown architecture {name!r}; known: {', '.join(list_architectures())}")
    fn = _REGISTRY[name]
    try:
        bound = inspect.signature(fn).bind(**kwargs)
        model = fn(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ModelLoadError(f"bad arguments for {name!r}: {exc}") from None
    bound.apply_defaults()  # record every argument, so a later change of default breaks nothing
    model.arch = name
    model.arch_args = {k: list(v) if isinstance(v, tuple) else v for k, v in bound.arguments.items()}
    return model


def list_architectures() -> list[str]:
    return sorted(_REGISTRY)
