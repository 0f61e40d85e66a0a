"""The training loop: patches -> degradation -> model -> loss, with validation and resume.

One function, :func:`train`, driven by a :class:`TrainConfig`. The batch of each step is a
pure function of (seed, step, rank) (see :mod:`restorekit.data.pairs`), so a run killed and
resumed with ``resume=True`` ends with the same weights as one that never stopped.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from restorekit.data import ImageFolder, make_batch
from restorekit.data.folders import holdout
from restorekit.errors import RestorekitError
from restorekit.losses import get_objective
from restorekit.train import distributed
from restorekit.train.checkpoint import STABLE, load_checkpoint, save_checkpoint
from restorekit.train.config import TrainConfig
from restorekit.train.ema import EmaWeights
from restorekit.train.log import CsvLog, Progress
from restorekit.train.seeding import LEGACY, SeedScheme

BEST = "best.safetensors"


@dataclass(frozen=True)
class TrainResult:
    rundir: Path
    step: int
    best_psnr: float
    last_loss: float


def lr_at(step: int, cfg: TrainConfig) -> float:
    """The learning rate of 0-based ``step``: linear warm-up, then ``lr`` held until
    ``cfg.decay_start`` (at once for "cosine"), then a cosine down to ``lr_min`` at ``steps``."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    start = cfg.decay_start
    if step < start:
        return cfg.lr
    t = (step - start) / max(1, cfg.steps - start)
    return cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * min(1.0, t)))


def seconds_per_step(cfg: TrainConfig, probe_steps: int, clock=time.perf_counter) -> float:
    """Seconds one training step of ``cfg`` takes here: ``probe_steps`` timed after one to warm
    up, in a throw-away folder (to size a run to a time budget). ``clock``: wall time by
    default; ``time.process_time`` counts this process's CPU time instead."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        probe = cfg.replace(out=tmp, steps=probe_steps + 1, val=None, holdout=0, val_every=10**9,
                            save_every=10**9, warmup=0, schedule="wsd")
        train(probe.replace(steps=1), progress=False)
        start = clock()
        train(probe, resume=True, progress=False)
        return (clock() - start) / probe_steps


def extend_from(rundir: Path, state: dict, cfg: TrainConfig) -> dict:
    """The checkpoint a resumed run continues from: ``state`` (last.pt), unless the run is
    being extended (more ``steps``) past where its old schedule began to decay. A "wsd" run
    keeps ``stable.pt``, its state at the end of the full-rate phase; going on from there, the
    longer run is the one that would have been trained had it been planned that long.
    """
    old = TrainConfig.from_dict({**state["config"], "data": tuple(state["config"]["data"])})
    if cfg.steps == old.steps or state["step"] <= old.decay_start:
        return state
    if cfg.schedule != "wsd" or old.schedule != "wsd":
        print(f"warning: {rundir} is past the start of its {old.schedule} schedule's decay; stretched to "
              f"{cfg.steps} steps, its learning rate rises again (a \"wsd\" run extends exactly)", file=sys.stderr)
        return state
    stable = load_checkpoint(rundir, STABLE)
    if stable["step"] > cfg.decay_start:
        raise RestorekitError(f"{rundir}: its stable phase ended at step {stable['step']}, after the new "
                              f"schedule's ({cfg.decay_start}); a shorter extension cannot go back")
    print(f"extending {rundir} to {cfg.steps} steps: from step {stable['step']} ({STABLE}), where the "
          "learning rate began to decay", file=sys.stderr)
    return {**stable, "best": state["best"]}


class Validator:
    """PSNR on a fixed set of degraded images, under the evaluation protocol (8-bit output)."""

    def __init__(self, images: ImageFolder, spec: str, channels: int, limit: int | None, seeds: "SeedScheme"):
        from restorekit.degradations import degrade, paper_degrade, parse_spec

        degradation = parse_spec(spec)
        n = len(images) if limit is None else min(limit, len(images))
        self.clean = [images[i][..., 0] if channels == 1 else images[i] for i in range(n)]
        lo, hi = degradation.noise_range or (None, None)
        fixed = degradation.is_gaussian and lo == hi
        if fixed:  # the published tables' noise: comparable with papers
            self.noisy = [paper_degrade(c, degradation) for c in self.clean]
        else:
            self.noisy = [degrade(c, degradation, seed=seeds.validation(i)) for i, c in enumerate(self.clean)]
        # The level the model is told: a fixed Gaussian sigma; else each image's own, the RMS
        # of its noise, as training tells it. The curve then follows the network's quality,
        # not how far the one level stored for blind use is from each image's: how well
        # blind use finds the level is measured apart (benchmarks/real_level.py).
        self.sigma = [lo if fixed else float(np.sqrt(np.mean((n - c) ** 2))) for c, n in zip(self.clean, self.noisy)]

    def __call__(self, model: torch.nn.Module) -> float:
        """Mean PSNR of ``model`` where it is (never moved), in eval mode for the call."""
        from restorekit.infer import denoise
        from restorekit.metrics import psnr, quantize8

        was_training = model.training
        scores = [
            psnr(quantize8(c), quantize8(denoise(n, model, sigma=s)))
            for c, n, s in zip(self.clean, self.noisy, self.sigma)
        ]
        model.train(was_training)
        return float(np.mean(scores))


def _build_model(cfg: TrainConfig) -> torch.nn.Module:
    from restorekit.models import create_model, load_model

    if cfg.init_from:
        from restorekit.models.adapt import adapt_channels, resize

        model = load_model(cfg.init_from)
        if cfg.arch != model.arch:
            raise RestorekitError(f"{cfg.init_from} is a {model.arch} model; the config asks for {cfg.arch}")
        return resize(adapt_channels(model, cfg.channels), cfg.arch_args)
    # Initialise from the config's seed without touching the global RNG of the caller.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        return create_model(cfg.arch, channels=cfg.channels, **cfg.arch_args)


class _EstimatedSigma:
    """Each noisy training image's estimated noise level, computed once (self-supervised)."""

    def __init__(self, images: ImageFolder):
        self.images, self.cache = images, {}

    def __call__(self, index: int) -> float:
        if index not in self.cache:
            from restorekit.estimate import estimate_sigma

            image = self.images[index]
            self.cache[index] = estimate_sigma(image[..., 0] if image.shape[-1] == 1 else image)
        return self.cache[index]


def _with_defaults(arch: str, arch_args: dict) -> dict:
    """A checkpoint's architecture arguments with the defaults of any added since it was saved."""
    from restorekit.models import create_model

    try:
        return create_model(arch, **arch_args).arch_args
    except RestorekitError:
        return arch_args


def _freeze(model: torch.nn.Module, layers: int) -> None:
    """Freeze the first ``layers`` convolutions (fine-tuning keeps the low-level filters)."""
    convs = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    for conv in convs[:layers]:
        conv.requires_grad_(False)


BLIND_SAMPLE_BATCHES = 8  # batches drawn to measure a non-Gaussian noise's level


def blind_sigma(images, degradation, cfg: TrainConfig, seeds: "SeedScheme") -> float | None:
    """The level a conditioned model trained on non-Gaussian noise is told in blind use.

    Training tells such a model the RMS of the noise added to each patch. The Gaussian
    estimator cannot measure that at use: on 10% salt-and-pepper it reads 3 to 36 grey
    levels where the RMS is about 46, and the model, told the wrong level, fails. So the run
    measures the median RMS over a fixed sample of training batches (its own generator: the
    training draws do not change) and stores it with the weights as ``blind_sigma``, which
    ``restorekit.denoise`` takes when no sigma is given. None for Gaussian noise, whose level
    the estimator does measure.
    """
    if degradation.is_gaussian:
        return None
    sample = [make_batch(images, degradation, batch_size=cfg.batch_size, patch_size=cfg.patch_size,
                         generator=seeds.blind_sample(k)).sigma for k in range(1, BLIND_SAMPLE_BATCHES + 1)]
    return round(float(torch.cat(sample).median()), 6)


def _save_best(model, rundir: Path, cfg: TrainConfig, step: int, val_psnr: float, blind: float | None = None) -> None:
    from restorekit.models.weights import save_weights

    meta = {
        "training": {
            "data": list(cfg.data), "noise": cfg.noise, "step": step,
            "patches_seen": step * cfg.batch_size, "config": cfg.to_dict(),
        },
        "validation": {
            "data": cfg.val or (f"{cfg.holdout} training images held out" if cfg.holdout else None),
            "noise": cfg.val_noise or cfg.noise,
            "psnr": None if math.isnan(val_psnr) else round(val_psnr, 4),
        },
    }
    if blind is not None:
        meta["blind_sigma"] = blind
    save_weights(rundir / BEST, model, meta)


RUN_FILES = ("last.pt", BEST, "log.csv", "config.json")


def check_rundir(rundir: Path, *, resume: bool, overwrite: bool) -> None:
    """Refuse to start a new run over an existing one: its weights, log and config would be lost."""
    if resume and overwrite:
        raise RestorekitError("--resume continues a run and --overwrite replaces it: give one")
    if resume or overwrite:
        return
    found = [name for name in RUN_FILES if (rundir / name).exists()]
    if found:
        raise RestorekitError(f"{rundir} already holds a run ({', '.join(found)}); pass --resume to continue it, "
                              "--overwrite to replace it, or use another --out")


def train(cfg: TrainConfig, *, resume: bool = False, overwrite: bool = False, progress: bool = True) -> TrainResult:
    from restorekit.infer import check_device

    check_device(cfg.device)
    rundir = Path(cfg.out)
    check_rundir(rundir, resume=resume, overwrite=overwrite)
    d = distributed.setup(cfg.device)
    device = torch.device(cfg.device if cfg.device != "cuda" else f"cuda:{d.local_rank}")
    rundir.mkdir(parents=True, exist_ok=True)

    model = _build_model(cfg)
    start, best, scheme = 0, -math.inf, SeedScheme(cfg.seed)
    state = load_checkpoint(rundir) if resume else None
    if state is not None:
        state = extend_from(rundir, state, cfg)
        if state["config"]["arch"] != cfg.arch or _with_defaults(cfg.arch, state["arch_args"]) != model.arch_args:
            raise RestorekitError(f"{rundir} holds a different model ({state['arch']}); use a new --out")
        model.load_state_dict(state["model"])
        start, best = state["step"], state["best"]
        scheme = SeedScheme(cfg.seed, state.get("seed_scheme", LEGACY))
    if start >= cfg.steps:
        raise RestorekitError(f"{rundir} already reached step {start} of {cfg.steps}; raise --steps to go on")

    # The model reaches its device, and its frozen layers are fixed, before the optimizer
    # is built (its state then lands where the parameters are) and before DDP wraps it
    # (DDP registers the parameters that need gradients once, at wrapping).
    # channels-last: the faster layout for these convolutions on GPUs and on the CPU too
    # (oneDNN's blocked kernels; `make bench`: a training step 10-15 % faster, fp32 or bf16)
    model.to(device, memory_format=torch.channels_last)
    _freeze(model, cfg.freeze)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)  # frozen weights get no grad: Adam skips them
    # The weights the run keeps (validates, saves as best): the model's, or their moving average,
    # which starts where the model is when a run without one is resumed with one
    ema = EmaWeights(model, cfg.ema) if cfg.ema else None
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])  # cast to the parameters' device by torch
        if ema is not None and "ema" in state:
            ema.load_state_dict(state["ema"])
        del state
    kept = ema.model if ema is not None else model
    net = distributed.wrap(model, d, cfg.device)
    from restorekit.degradations import parse_spec

    degradation = parse_spec(cfg.noise)
    objective = get_objective(cfg.loss, cfg.self_supervised)
    held = holdout(cfg.data, cfg.holdout)
    images = ImageFolder(cfg.data, channels=cfg.channels, cache_mb=cfg.cache_mb, min_size=cfg.patch_size, exclude=held)
    image_sigma = _EstimatedSigma(images) if (cfg.self_supervised and model.conditioned) else None
    blind = (blind_sigma(images, degradation, cfg, scheme)
             if (model.conditioned and not cfg.self_supervised and d.main) else None)
    val_images = (ImageFolder([cfg.val], channels=cfg.channels, cache_mb=0) if cfg.val
                  else ImageFolder(held, channels=cfg.channels, cache_mb=0) if held else None)
    validate = (Validator(val_images, cfg.val_noise or cfg.noise, cfg.channels, cfg.val_limit, scheme)
                if (val_images is not None and d.main) else None)
    log = CsvLog(rundir / "log.csv", resume_step=start) if d.main else None
    if d.main:
        (rundir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))

    bar = Progress(cfg.steps, start, enabled=progress and d.main)
    use_amp = cfg.precision == "bf16" or (cfg.precision == "auto" and device.type == "cuda")
    loss_sum, loss_n, t_last, val_psnr, val_raw = 0.0, 0, time.time(), float("nan"), None
    t_start, cpu_start = time.time(), time.process_time()
    wall_before, cpu_before = log.spent if log is not None else (0.0, 0.0)  # time of the run before a resume
    net.train()
    step = start
    try:
        for step in range(start + 1, cfg.steps + 1):
            generator = scheme.step(step, d.rank)
            on_gpu = device.type == "cuda"  # noise drawn on the GPU there (SeedScheme.noise)
            batch = make_batch(images, degradation, batch_size=cfg.batch_size, patch_size=cfg.patch_size,
                               generator=generator, image_sigma=image_sigma, device=device if on_gpu else None,
                               noise_generator=scheme.noise(step, d.rank, device) if on_gpu else None).to(device)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step - 1, cfg)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                loss = objective(lambda x, s: net(x, s if model.conditioned else None).float(), batch, generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if ema is not None:
                ema.update(model)
            loss_sum += loss.item()
            loss_n += 1

            validate_now = validate is not None and (step % cfg.val_every == 0 or step == cfg.steps)
            if validate_now:
                val_psnr = validate(kept)
                val_raw = validate(model) if ema is not None else None  # what the average adds
                if val_psnr > best:
                    best = val_psnr
                    _save_best(kept, rundir, cfg, step, val_psnr, blind)
            if step % cfg.save_every == 0 or step == cfg.steps or validate_now:
                mean_loss = distributed.mean(loss_sum / loss_n, d, device)
                if d.main:
                    elapsed = time.time() - t_last
                    rate = loss_n * cfg.batch_size * d.world / max(elapsed, 1e-9)
                    log.write(step=step, patches=step * cfg.batch_size * d.world, loss=f"{mean_loss:.6f}",
                              lr=f"{lr_at(step - 1, cfg):.3g}", val_psnr=f"{val_psnr:.3f}" if validate_now else "",
                              patches_per_s=f"{rate:.1f}", elapsed_s=f"{wall_before + time.time() - t_start:.1f}",
                              cpu_s=f"{cpu_before + time.process_time() - cpu_start:.1f}",
                              val_raw=f"{val_raw:.3f}" if validate_now and ema is not None else "")
                    save_checkpoint(rundir, model=model, optimizer=optimizer, step=step, best=best, config=cfg.to_dict(),
                                    seed_scheme=scheme.name, ema=ema)
                loss_sum, loss_n, t_last = 0.0, 0, time.time()
            if cfg.schedule == "wsd" and step == cfg.decay_start and d.main:  # what an extension goes on from
                save_checkpoint(rundir, model=model, optimizer=optimizer, step=step, best=best, config=cfg.to_dict(),
                                seed_scheme=scheme.name, ema=ema, name=STABLE)
            rate = (step - start) * cfg.batch_size * d.world / max(time.time() - t_start, 1e-9)
            info = f"loss {loss.item():.4f}  {rate:.0f} patches/s"
            if validate is not None and not math.isnan(val_psnr):  # nan: not validated since the (re)start
                info += f"  val {val_psnr:.2f} dB  best {best:.2f} dB"
            bar.update(step, info)
    finally:
        bar.close()
    if validate is None and d.main:  # no validation set: the last weights are the best we know
        _save_best(kept, rundir, cfg, step, float("nan"), blind)
    distributed.barrier(d)
    distributed.teardown(d)
    return TrainResult(rundir=rundir, step=step, best_psnr=best, last_loss=loss.item())
