"""The registry with in-test plugins: registration, and every way a plugin can be broken."""

from __future__ import annotations

import types

import pytest

from medgan_zoo import (
    ConfigError,
    DatasetSpec,
    GanConfig,
    GanSpec,
    LossSpec,
    MetricSpec,
    PluginConfig,
    PluginError,
    UnknownNameError,
    hookimpl,
)
from medgan_zoo.registry import PluginSource, Registry


def make_plugin(**hooks) -> types.ModuleType:
    """An in-test plugin: a module object whose attributes are hook implementations."""
    module = types.ModuleType("in_test_plugin")
    vars(module).update(hooks)
    return module


class Config(GanConfig):
    width: int = 64


def build(config):
    return ("built", config.width)


def gan(name: str, **extra) -> GanSpec:
    return GanSpec(name=name, summary=f"The {name} GAN.", factory=build, config=Config, **extra)


def gans_plugin(*names: str, **extra):
    @hookimpl
    def register_gans(register):
        for name in names:
            register(gan(name, **extra))

    return make_plugin(register_gans=register_gans)


def test_register_gans_records_spec_with_origin(load):
    registry = load((gans_plugin("toy"), "medgan-zoo-toy", "2.3"))
    spec = registry.gans["toy"]
    assert spec.origin.distribution == "medgan-zoo-toy"
    assert spec.origin.version == "2.3"
    assert registry.problems == ()
    assert spec.create(width=8) == ("built", 8)


def test_register_each_kind(load):
    @hookimpl
    def register_losses(register):
        register(LossSpec(name="l", summary="A loss.", factory=build, role="adversarial"))

    @hookimpl
    def register_datasets(register):
        register({"name": "d", "summary": "A dataset.", "factory": build, "modality": "MRI",
                  "organ": "heart", "channels": 1, "label_map": {0: "bg", 1: "lv"}})

    @hookimpl
    def register_metrics(register):
        register(MetricSpec(name="m", summary="A metric.", factory=build, better="lower"))

    plugin = make_plugin(register_losses=register_losses, register_datasets=register_datasets,
                         register_metrics=register_metrics)
    registry = load((plugin, "multi"))
    assert registry.problems == ()
    assert list(registry.losses) == ["l"]
    assert registry.datasets["d"].label_map == {0: "bg", 1: "lv"}
    assert registry.metrics["m"].better == "lower"
    assert registry.table("metrics") is registry.metrics


def test_plugin_failing_at_import_is_recorded_and_others_load():
    def boom():
        raise ImportError("No module named 'tensorflow'")

    registry = Registry.load([
        PluginSource("broken", "medgan-zoo-broken", "0.9", boom),
        PluginSource.of(gans_plugin("fine"), "medgan-zoo-fine"),
    ])
    assert "fine" in registry.gans
    (problem,) = registry.problems
    assert (problem.distribution, problem.version, problem.plugin) == ("medgan-zoo-broken", "0.9",
                                                                       "broken")
    assert "cannot import plugin" in problem.reason and "tensorflow" in problem.reason


def test_hook_that_raises_keeps_what_it_registered_before(load):
    @hookimpl
    def register_gans(register):
        register(gan("early"))
        raise RuntimeError("CUDA not available")

    registry = load((make_plugin(register_gans=register_gans), "medgan-zoo-flaky", "1.1"),
                    (gans_plugin("other"), "medgan-zoo-other"))
    assert sorted(registry.gans) == ["early", "other"]
    (problem,) = registry.problems
    assert problem.distribution == "medgan-zoo-flaky" and problem.version == "1.1"
    assert "register_gans raised RuntimeError: CUDA not available" in problem.reason


def test_misspelt_hook_is_a_problem_naming_the_hook(load):
    @hookimpl
    def register_gan(register):  # missing "s"
        register(gan("never"))

    registry = load((make_plugin(register_gan=register_gan), "medgan-zoo-typo", "0.1"),
                    (gans_plugin("ok"), "medgan-zoo-ok"))
    assert list(registry.gans) == ["ok"]
    (problem,) = registry.problems
    assert problem.distribution == "medgan-zoo-typo"
    assert "register_gan" in problem.reason and "register_gans" in problem.reason


def test_hook_with_wrong_argument_name_is_a_problem(load):
    @hookimpl
    def register_gans(reg):
        reg(gan("never"))

    registry = load((make_plugin(register_gans=register_gans), "medgan-zoo-args"))
    assert len(registry.gans) == 0
    assert "reg" in registry.problems[0].reason


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"name": "Bad Name"}, "field 'name'"),
        ({"name": "trailing-"}, "field 'name'"),
        ({"factory": None}, "field 'factory'"),
        ({"factory": "not a reference"}, "factory"),
        ({"summary": "two\nlines"}, "single non-empty line"),
        ({"summary": ""}, "field 'summary'"),
        ({"resolutions": (48,)}, "powers of two"),
        ({"colour": "red"}, "unknown key 'colour'"),
    ],
)
def test_invalid_spec_dict_names_plugin_version_and_field(load, fields, needle):
    spec = {"name": "good", "summary": "Fine.", "factory": build, "config": Config, **fields}

    @hookimpl
    def register_gans(register):
        register(spec)
        register(gan("survivor"))

    registry = load((make_plugin(register_gans=register_gans), "medgan-zoo-bad", "3.1"))
    assert "survivor" in registry.gans
    (problem,) = registry.problems
    assert needle in problem.reason
    assert "invalid GanSpec" in problem.reason
    assert "medgan-zoo-bad 3.1" in str(problem)


def test_missing_factory_is_rejected(load):
    @hookimpl
    def register_gans(register):
        register({"name": "nofactory", "summary": "No factory."})

    registry = load((make_plugin(register_gans=register_gans), "medgan-zoo-bad", "3.1"))
    assert "field 'factory': Field required" in registry.problems[0].reason
    with pytest.raises(PluginError, match="medgan-zoo-bad 3.1 is invalid"):
        registry.gans["nofactory"]


def test_config_field_without_default_is_rejected(load):
    class NoDefault(GanConfig):
        depth: int

    @hookimpl
    def register_gans(register):
        register(GanSpec(name="nodefault", summary="x", factory=build, config=NoDefault))

    registry = load((make_plugin(register_gans=register_gans), "medgan-zoo-nd", "1.0"))
    (problem,) = registry.problems
    assert "register_gans built an invalid GanSpec" in problem.reason
    assert "depth" in problem.reason and "no default" in problem.reason
    assert problem.distribution == "medgan-zoo-nd"


def test_config_that_accepts_unknown_keys_is_rejected():
    from pydantic import BaseModel

    class Lenient(BaseModel):
        depth: int = 3

    with pytest.raises(ValueError, match="must derive from medgan_zoo.GanConfig"):
        GanSpec(name="lenient", summary="x", factory=build, config=Lenient)

    class LenientGan(GanConfig):
        model_config = {"extra": "allow"}

    with pytest.raises(ValueError, match="must reject unknown keys"):
        GanSpec(name="lenient", summary="x", factory=build, config=LenientGan)


def test_a_config_not_derived_from_its_kinds_base_names_the_plugin_spec_and_base(load):
    class NoSplit(PluginConfig):  # a data set config without split/resolution/cache
        size: int = 3

    @hookimpl
    def register_datasets(register):
        register(DatasetSpec(name="nosplit", summary="x", factory=build, config=NoSplit, modality="MRI",
                             organ="heart", channels=1, label_map={0: "background", 1: "lv"}))

    registry = load((make_plugin(register_datasets=register_datasets), "medgan-zoo-nosplit", "1.0"))
    (problem,) = registry.problems
    assert problem.distribution == "medgan-zoo-nosplit" and "register_datasets built an invalid DatasetSpec" in \
        problem.reason
    assert "config model NoSplit must derive from medgan_zoo.DatasetConfig" in problem.reason


def test_spec_of_the_wrong_kind_is_rejected(load):
    @hookimpl
    def register_losses(register):
        register(gan("actually-a-gan"))

    registry = load((make_plugin(register_losses=register_losses), "medgan-zoo-mixed"))
    assert len(registry.losses) == 0 and len(registry.gans) == 0
    assert "expects a LossSpec, got GanSpec" in registry.problems[0].reason


def test_duplicate_name_across_distributions_resolves_to_neither(load):
    registry = load((gans_plugin("shared", "solo-a"), "medgan-zoo-a", "1.0"),
                    (gans_plugin("shared", "solo-b"), "medgan-zoo-b", "2.0"))
    assert sorted(registry.gans) == ["solo-a", "solo-b"]
    with pytest.raises(PluginError) as info:
        registry.gans["shared"]
    message = str(info.value)
    assert "medgan-zoo-a 1.0" in message and "medgan-zoo-b 2.0" in message
    conflicts = [p for p in registry.problems if p.status == "conflict"]
    assert {p.distribution for p in conflicts} == {"medgan-zoo-a", "medgan-zoo-b"}
    assert "shared" not in registry.gans


def test_a_valid_spec_survives_an_invalid_registration_of_its_name(load):
    @hookimpl
    def register_gans(register):
        register({"name": "dup", "summary": "broken", "factory": 3})

    registry = load((gans_plugin("dup"), "medgan-zoo-good"),
                    (make_plugin(register_gans=register_gans), "medgan-zoo-broken"))
    assert registry.gans["dup"].origin.distribution == "medgan-zoo-good"


def test_unknown_name_suggests_closest(load):
    registry = load((gans_plugin("wgan", "wgan-gp", "dcgan"), "medgan-zoo-gans"))
    with pytest.raises(UnknownNameError) as info:
        registry.gans["wgan-pg"]
    assert "wgan-gp" in info.value.suggestions
    assert str(info.value).startswith("unknown gan 'wgan-pg'; did you mean 'wgan-gp'")
    assert isinstance(info.value, KeyError)


def test_unknown_name_mentions_broken_plugins(load):
    def boom():
        raise SyntaxError("bad")

    registry = Registry.load([PluginSource("x", "medgan-zoo-x", "1", boom)])
    with pytest.raises(UnknownNameError, match="1 plugin\\(s\\) failed to load"):
        registry.gans["anything"]


def test_unknown_kind_suggests(load):
    registry = load()
    with pytest.raises(UnknownNameError, match="did you mean 'gans'"):
        registry.table("gns")


def test_unknown_config_key_is_rejected_with_suggestion(load):
    registry = load((gans_plugin("toy"), "medgan-zoo-toy", "2.3"))
    with pytest.raises(ConfigError) as info:
        registry.gans["toy"].create(widht=3)
    message = str(info.value)
    assert "gan 'toy' (medgan-zoo-toy 2.3)" in message
    assert "unknown key 'widht' (did you mean 'width'?)" in message


def test_invalid_config_value_names_the_field(load):
    registry = load((gans_plugin("toy"), "medgan-zoo-toy"))
    with pytest.raises(ConfigError, match="field 'width'"):
        registry.gans["toy"].make_config(width="wide")


def test_lazy_factory_reference_that_fails_to_import_names_the_plugin(load):
    @hookimpl
    def register_gans(register):
        register(GanSpec(name="lazy", summary="x", factory="medgan_zoo_nowhere.module:Gan"))

    registry = load((make_plugin(register_gans=register_gans), "medgan-zoo-lazy", "0.2"))
    with pytest.raises(PluginError, match="gan 'lazy' \\(medgan-zoo-lazy 0.2\\).*cannot import"):
        registry.gans["lazy"].create()


def test_entries_list_ok_error_and_conflict_rows(load):
    def boom():
        raise ImportError("nope")

    registry = Registry.load([
        PluginSource.of(gans_plugin("toy", "twin"), "medgan-zoo-one", "1"),
        PluginSource.of(gans_plugin("twin"), "medgan-zoo-two", "2"),
        PluginSource("bad", "medgan-zoo-bad", "3", boom),
    ])
    rows = {(e.name, e.distribution): e.status for e in registry.entries()}
    assert rows == {
        ("toy", "medgan-zoo-one"): "ok",
        ("twin", "medgan-zoo-one"): "conflict",
        ("twin", "medgan-zoo-two"): "conflict",
        ("-", "medgan-zoo-bad"): "error",
    }
