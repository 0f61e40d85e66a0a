"""Re-parameterisable blocks: trained as 3x3 + 1x1 + identity branches, run as one 3x3 conv."""

from __future__ import annotations

import torch

from restorekit.models import create_model
from restorekit.models.layers import RepConv3x3


def _randomise(model: torch.nn.Module) -> None:
    """Non-zero weights in every branch (a fresh block starts with some at zero)."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.05 * torch.randn(p.shape, generator=gen))


def test_a_folded_fastunet_computes_what_its_branches_did_at_a_plain_layers_cost():
    rep = create_model("fastunet", channels=3, widths=[8, 16, 32], blocks=1, rep=True).eval()
    _randomise(rep)
    x, sigma = torch.rand(2, 3, 32, 40, generator=torch.Generator().manual_seed(1)), torch.tensor([0.05, 0.2])
    with torch.inference_mode():
        before = rep(x, sigma)
    rep.fold()
    assert not any(isinstance(m, RepConv3x3) for m in rep.modules()) and rep.arch_args["rep"] is False
    plain = create_model("fastunet", channels=3, widths=[8, 16, 32], blocks=1).eval()
    plain.load_state_dict(rep.state_dict())  # exactly the plain architecture's parameters
    with torch.inference_mode():
        torch.testing.assert_close(plain(x, sigma), before, atol=1e-5, rtol=1e-5)


def test_a_fresh_rep_block_is_the_identity_and_its_identity_branch_is_where_asked():
    block = create_model("fastunet", widths=[8, 16, 32], blocks=1, rep=True).enc1[0]
    x = torch.randn(1, 8, 12, 12)
    torch.testing.assert_close(block(x), x)  # zero-init second conv: every branch at zero
    conv = RepConv3x3(4, identity=False)
    torch.testing.assert_close(conv.weight[:, :, 1, 1], conv.conv3.weight[:, :, 1, 1] + conv.conv1.weight[:, :, 0, 0])
    with_eye = RepConv3x3(4)
    with_eye.load_state_dict(conv.state_dict())
    torch.testing.assert_close(with_eye.weight - conv.weight, torch.nn.functional.pad(torch.eye(4)[:, :, None, None], (1,) * 4))


def test_a_trained_plain_model_goes_on_in_branches_with_the_same_outputs_and_folds_back():
    from restorekit.models.adapt import resize

    plain = create_model("fastunet", channels=1, widths=[8, 16, 32], blocks=[1, 2, 1]).eval()
    _randomise(plain)
    x, sigma = torch.rand(2, 1, 32, 40, generator=torch.Generator().manual_seed(1)), torch.tensor([0.05, 0.2])
    branched = resize(plain, {"rep": True}).eval()
    assert branched.arch_args["rep"] is True and plain.arch_args["rep"] is False  # a copy
    convs = [m for m in branched.modules() if isinstance(m, RepConv3x3)]
    assert len(convs) == 2 * (1 + 2 + 1 + 2 + 1) and all(not m.conv1.weight.any() for m in convs)  # 1x1 branches start at zero
    with torch.inference_mode():
        expected = plain(x, sigma)
        torch.testing.assert_close(branched(x, sigma), expected, atol=1e-5, rtol=1e-5)
        grown = resize(plain, {"rep": True, "blocks": 2}).eval()  # deeper and branched at once
        torch.testing.assert_close(grown(x, sigma), expected, atol=1e-5, rtol=1e-5)
        folded = resize(branched, {"rep": False}).eval()
        assert not any(isinstance(m, RepConv3x3) for m in folded.modules()) and folded.arch_args["rep"] is False
        torch.testing.assert_close(folded(x, sigma), expected, atol=1e-5, rtol=1e-5)
    for a, b in zip(plain.state_dict().values(), folded.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)  # fold(unfold(w)) == w
