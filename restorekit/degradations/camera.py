"""Camera noise by unprocessing: Brooks et al., "Unprocessing Images for Learned Raw Denoising", CVPR 2019.

An sRGB image is taken back to what a sensor would have recorded, noised there, and sent
through a camera pipeline again (the published recipe, google-research/unprocessing):

1. **Unprocess**: inverse tone curve (the inverse of smoothstep ``3x^2 - 2x^3``), inverse
   gamma (``x^2.2``), inverse colour correction (``rgb2cam``: a random convex mix of four
   published XYZ -> camera matrices times sRGB -> XYZ, rows normalised to sum 1), inverse
   white balance and brightness (red gain U(1.9, 2.4), blue gain U(1.5, 1.9), brightness
   1 / N(0.8, 0.1); gains fade out near white so that highlights stay saturated), clip,
   Bayer mosaic (RGGB, kept at full resolution so odd sizes such as 37x31 work).
2. **Noise** (the paper's Eq. 2): ``raw + N(0, shot * raw + read)``: shot and read are
   *variances*, drawn as ``log shot ~ U(log 1e-4, log 1.2e-2)`` and
   ``log read = 2.18 log shot + 1.20 + N(0, 0.26^2)`` (the paper's fit to real cameras).
3. **Process**: white balance and brightness gains, clip, bilinear demosaic, ``cam2rgb``
   (the inverse matrix), clip, gamma ``x^(1/2.2)``, smoothstep tone curve.

The bilinear demosaic of step 3 would also blur the clean image, and the degradation must
stay a noisy version of the image it was given (its clean target). So the output is the
clean image plus the noise as the pipeline shaped it: ``y = x + P(m + n) - P(m)``, with
``m`` the mosaic and ``P`` the forward pipeline. The noise keeps everything that makes it
camera-like: it is signal dependent, spatially correlated (demosaicking) and correlated
across colours (the colour matrix), and the tone curve shapes it.

**Gray images** have no mosaic and no colour matrix: the luminance path is inverse tone
curve, inverse gamma, brightness, shot + read noise in linear space, then brightness,
gamma and tone curve forward. That noise is signal dependent but spatially white.

>>> y = camera_noise(clean, 1e-4, 1.2e-2, torch.Generator().manual_seed(0))   # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# The four XYZ -> camera matrices of the published code (random_ccm in unprocess.py).
XYZ_TO_CAMS = (
    ((1.0234, -0.2969, -0.2266), (-0.5625, 1.6328, -0.0469), (-0.0703, 0.2188, 0.6406)),
    ((0.4913, -0.0541, -0.0202), (-0.613, 1.3513, 0.2906), (-0.1564, 0.2151, 0.7183)),
    ((0.838, -0.263, -0.0639), (-0.2887, 1.0725, 0.2496), (-0.0627, 0.1427, 0.5438)),
    ((0.6596, -0.2079, -0.0562), (-0.4782, 1.3016, 0.1933), (-0.097, 0.1581, 0.5181)),
)
RGB_TO_XYZ = ((0.4124564, 0.3575761, 0.1804375), (0.2126729, 0.7151522, 0.0721750), (0.0193339, 0.1191920, 0.9503041))
SHOT_RANGE = (1e-4, 1.2e-2)  # the published range of the shot-noise variance factor
READ_SLOPE, READ_OFFSET, READ_JITTER = 2.18, 1.20, 0.26  # log read = 2.18 log shot + 1.20 + N(0, 0.26^2)
GAMMA = 2.2
INFLECTION = 0.9  # gains fade out above this gray level (safe_invert_gains)


@dataclass(frozen=True)
class CameraParams:
    """One camera per image; every field is [B] unless said, on the generator's draws."""

    shot: torch.Tensor  # variance per unit of raw signal
    read: torch.Tensor  # variance floor
    rgb_gain: torch.Tensor  # brightening: the raw is rgb_gain times darker than the image
    red_gain: torch.Tensor | None = None  # white balance (colour only)
    blue_gain: torch.Tensor | None = None
    rgb2cam: torch.Tensor | None = None  # [B, 3, 3] (colour only)


def noise_levels(batch: int, low: float, high: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Shot and read variances [B] (float64): shot log-uniform in [low, high], read from the fit.

    A fixed shot (``low == high``) draws nothing for it; the read jitter is always drawn.
    """
    if low == high:
        shot = torch.full((batch,), float(low), dtype=torch.float64)
    else:
        u = _rand(batch, generator)
        shot = torch.exp(math.log(low) + (math.log(high) - math.log(low)) * u)
    jitter = torch.randn(batch, generator=generator, device=generator.device, dtype=torch.float64).cpu()
    read = torch.exp(READ_SLOPE * torch.log(shot) + READ_OFFSET + READ_JITTER * jitter)
    return shot, read


def random_camera(batch: int, low: float, high: float, generator: torch.Generator, *,
                  colour: bool = True) -> CameraParams:
    """Draw a camera per image: colour matrix and gains (colour only), brightness, noise levels."""
    rgb2cam = red = blue = None
    if colour:
        weights = _rand(batch * 4, generator).view(batch, 4, 1, 1)  # a random convex mix
        xyz2cam = (torch.tensor(XYZ_TO_CAMS, dtype=torch.float64) * weights).sum(1) / weights.sum(1)  # [B, 3, 3]
        rgb2cam = xyz2cam @ torch.tensor(RGB_TO_XYZ, dtype=torch.float64)
        rgb2cam = rgb2cam / rgb2cam.sum(-1, keepdim=True)  # white stays white
        red = 1.9 + 0.5 * _rand(batch, generator)
        blue = 1.5 + 0.4 * _rand(batch, generator)
    brightness = 0.8 + 0.1 * torch.randn(batch, generator=generator, device=generator.device, dtype=torch.float64).cpu()
    rgb_gain = 1.0 / brightness.clamp(min=0.4)  # 8 standard deviations: never hit in practice
    shot, read = noise_levels(batch, low, high, generator)
    return CameraParams(shot=shot, read=read, rgb_gain=rgb_gain, red_gain=red, blue_gain=blue, rgb2cam=rgb2cam)


# --- the tone curve and gamma --------------------------------------------------------


def smoothstep(x: torch.Tensor) -> torch.Tensor:
    return 3 * x**2 - 2 * x**3


def inverse_smoothstep(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0, 1)
    return 0.5 - torch.sin(torch.asin(1 - 2 * x) / 3)


def gamma_expansion(x: torch.Tensor) -> torch.Tensor:
    return x.clamp(min=1e-8) ** GAMMA


def gamma_compression(x: torch.Tensor) -> torch.Tensor:
    return x.clamp(min=1e-8) ** (1 / GAMMA)


# --- mosaic and demosaic (RGGB, full resolution) -------------------------------------


def cfa_masks(height: int, width: int, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """[3, H, W] 0/1 masks of the R, G and B sites of an RGGB Bayer pattern."""
    rows = torch.arange(height, device=device)[:, None] % 2
    cols = torch.arange(width, device=device)[None, :] % 2
    red = (rows == 0) & (cols == 0)
    blue = (rows == 1) & (cols == 1)
    return torch.stack([red, ~(red | blue), blue]).to(dtype)


def mosaic(rgb: torch.Tensor) -> torch.Tensor:
    """[B, 3, H, W] -> [B, 1, H, W]: each pixel keeps the colour its RGGB site records."""
    masks = cfa_masks(*rgb.shape[-2:], dtype=rgb.dtype, device=rgb.device)
    return (rgb * masks).sum(1, keepdim=True)


def demosaic(bayer: torch.Tensor) -> torch.Tensor:
    """Bilinear demosaic [B, 1, H, W] -> [B, 3, H, W], as normalised convolutions.

    Each colour is the weighted mean of its own sites in the 3x3 neighbourhood (the
    classic bilinear kernels); recorded sites keep their value, and at the borders the mean
    runs over the sites inside the image.
    """
    h, w = bayer.shape[-2:]
    if h < 2 or w < 2:
        raise ValueError(f"a Bayer mosaic needs at least 2x2 pixels, got {h}x{w}")
    masks = cfa_masks(h, w, dtype=bayer.dtype, device=bayer.device)  # [3, H, W]
    k_rb = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]], dtype=bayer.dtype, device=bayer.device)
    k_g = torch.tensor([[0.0, 1.0, 0.0], [1.0, 4.0, 1.0], [0.0, 1.0, 0.0]], dtype=bayer.dtype, device=bayer.device)
    weight = torch.stack([k_rb, k_g, k_rb])[:, None]  # [3, 1, 3, 3]
    num = F.conv2d(bayer * masks, weight, padding=1, groups=3)  # [B, 3, H, W]
    den = F.conv2d(masks[None], weight, padding=1, groups=3)  # [1, 3, H, W], > 0 everywhere
    return num / den


# --- the pipeline ----------------------------------------------------------------------


def unprocess(rgb: torch.Tensor, p: CameraParams) -> torch.Tensor:
    """sRGB [B, 3, H, W] -> linear camera RGB [B, 3, H, W] in [0, 1] (before the mosaic)."""
    x = gamma_expansion(inverse_smoothstep(rgb))
    x = torch.einsum("bij,bjhw->bihw", _b(p.rgb2cam, x), x)
    gains = torch.stack([1 / p.red_gain, torch.ones_like(p.red_gain), 1 / p.blue_gain], 1) / p.rgb_gain[:, None]
    return _safe_gains(x, _b(gains, x)[:, :, None, None]).clamp(0, 1)


def process(bayer: torch.Tensor, p: CameraParams) -> torch.Tensor:
    """Raw RGGB mosaic [B, 1, H, W] -> sRGB [B, 3, H, W] in [0, 1]."""
    masks = cfa_masks(*bayer.shape[-2:], dtype=bayer.dtype, device=bayer.device)
    gains = torch.stack([p.red_gain, torch.ones_like(p.red_gain), p.blue_gain], 1) * p.rgb_gain[:, None]  # [B, 3]
    x = bayer * (_b(gains, bayer)[:, :, None, None] * masks).sum(1, keepdim=True)
    x = demosaic(x.clamp(0, 1))
    x = torch.einsum("bij,bjhw->bihw", _b(torch.linalg.inv(p.rgb2cam), x), x)
    return smoothstep(gamma_compression(x.clamp(0, 1)))


def unprocess_gray(gray: torch.Tensor, p: CameraParams) -> torch.Tensor:
    """The luminance path: sRGB [B, 1, H, W] -> linear [B, 1, H, W] in [0, 1]."""
    x = gamma_expansion(inverse_smoothstep(gray))
    return _safe_gains(x, _b(1 / p.rgb_gain, x)[:, None, None, None]).clamp(0, 1)


def process_gray(linear: torch.Tensor, p: CameraParams) -> torch.Tensor:
    x = linear * _b(p.rgb_gain, linear)[:, None, None, None]
    return smoothstep(gamma_compression(x.clamp(0, 1)))


def raw_noise(raw: torch.Tensor, shot, read, generator: torch.Generator) -> torch.Tensor:
    """Shot + read noise on a linear raw [B, C, H, W]: ``raw + N(0, shot * raw + read)``.

    ``shot`` and ``read`` are variances, a float or one per image ([B]).
    """
    shot, read = _per_image(shot, raw), _per_image(read, raw)
    n = torch.randn(raw.shape, generator=generator, device=generator.device, dtype=raw.dtype).to(raw.device)
    return raw + torch.sqrt(shot * raw.clamp(min=0) + read) * n


def camera_noise(x: torch.Tensor, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    """Camera noise on sRGB ``x`` [B, C, H, W] (C = 1 or 3); shot variance drawn in [low, high].

    Returns ``x + P(m + n) - P(m)`` (see the module docstring), not clipped.
    """
    batch, channels = x.shape[:2]
    if channels not in (1, 3):
        raise ValueError(f"camera noise needs gray or RGB images, got {channels} channels")
    p = random_camera(batch, low, high, generator, colour=channels == 3)
    if channels == 3:
        raw = mosaic(unprocess(x, p))
        forward = process
    else:
        raw = unprocess_gray(x, p)
        forward = process_gray
    noisy = raw_noise(raw, p.shot, p.read, generator)
    return x + (forward(noisy, p) - forward(raw, p))


def _safe_gains(x: torch.Tensor, gains: torch.Tensor) -> torch.Tensor:
    # Gains below 1 would dim saturated pixels into gray; fade them out above INFLECTION.
    gray = x.mean(1, keepdim=True)
    mask = ((gray - INFLECTION).clamp(min=0) / (1 - INFLECTION)) ** 2
    return x * torch.maximum(mask + (1 - mask) * gains, gains)


def _b(value: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return value.to(device=like.device, dtype=like.dtype)


def _per_image(value, x: torch.Tensor) -> torch.Tensor:
    value = torch.as_tensor(value, dtype=x.dtype).to(x.device)
    return value.reshape(()) if value.numel() == 1 else value.view(-1, 1, 1, 1)


def _rand(n: int, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=generator, device=generator.device, dtype=torch.float64).cpu()
