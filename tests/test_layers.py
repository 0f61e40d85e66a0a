"""restorekit.models.layers: the residual block, the sigma map and the one input check.

(The package's import order is tested in tests/test_layering.py.)
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from restorekit.errors import RestorekitError
from restorekit.models.layers import ResBlock, check_input, res_blocks, sigma_map


class _Net(nn.Module):
    """The attributes check_input reads; no ``arch``, so it is named after the class."""

    in_channels, multiple, conditioned = 3, 4, True


def test_a_fresh_res_block_is_the_identity_and_trains():
    block = ResBlock(8)
    x = torch.rand(2, 8, 5, 7)
    assert torch.equal(block(x), x)
    blocks = res_blocks(8, 2, bias=False)
    assert all(b.conv1.bias is None for b in blocks)
    with torch.no_grad():
        for p in blocks.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=torch.Generator().manual_seed(0)))
    blocks(x.requires_grad_()).square().sum().backward()  # the in-place ReLU keeps autograd intact
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in blocks.parameters())


def test_sigma_map_broadcasts_one_value_per_image():
    x = torch.zeros(2, 3, 4, 6)
    expected = torch.tensor([0.1, 0.2]).reshape(2, 1, 1, 1).expand(2, 1, 4, 6)
    assert torch.equal(sigma_map(torch.tensor([0.1, 0.2]), x), expected)
    assert torch.equal(sigma_map(torch.tensor([[[[0.1]]], [[[0.2]]]]), x), expected)
    assert torch.equal(sigma_map(0.1, x), torch.full((2, 1, 4, 6), 0.1))
    spatial = torch.rand(2, 1, 4, 6)
    assert sigma_map(spatial, x) is spatial
    assert sigma_map(torch.tensor([0.1], dtype=torch.float64), x).dtype == torch.float32


def test_check_input_accepts_what_the_model_takes():
    net = _Net()
    x = torch.zeros(2, 3, 8, 12)
    for sigma in (0.1, torch.tensor(0.1), torch.tensor([0.1, 0.2]), torch.zeros(2, 1, 1, 1)):
        check_input(net, x, sigma)
    check_input(net, x, torch.zeros(2, 1, 8, 12), sigma_maps=True)
    net.conditioned = False
    check_input(net, x)  # no sigma needed, none checked


ONE_PER_IMAGE = r"_net takes sigma as one value or one per image \(\[2\]\)"


@pytest.mark.parametrize(("x", "sigma", "message"), [
    (torch.zeros(2, 1, 8, 12), 0.1, r"_net takes images as \[B, 3, H, W\], got \[2, 1, 8, 12\]"),
    (torch.zeros(3, 8, 12), 0.1, r"_net takes images as \[B, 3, H, W\], got \[3, 8, 12\]"),
    ("image", 0.1, r"_net takes images as \[B, 3, H, W\], got str"),
    (torch.zeros(1, 3, 10, 12), 0.1, "_net needs H and W to be multiples of 4, got 10x12; restorekit.denoise pads"),
    (torch.zeros(1, 3, 8, 12), None, "_net is noise-conditioned and needs sigma"),
    (torch.zeros(2, 3, 8, 12), torch.zeros(3), rf"{ONE_PER_IMAGE}, got shape \[3\]"),
    (torch.zeros(2, 3, 8, 12), torch.zeros(2, 1, 8, 12), rf"{ONE_PER_IMAGE}, got shape \[2, 1, 8, 12\]"),
    (torch.zeros(2, 3, 8, 12), "high", "_net: sigma must be a number or a tensor, got str"),
])
def test_check_input_fails_in_one_line(x, sigma, message):
    with pytest.raises(RestorekitError, match=f"^{message}") as exc:
        check_input(_Net(), x, sigma)
    assert "\n" not in str(exc.value)


def test_check_input_checks_sigma_maps_where_the_model_takes_them():
    with pytest.raises(RestorekitError, match=r"^_net: a sigma map must be \[2, 1, 8, 12\], got \[2, 1, 4, 12\]"):
        check_input(_Net(), torch.zeros(2, 3, 8, 12), torch.zeros(2, 1, 4, 12), sigma_maps=True)
