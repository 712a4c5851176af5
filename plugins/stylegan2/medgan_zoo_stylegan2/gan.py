"""StyleGAN2 as a medgan-zoo GAN: non-saturating logistic loss, lazy R1 and path-length
regularisation (in fp32 under bf16 autocast), style mixing, ADA or DiffAugment, generator EMA
(from the engine) and truncated sampling."""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor, nn

from medgan_zoo.gans.base import GAN, StepContext

from .ada import AdaptiveAugment
from .config import StyleGan2Config
from .networks import Discriminator, Generator
from .ops import fp32
from .regularisers import path_lengths, r1_penalty


class TrainingState(nn.Module):
    """What training carries between steps besides the networks: the running mean path length,
    the ADA pipe (its p) and the last regularisation values (logged every step)."""

    pl_mean: Tensor
    last_r1: Tensor
    last_pl: Tensor
    last_r_t: Tensor

    def __init__(self, config: StyleGan2Config):
        super().__init__()
        self.register_buffer("pl_mean", torch.zeros(()))
        self.register_buffer("last_r1", torch.zeros(()))
        self.register_buffer("last_pl", torch.zeros(()))
        self.register_buffer("last_r_t", torch.zeros(()))
        self.ada = (AdaptiveAugment(config.image_channels, config.ada_target, config.ada_kimg, config.ada_interval,
                                    config.batch_size, config.ada_flip_lr) if config.ada else None)


class StyleGan2(GAN):
    """StyleGAN2 config F (Karras et al. 2020) generating image + one-hot mask channels jointly.

    Under torchrun each rank takes every ``world``-th sample of the global batch, which keeps the
    minibatch-stddev groups (strided over the batch) those of one process; ADA's sign statistics
    and the path-length mean are summed over the ranks, so p and the mean stay identical."""

    config: StyleGan2Config
    class_weights: Tensor  # class-conditional: each class's sampling proportion (a non-persistent buffer)
    generator: Generator
    discriminator: Discriminator | None

    def __init__(self, config: StyleGan2Config, with_discriminator: bool = True):
        super().__init__(config, with_discriminator)
        self.generator = Generator(config)
        if with_discriminator:
            self.discriminator = Discriminator(config)
            self.training_state: TrainingState | None = TrainingState(config)
        else:
            self.training_state = None
        self.images_seen = 0
        self.class_conditional = config.class_conditional
        if self.class_conditional:
            self.per_sample_options = ("classes",)
            self.register_buffer("class_weights", torch.tensor(config.class_weights()), persistent=False)
        self.enable_ema()
        # NVIDIA's logistic loss (stylegan2-ada-pytorch training/loss.py: softplus(D(G(z))) +
        # softplus(-D(x)) for D, non-saturating softplus(-D(G(z))) for G) is the registered 'minimax'
        from medgan_zoo import create_loss

        self.adversarial = create_loss("minimax")

    # -- sampling -------------------------------------------------------------------------------

    takes_sample_seeds = True

    def generate(  # type: ignore[override]  # StyleGAN2's sampling options
        self, z: Tensor, generator: nn.Module | None = None, truncation: float = 1.0, noise: str = "random",
        seeds: Tensor | None = None, classes: Tensor | None = None,
    ) -> Tensor:
        """Joint output for latents ``z``: w is pulled toward the tracked mean w by ``truncation``
        (1: none, 0: the mean image; above 1 extrapolates). Layer ``noise``: "random" (NVIDIA's
        metrics; each sample's maps drawn from its own seed in ``seeds``, else from the global
        generator) or "const" (the maps saved with the model: one fixed texture for every sample)."""
        if not isinstance(truncation, (int, float)) or math.isnan(truncation) or truncation < 0:
            raise ValueError(f"truncation must be a number >= 0 (0: the mean image, 1: no truncation), "
                             f"got {truncation!r}")
        if noise not in ("random", "const"):
            raise ValueError(f"noise must be 'random' or 'const', got {noise!r}")
        if (classes is None) == self.class_conditional:
            raise ValueError("this model is class-conditional: pass classes=..." if self.class_conditional
                             else "this model is unconditional: it takes no classes")
        G = generator or self.generator
        maps: str | list[Tensor] = noise
        if noise == "random" and seeds is not None:
            maps = self.noise_maps(seeds, z.device)
        return G(z, truncation=float(truncation), noise=maps, classes=classes)

    def noise_maps(self, seeds: Tensor, device: torch.device) -> list[Tensor]:
        """One noise map per synthesis layer [N, 1, r, r], sample i's drawn from its seed alone."""
        from medgan_zoo.sampling import sample_seed

        sizes = self.generator.synthesis.noise_resolutions
        rows: list[list[Tensor]] = [[] for _ in sizes]
        for seed in seeds.tolist():
            rng = torch.Generator().manual_seed(sample_seed(seed, 1))  # 1: not the stream z came from
            for layer, size in enumerate(sizes):
                rows[layer].append(torch.randn(1, size, size, generator=rng))
        return [torch.stack(layer).to(device) for layer in rows]

    # -- training -------------------------------------------------------------------------------

    def networks(self) -> Iterator[tuple[str, nn.Module]]:
        yield from super().networks()
        if self.training_state is not None:
            yield "training_state", self.training_state

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        assert self.discriminator is not None, "training needs the discriminator"
        fused = {"fused": True} if next(self.discriminator.parameters()).is_cuda else {}

        def adam(params, lr: float, interval: int, regularised: bool) -> torch.optim.Optimizer:
            # lazy regularisation: the regulariser's extra steps are compensated as in the paper
            ratio = interval / (interval + 1) if regularised else 1.0
            return torch.optim.Adam(params, lr=lr * ratio, betas=(c.betas[0] ** ratio, c.betas[1] ** ratio),
                                    eps=1e-8, **fused)

        self.optimizers = {
            "generator": adam(self.generator.parameters(), c.lr, c.pl_interval, c.pl_weight > 0),
            "discriminator": adam(self.discriminator.parameters(), c.lr_d, c.r1_interval, c.r1 > 0),
        }
        return self.optimizers

    def _augment(self, ctx: StepContext, x: Tensor) -> Tensor:
        assert self.training_state is not None
        if self.training_state.ada is not None:
            return self.training_state.ada(x, ctx)
        return ctx.diffaugment(x)

    def _fake_classes(self, ctx: StepContext, n: int) -> Tensor | None:
        if not self.class_conditional:
            return None
        from medgan_zoo.gans.conditioning import draw_classes

        return draw_classes(ctx, n, self.class_weights)

    def _ws(self, ctx: StepContext, n: int, track: bool = False, classes: Tensor | None = None) -> Tensor:
        """Per-layer w for ``n`` samples (of ``classes``, when conditional); with probability
        ``style_mixing`` a sample switches to a second latent's w (same class) from a random layer on."""
        G, c = self.generator, self.config
        ws = G.broadcast(G.mapping(ctx.randn(n, c.latent_dim), track=track, classes=classes))
        if c.style_mixing > 0:
            w2 = G.mapping(ctx.randn(n, c.latent_dim), classes=classes)
            cutoff = ctx.randint(1, G.num_ws, n)
            mixed = ctx.rand(n) < c.style_mixing
            cutoff = torch.where(mixed, cutoff, torch.full_like(cutoff, G.num_ws))
            layer = torch.arange(G.num_ws, device=ctx.device)
            ws = torch.where((layer[None, :] < cutoff[:, None])[:, :, None], ws, w2[:, None, :])
        return ws

    def r1(self, ctx: StepContext, real: Tensor, classes: Tensor | None = None) -> Tensor:
        """Mean R1 penalty: the gradient with respect to the reals, through the augmentation (as
        NVIDIA's ADA), in fp32 whatever autocast is active (a small difference of large gradients).
        Calls ``forward`` directly, so a ``torch.compile``d discriminator (which cannot be
        differentiated twice) runs eagerly here."""
        D = self.discriminator
        assert D is not None
        with fp32(ctx.device):
            return r1_penalty(lambda x: D.forward(self._augment(ctx, x), classes), real.float()).mean()

    def path_length(self, ctx: StepContext, n: int) -> Tensor:
        """Path-length penalty (|J^T y| - a)^2 on ``n`` fresh samples, in fp32; updates the running
        mean a."""
        state = self.training_state
        assert state is not None
        synthesis = self.generator.synthesis
        with fp32(ctx.device):
            ws = self._ws(ctx, n, classes=self._fake_classes(ctx, n))
            size = self.config.resolution
            noise = ctx.randn(n, self.output_channels, size, size) / size
            lengths = path_lengths(lambda w: synthesis.forward(w, noise="random", rng=ctx), ws, noise)
            state.pl_mean.copy_(state.pl_mean.lerp(ctx.batch_mean(lengths), self.config.pl_decay))
            return (lengths - state.pl_mean).square().mean()

    def update_ema(self, decay: float | None = None) -> None:
        """EMA with NVIDIA's ramp-up: half-life min(ema_kimg * 1000, images seen * ema_rampup)."""
        c = self.config
        if decay is None and c.ema_kimg is not None and c.ema_rampup is not None and self.images_seen > 0:
            half_life = min(c.ema_kimg * 1000, self.images_seen * c.ema_rampup)
            decay = 0.5 ** (c.batch_size / half_life)
        super().update_ema(decay)

    def _parts(self, n: int) -> list[int]:
        """Sizes of the micro-batches that make up ``n`` samples (gradients are accumulated)."""
        m = self.config.micro_batch or n
        return [m] * (n // m) + ([n % m] if n % m else [])

    def distributed_problem(self, world: int) -> str | None:
        c = self.config
        n = c.batch_size // world
        n_pl = max(c.batch_size // c.pl_batch_shrink, 1)
        if c.micro_batch is None and n % c.mbstd_group:
            return (f"each rank's {n} samples do not fill minibatch-stddev groups of {c.mbstd_group}, so D would "
                    f"compare other samples than on one process; use a world size that leaves a multiple of "
                    f"{c.mbstd_group} per rank, or set mbstd_group")
        if c.pl_weight > 0 and n_pl % world:
            return (f"the path-length batch of {n_pl} (batch_size / pl_batch_shrink) cannot be split over {world} "
                    "ranks; choose a batch_size or pl_batch_shrink that allows it")
        return None

    def train_step(self, ctx: StepContext) -> dict[str, Tensor]:
        c = self.config
        G, D, state = self.generator, self.discriminator, self.training_state
        assert D is not None and state is not None
        opt_g, opt_d = self.optimizers["generator"], self.optimizers["discriminator"]
        self.images_seen = ctx.step * c.batch_size  # the engine's step count, so a resumed run continues the ramp
        n = c.batch_size // ctx.world  # this rank's share; every loss is a mean over it
        zero = torch.zeros((), device=ctx.device)

        # discriminator: logistic loss on reals and fakes
        D.requires_grad_(True)
        reals = ctx.batch().split(self._parts(n))
        real_classes = ctx.batch_classes()
        labels = real_classes.split(self._parts(n)) if real_classes is not None else [None] * len(reals)
        opt_d.zero_grad(set_to_none=True)
        loss_d = zero
        for real, y_real in zip(reals, labels, strict=True):
            k = len(real)
            y_fake = self._fake_classes(ctx, k)
            with torch.no_grad(), ctx.autocast():
                fake = G.synthesis(self._ws(ctx, k, track=True, classes=y_fake), noise="random", rng=ctx)
            with ctx.autocast():
                real_logits = D(self._augment(ctx, real), y_real)
                fake_logits = D(self._augment(ctx, fake), y_fake)
                loss = self.adversarial.discriminator_loss(real_logits, fake_logits)
            (loss * (k / n)).backward()
            loss_d = loss_d + loss.detach() * (k / n)
            if state.ada is not None:
                state.ada.accumulate(real_logits, ctx)
        opt_d.step()
        if state.ada is not None and ctx.step % c.ada_interval == 0:
            state.last_r_t.copy_(state.ada.adjust())

        # lazy R1 on the reals through the augmentation, in fp32
        if c.r1 > 0 and ctx.step % c.r1_interval == 0:
            opt_d.zero_grad(set_to_none=True)
            r1 = zero
            for real, y_real in zip(reals, labels, strict=True):
                penalty = self.r1(ctx, real, y_real) * (len(real) / n)
                (penalty * (c.r1 / 2) * c.r1_interval).backward()
                r1 = r1 + penalty.detach()
            opt_d.step()
            state.last_r1.copy_(r1)

        # generator: non-saturating logistic loss
        D.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        loss_g = zero
        for k in self._parts(n):
            y_fake = self._fake_classes(ctx, k)
            with ctx.autocast():
                fake = G.synthesis(self._ws(ctx, k, track=True, classes=y_fake), noise="random", rng=ctx)
                loss = self.adversarial.generator_loss(D(self._augment(ctx, fake), y_fake))
            (loss * (k / n)).backward()
            loss_g = loss_g + loss.detach() * (k / n)
        opt_g.step()

        # lazy path-length regularisation, in fp32
        if c.pl_weight > 0 and ctx.step % c.pl_interval == 0:
            opt_g.zero_grad(set_to_none=True)
            n_pl = max(c.batch_size // c.pl_batch_shrink, 1) // ctx.world
            pl = zero
            for k in self._parts(n_pl):
                penalty = self.path_length(ctx, k) * (k / n_pl)
                (penalty * c.pl_weight * c.pl_interval).backward()
                pl = pl + penalty.detach()
            opt_g.step()
            state.last_pl.copy_(pl)
        D.requires_grad_(True)

        logs = {"loss_d": loss_d, "loss_g": loss_g, "r1": state.last_r1.clone(),
                "path_length": state.last_pl.clone(), "pl_mean": state.pl_mean.clone()}
        if state.ada is not None:
            logs["ada_p"], logs["ada_r_t"] = state.ada.p.clone(), state.last_r_t.clone()
        return logs


def create_stylegan2(config: StyleGan2Config, with_discriminator: bool = True) -> StyleGan2:
    return StyleGan2(config, with_discriminator)
