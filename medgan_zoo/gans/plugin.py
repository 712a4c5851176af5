"""The DCGAN family, registered through the project's own ``medgan_zoo`` entry point."""

from __future__ import annotations

from ..hookspecs import Register, hookimpl
from ..specs import GanSpec
from . import dcgan_configs as configs

_IMPL = "medgan_zoo.gans.dcgan_family"
_RESOLUTIONS = (32, 64, 128, 256)
_FAMILY = (
    ("dcgan", configs.DcganConfig, "create_dcgan",
     "DCGAN (Radford et al. 2016): minimax loss on the up/strided-convolution backbone."),
    ("lsgan", configs.LsganConfig, "create_lsgan",
     "LSGAN (Mao et al. 2017): least-squares loss on the DCGAN backbone."),
    ("wgan", configs.WganConfig, "create_wgan",
     "WGAN (Arjovsky et al. 2017): Wasserstein critic with weight clipping."),
    ("wgan-gp", configs.WganGpConfig, "create_wgan_gp",
     "WGAN-GP (Gulrajani et al. 2017): Wasserstein critic with a gradient penalty."),
    ("hingegan", configs.HingeganConfig, "create_hingegan",
     "HingeGAN (Lim & Ye 2017): hinge loss, spectrally normalised discriminator."),
)


@hookimpl
def register_gans(register: Register) -> None:
    for name, config, factory, summary in _FAMILY:
        register(GanSpec(name=name, config=config, factory=f"{_IMPL}:{factory}", resolutions=_RESOLUTIONS,
                         summary=summary))
