"""Deblurring methods behind evaluate's Restorer protocol, by name.

A denoiser needs only ``(image, sigma)``; a deblurring method also needs the kernel, which
lives in the degradation spec (``blur:levin.npz#levin3+gaussian:2.55``). So these restorers
carry ``needs_kernel = True`` and take ``kernel=`` (and ``circular=``) as keywords; a
benchmark loop that knows the spec passes them. :func:`bind_kernel` fixes them for a loop
that does not (a plain ``restorer(image, sigma)``).

Names: ``pnp`` (default prior), ``pnp:PRIOR`` (a model name or path, or a classical
denoiser such as ``pnp:bm3d``), ``wiener``, ``wiener:BALANCE``, ``rl``, ``rl:ITERATIONS``.

>>> method = deblur_method("pnp:runs/fastunet-gray")                         # doctest: +SKIP
>>> restored = method(noisy, 2.55 / 255, kernel=k, circular=True)            # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

from restorekit.errors import RestorekitError



class DeblurRestorer:
    """One deblurring method with its settings: ``restorer(image, sigma, kernel=K, circular=True)``."""

    needs_kernel = True

    def __init__(self, method: str, name: str | None = None, *, model: Any = None, iters: int | None = None,
                 balance: float | None = None):
        from restorekit.deblurring import METHODS

        if method not in METHODS:
            raise RestorekitError(f"unknown deblurring method {method!r} (expected {', '.join(METHODS)})")
        self.method = method
        self.name = name or method
        self.model = model
        self.iters = iters
        self.balance = balance
        self._priors: dict[int, Any] = {}  # channels (0: any) -> loaded prior, so a model loads once

    def __call__(self, image: np.ndarray, sigma: float | None, *, kernel: np.ndarray | str | None = None,
                 circular: bool = True) -> np.ndarray:
        from restorekit.deblurring import deblur

        if kernel is None:
            raise RestorekitError(f"{self.name} deblurs: the degradation needs a blur, e.g. "
                                  "blur:motion-15-45+gaussian:2.55")
        model = self.prior(1 if image.ndim == 2 else image.shape[2]) if self.method == "pnp" else None
        return deblur(image, kernel, sigma, self.method, model=model, iters=self.iters,
                      balance=self.balance, border="circular" if circular else "pad")

    def prior(self, channels: int) -> Any:
        """pnp's denoiser for ``channels``-channel images, loaded on first use."""
        from restorekit.deblurring.priors import resolve_prior

        key = channels if self.model is None else 0  # a named prior is the same for any image
        if key not in self._priors:
            self._priors[key] = resolve_prior(self.model, channels)
        return self._priors[key]

    def __repr__(self) -> str:
        return f"DeblurRestorer({self.name!r})"


def deblur_method(name: str) -> DeblurRestorer:
    """``pnp``, ``pnp:PRIOR``, ``wiener``, ``wiener:BALANCE``, ``rl``, ``rl:ITERATIONS`` -> a restorer."""
    from restorekit.deblurring import METHODS

    method, _, arg = name.strip().partition(":")
    method, arg = method.strip(), arg.strip()
    if method not in METHODS:
        raise RestorekitError(f"unknown deblurring method {name!r} (expected pnp[:PRIOR], "
                              "wiener[:BALANCE] or rl[:ITERATIONS])")
    if not arg:
        return DeblurRestorer(method, name.strip())
    if method == "pnp":
        restorer = DeblurRestorer("pnp", name.strip(), model=arg)
        restorer.prior(1)  # load now, so that a bad name fails before the slow work
        return restorer
    try:
        value = float(arg) if method == "wiener" else int(arg)
    except ValueError:
        raise RestorekitError(f"bad value {arg!r} in {name!r}: expected "
                              f"{'a balance (number)' if method == 'wiener' else 'an iteration count'}") from None
    if not value > 0:
        raise RestorekitError(f"bad value {arg!r} in {name!r}: must be positive")
    if method == "wiener":
        return DeblurRestorer("wiener", name.strip(), balance=value)
    return DeblurRestorer("rl", name.strip(), iters=value)


def bind_kernel(restorer: Any, kernel: np.ndarray | str, *, circular: bool = True) -> Any:
    """A plain Restorer ``(image, sigma) -> image`` with the kernel fixed (same name)."""

    def restore(image: np.ndarray, sigma: float | None) -> np.ndarray:
        return restorer(image, sigma, kernel=kernel, circular=circular)

    restore.name = getattr(restorer, "name", "deblur")
    return restore

