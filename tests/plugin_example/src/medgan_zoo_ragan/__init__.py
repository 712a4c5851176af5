"""medgan-zoo-ragan: the relativistic average GAN loss as a medgan-zoo plugin, a DCGAN trained with
it, a procedural data set and a metric (one distribution may register every kind)."""

from pydantic import Field

import medgan_zoo
from medgan_zoo import DatasetSpec, DcganFamilyConfig, GanSpec, LossSpec, MetricSpec, PhantomConfig, PluginConfig

__version__ = "0.1.0"


class RaGANConfig(PluginConfig):
    real_label: float = Field(
        default=1.0, gt=0.5, le=1.0,
        description="Discriminator target for real samples; below 1 is label smoothing.",
    )


@medgan_zoo.hookimpl
def register_losses(register):
    register(LossSpec(
        name="ragan",
        summary="Relativistic average GAN loss (Jolicoeur-Martineau, 2018).",
        role="adversarial",
        config=RaGANConfig,
        factory="medgan_zoo_ragan.loss:RelativisticAverageLoss",
    ))


class RaDcganConfig(DcganFamilyConfig):
    loss: str | None = Field(default="ragan", description="The relativistic average loss.")


@medgan_zoo.hookimpl
def register_gans(register):
    register(GanSpec(
        name="ragan-dcgan",
        summary="The DCGAN backbone trained with the relativistic average loss.",
        config=RaDcganConfig,
        factory="medgan_zoo.gans.dcgan_family:create_with_loss",
    ))


class RingsConfig(PhantomConfig):
    subjects: int = Field(default=12, ge=2, description="Subjects in the training split.")
    test_subjects: int = Field(default=4, ge=1, description="Subjects in the test split.")
    slices: int = Field(default=6, ge=1, description="Slices per subject.")


@medgan_zoo.hookimpl
def register_datasets(register):
    register(DatasetSpec(
        name="rings-phantom",
        summary="Procedural rings around a core, one volume per subject (no download).",
        modality="synthetic", organ="rings", channels=1, phantom=True,
        label_map={0: "background", 1: "ring", 2: "core"},
        config=RingsConfig,
        factory="medgan_zoo_ragan.data:load_rings",
    ))


class ClassGapConfig(PluginConfig):
    limit: int = Field(default=0, ge=0, description="Compare at most this many samples (0: all).")


@medgan_zoo.hookimpl
def register_metrics(register):
    register(MetricSpec(
        name="class-gap",
        summary="Mean gap between generated and real mask class frequencies (0: the same anatomy mix).",
        better="lower", column="class gap", quick={"limit": 64},
        config=ClassGapConfig,
        factory="medgan_zoo_ragan.metric:ClassGap",
    ))
