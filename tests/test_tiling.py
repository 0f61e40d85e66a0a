"""Tiled inference: equal to untiled where the receptive field fits, seamless, bounded tiles."""

from __future__ import annotations

import pytest
import torch

from restorekit.infer.tiling import _ramp, apply_padded, pad_to_multiple, tiled_apply
from restorekit.models import create_model


def _image(c: int, h: int, w: int) -> torch.Tensor:
    return torch.rand(1, c, h, w, generator=torch.Generator().manual_seed(h * w))


@pytest.mark.parametrize("h,w,tile,overlap", [(101, 77, 40, 20), (37, 93, 48, 20), (64, 64, 64, 16)])
def test_tiled_equals_untiled_for_a_small_dncnn(h, w, tile, overlap):
    # depth 5 -> receptive radius 5 <= overlap // 4 (the zero margin of the blend window)
    model = create_model("dncnn", channels=3, depth=5, features=8).eval()
    x = _image(3, h, w)
    with torch.no_grad():
        whole = apply_padded(model, x, 4)
        tiled = tiled_apply(model, x, tile=tile, overlap=overlap, multiple=4)
    assert tiled.shape == x.shape
    assert (tiled - whole).abs().max() < 1e-4


@pytest.mark.parametrize("h,w,tile,overlap", [(101, 77, 24, 0), (101, 77, 24, 5), (50, 33, 16, 8), (9, 200, 64, 31)])
def test_windows_sum_to_one_everywhere(h, w, tile, overlap):
    # the identity network must come back unchanged: weights are normalised at every pixel
    x = _image(1, h, w)
    assert torch.allclose(tiled_apply(lambda t: t, x, tile, overlap), x, atol=1e-6)


def test_tiles_are_bounded_and_padded_to_the_multiple():
    seen, calls = [], []

    def fn(t):
        seen.append(tuple(t.shape[-2:]))
        return t * 2

    x = _image(1, 70, 45)
    y = tiled_apply(fn, x, tile=30, overlap=8, multiple=8, progress=lambda d, n: calls.append((d, n)))
    assert torch.allclose(y, 2 * x, atol=1e-6)
    assert all(a <= 24 and b <= 24 and a % 8 == 0 and b % 8 == 0 for a, b in seen)  # 30 -> 24
    assert calls == [(i + 1, len(seen)) for i in range(len(seen))]


def test_ramps_blend_to_a_partition_of_unity():
    like = torch.zeros(1)
    for overlap in (1, 4, 17, 64):
        r = _ramp(overlap, like)
        assert torch.allclose(r + r.flip(0), torch.ones(overlap), atol=1e-6)
        assert (r[: overlap // 4] == 0).all() and (r >= 0).all() and (r <= 1).all()


def test_bad_overlap_is_rejected():
    with pytest.raises(ValueError, match="overlap"):
        tiled_apply(lambda t: t, _image(1, 50, 50), tile=16, overlap=9)


def test_pad_to_multiple_reflects_and_handles_tiny_images():
    x = torch.arange(12.0).reshape(1, 1, 3, 4)
    y = pad_to_multiple(x, 4)
    assert y.shape == (1, 1, 4, 4) and torch.equal(y[..., 3, :], x[..., 1, :])  # reflection
    assert pad_to_multiple(x, 8).shape == (1, 1, 8, 8)  # too small to reflect: replicate
    assert pad_to_multiple(x, 1) is x
