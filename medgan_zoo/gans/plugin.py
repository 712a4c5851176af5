"""The DCGAN family, registered through the project's own ``medgan_zoo`` entry point."""

from __future__ import annotations

from ..hookspecs import Register, hookimpl
from ..specs import GanSpec
from . import dcgan_configs as configs

_IMPL = "medgan_zoo.gans.dcgan_family"
_RESOLUTIONS = (32, 64, 128, 256)


@hookimpl
def register_gans(register: Register) -> None:
    register(GanSpec(
        name="dcgan", config=configs.DcganConfig, factory=f"{_IMPL}:create_dcgan",
        resolutions=_RESOLUTIONS,
        summary="DCGAN (Radford et al. 2016): minimax loss on the up/strided-convolution backbone.",
    ))
    register(GanSpec(
        name="lsgan", config=configs.LsganConfig, factory=f"{_IMPL}:create_lsgan",
        resolutions=_RESOLUTIONS,
        summary="LSGAN (Mao et al. 2017): least-squares loss on the DCGAN backbone.",
    ))
    register(GanSpec(
        name="wgan", config=configs.WganConfig, factory=f"{_IMPL}:create_wgan",
        resolutions=_RESOLUTIONS,
        summary="WGAN (Arjovsky et al. 2017): Wasserstein critic with weight clipping.",
    ))
    register(GanSpec(
        name="wgan-gp", config=configs.WganGpConfig, factory=f"{_IMPL}:create_wgan_gp",
        resolutions=_RESOLUTIONS,
        summary="WGAN-GP (Gulrajani et al. 2017): Wasserstein critic with a gradient penalty.",
    ))
    register(GanSpec(
        name="hingegan", config=configs.HingeganConfig, factory=f"{_IMPL}:create_hingegan",
        resolutions=_RESOLUTIONS,
        summary="HingeGAN (Lim & Ye 2017): hinge loss, spectrally normalised discriminator.",
    ))
