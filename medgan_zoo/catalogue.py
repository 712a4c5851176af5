"""The model registry (catalogue): one card per GAN/data-set pair, shipped inside the wheel.

Cards live in the repository's top-level ``registry/`` folder as YAML; the wheel carries them as
``medgan_zoo/_registry_cards`` (see pyproject.toml). Each is validated by :class:`ModelCard`; a
published card pins a Hub repository to a full commit hash and lists the sha256 of every file, so a
download is verified before any tensor is read.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import MedganZooError, UnknownNameError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


class CatalogueError(MedganZooError):
    """A card that does not validate, or a catalogue name that cannot be loaded."""


class MeasuredMetric(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Metric plugin name, e.g. 'fid' or 'dice'.")
    value: float
    std: float | None = None
    how: str = Field(description="Protocol: samples, split, weights/recipe, scale, command.")
    medgan_zoo_version: str


class PaperNumbers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fid: float | None = None
    dice: float | None = None
    source: str


class HubFiles(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repo_id: str = Field(pattern=r"^[\w.-]+/[\w.-]+$", description="Hugging Face Hub repository, org/name.")
    revision: str | None = Field(default=None, description="Full 40-hex commit hash (never a branch).")
    sha256: dict[str, str] = Field(default_factory=dict, description="File name -> sha256 of its content.")

    @field_validator("revision")
    @classmethod
    def _full_commit(cls, value: str | None) -> str | None:
        if value is not None and not _COMMIT.match(value):
            raise ValueError(f"revision must be a full 40-hex commit hash, not {value!r} (branches move)")
        return value

    @field_validator("sha256")
    @classmethod
    def _hashes(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [name for name, digest in value.items() if not _SHA256.match(digest)]
        if bad:
            raise ValueError(f"sha256 of {bad} are not 64 lower-case hex digits")
        return value


class ModelCard(BaseModel):
    """One GAN/data-set pair of the catalogue."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", description="Catalogue name, e.g. 'spade-idrid'.")
    gan: str
    plugin: str = Field(description="Distribution that provides the GAN, e.g. medgan-zoo-stylegan2.")
    dataset: str
    resolution: int = Field(ge=8)
    channels: int = Field(ge=1)
    label_map: dict[int, str]
    status: Literal["published", "not-published"]
    hub: HubFiles
    training: dict[str, Any] = Field(description="The command and config that produce the checkpoint.")
    metrics: list[MeasuredMetric] = Field(default_factory=list)
    paper: PaperNumbers | None = None
    license: str = Field(description="Licence of the weights.")
    data_terms: str = Field(description="Terms of the data set the model was trained on.")
    citation: str

    @model_validator(mode="after")
    def _published_means_pinned(self) -> ModelCard:
        if self.status == "published":
            missing = [f for f in ("config.json", "model.safetensors") if f not in self.hub.sha256]
            if self.hub.revision is None or missing:
                raise ValueError("a published card needs hub.revision (a commit hash) and the sha256 of "
                                 f"config.json and model.safetensors (missing: {missing or 'revision'})")
        if not self.name.startswith(f"{self.gan}-"):
            raise ValueError(f"name {self.name!r} should read GAN-DATASET, starting with {self.gan!r}")
        return self

    @property
    def train_command(self) -> str:
        default = f"medgan-zoo train {self.gan} --dataset {self.dataset} --out runs/{self.name}"
        return str(self.training.get("command", default))


def cards_folder() -> Path:
    """Where the cards are: inside the installed package, or ``registry/`` of a source checkout."""
    packaged = resources.files("medgan_zoo") / "_registry_cards"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[1] / "registry"


def read_card(path: Path) -> ModelCard:
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
        return ModelCard.model_validate(data)
    except (ValidationError, yaml.YAMLError, ValueError) as exc:
        from .specs import describe_validation_error

        detail = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
        raise CatalogueError(f"invalid model card {path}: {detail}") from None


@lru_cache(maxsize=2)
def _scan(folder: str) -> tuple[dict[str, ModelCard], dict[str, str]]:
    """(the cards that validate, name -> why for those that do not): one broken card never hides the rest."""
    cards: dict[str, ModelCard] = {}
    broken: dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            card = read_card(path)
            if card.name != path.stem:
                raise CatalogueError(f"model card {path} is named {card.name!r}; the file must be {card.name}.yaml")
        except CatalogueError as exc:
            broken[path.stem] = str(exc)
            continue
        cards[card.name] = card
    return cards, broken


CARDS_ENV = "MEDGAN_ZOO_CARDS"


def _folders() -> list[str]:
    import os

    extra = os.environ.get(CARDS_ENV)
    return [str(cards_folder())] + ([str(Path(extra).expanduser())] if extra else [])


def _all() -> tuple[dict[str, ModelCard], dict[str, str]]:
    shipped, *more = _folders()
    cards, broken = dict(_scan(shipped)[0]), dict(_scan(shipped)[1])
    for folder in more:
        found, bad = _scan(folder)
        for name, card in found.items():
            if name in cards:  # the shipped card stays; the lab's is listed as broken, with why
                broken[name] = f"card {name!r} in {folder} ({CARDS_ENV}) clashes with a shipped card: rename it"
            else:
                cards[name] = card
        broken.update({name: why for name, why in bad.items() if name not in cards})
    return cards, {name: why.strip().splitlines()[0] for name, why in broken.items()}


def catalogue() -> dict[str, ModelCard]:
    """Every valid card, by name: the shipped ones plus those in ``$MEDGAN_ZOO_CARDS`` (a lab's
    own); :func:`broken_cards` lists the ones that do not validate or clash with a shipped one."""
    return _all()[0]


def broken_cards() -> dict[str, str]:
    """name -> why (one line), for every card that cannot be used; none hides a valid card."""
    return _all()[1]


def list_models(pattern: str = "*") -> list[str]:
    """Catalogue names matching an fnmatch ``pattern``, e.g. ``list_models("*-acdc")``."""
    return sorted(name for name in catalogue() if fnmatch.fnmatchcase(name, pattern))


def get_card(name: str) -> ModelCard:
    cards, broken = _all()
    if name not in cards and name in broken:
        raise CatalogueError(broken[name])
    if name not in cards:
        close = difflib.get_close_matches(name, list(cards), n=3, cutoff=0.5)
        raise UnknownNameError("model", name, close, "`medgan-zoo models` lists the catalogue")
    return cards[name]
