"""The one inference core: which network, which noise level, and how it meets an image.

- :mod:`~restorekit.infer.network`: None / name / path / module / classical method ->
  a network or a Restorer (:func:`resolve_network`, :func:`as_restorer`, :func:`default_model`);
- :mod:`~restorekit.infer.apply`: the level a network is told (:func:`noise_level`) and the
  network on a tensor of any size, padded or tiled (:func:`plan_tiles`, :func:`run_network`);
- :mod:`~restorekit.infer.restore`: :func:`denoise`, numpy in and out (``restorekit.denoise``);
- :mod:`~restorekit.infer.tiling`: overlapping tiles with blended seams.
"""

from restorekit.infer.apply import DEFAULT_TILE, TILE_ABOVE, noise_level, plan_tiles, run_network
from restorekit.infer.network import (as_restorer, check_device, default_model, model_label, network_device,
                                      resolve_network)
from restorekit.infer.restore import denoise

__all__ = ["DEFAULT_TILE", "TILE_ABOVE", "as_restorer", "check_device", "default_model", "denoise", "model_label",
           "network_device", "noise_level", "plan_tiles", "resolve_network", "run_network"]
