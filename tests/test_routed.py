"""LevelRouted: each image reaches the network trained for its level, and only that one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restorekit.errors import RestorekitError
from restorekit.infer import denoise
from restorekit.infer.network import LOW_LEVEL_MODELS, resolve_network
from restorekit.models import create_model, list_models, load_model
from restorekit.models.routed import LevelRouted


def _net(seed: int, channels: int = 1):
    torch.manual_seed(seed)
    net = create_model("fastunet", channels=channels, widths=[8, 8, 8], blocks=[1, 1, 1]).eval()
    with torch.no_grad():  # its last layer starts at zero (the identity): make the two differ
        for p in net.parameters():
            p.normal_(0, 0.1)
    return net


def test_each_image_goes_to_its_levels_network_alone():
    low, high = _net(0), _net(1)
    routed = LevelRouted(low, high, below=20 / 255).eval()
    x = torch.rand(3, 1, 16, 16)
    sigma = torch.tensor([10, 30, 19.9]) / 255
    with torch.no_grad():
        out = routed(x, sigma)
        assert torch.allclose(out[[0, 2]], low(x[[0, 2]], sigma[[0, 2]]), atol=1e-6)
        assert torch.allclose(out[1:2], high(x[1:2], sigma[1:2]), atol=1e-6)
        # one level for the whole batch: all of it to one network
        assert torch.equal(routed(x, torch.tensor(20 / 255)), high(x, torch.full((3,), 20 / 255)))
        assert torch.equal(routed(x, 5 / 255), low(x, torch.full((3,), 5 / 255)))
        assert not torch.allclose(low(x, sigma), high(x, sigma))  # the check above could tell them apart


def test_the_pair_keeps_the_high_networks_meta_and_refuses_a_mismatch():
    high = _net(1)
    high.meta = {"noise": "gaussian:0-75"}
    routed = LevelRouted(_net(0), high, below=0.1, low_name="partner")
    assert routed.meta == {"noise": "gaussian:0-75", "low_levels": {"model": "partner", "below": 0.1}}
    assert (routed.in_channels, routed.multiple, routed.conditioned) == (1, 8, True)
    with pytest.raises(ValueError, match="differ"):
        LevelRouted(_net(0, channels=3), _net(1), below=0.1)
    with pytest.raises(ValueError, match="conditioned"):
        LevelRouted(create_model("dncnn", channels=1, depth=3), _net(1), below=0.1)
    with pytest.raises(RestorekitError, match="takes images"):
        routed(torch.rand(1, 3, 16, 16), 0.1)


@pytest.mark.skipif(LOW_LEVEL_MODELS["fastunet.gray"][0] not in list_models(), reason="no low-level partner ships")
def test_the_shipped_gray_model_by_name_routes_by_the_level_it_is_told():
    name = "fastunet.gray"
    low_name, below = LOW_LEVEL_MODELS[name]
    net = resolve_network(name)
    assert isinstance(net, LevelRouted) and net.below == below
    assert isinstance(resolve_network(load_model(name)), type(load_model(name)))  # a module handed in: as it is
    rng = np.random.default_rng(0)
    clean = rng.random((40, 48)).astype(np.float32)
    for sigma, alone in ((below - 5 / 255, low_name), (below, name), (below + 5 / 255, name)):
        noisy = clean + rng.normal(0, sigma, clean.shape).astype(np.float32)
        np.testing.assert_array_equal(denoise(noisy, name, sigma), denoise(noisy, load_model(alone), sigma))
    # the default model (no name, sigma given) is the pair too, and blind use routes by the estimate
    smooth = np.add.outer(np.linspace(0.2, 0.6, 40), np.sin(np.linspace(0, 3, 48)) / 5).astype(np.float32)
    noisy = smooth + rng.normal(0, 12 / 255, smooth.shape).astype(np.float32)
    np.testing.assert_array_equal(denoise(noisy, sigma=12 / 255), denoise(noisy, load_model(low_name), 12 / 255))
    np.testing.assert_array_equal(denoise(noisy, name), denoise(noisy, load_model(low_name)))
