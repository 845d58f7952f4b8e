"""The pure-data registry: profiles, model specs, identity hashes, seed copies and views."""

import dataclasses
import json

import pytest

from advlib.plan import catalogue, registry
from tests.support.paths import TEST_DATA

PINNED = TEST_DATA / "pinned_identities.json"


def test_profile_selection(monkeypatch):
    monkeypatch.delenv("ADVLIB_PROFILE", raising=False)
    assert registry.active_profile().name == "full"
    monkeypatch.setenv("ADVLIB_PROFILE", "quick")
    assert registry.active_profile().name == "quick"
    assert registry.active_profile("test").name == "test"
    assert registry.get_profile("test") is registry.PROFILES["test"]
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        registry.get_profile("fast")
    # Library functions never guess the profile from the environment.
    with pytest.raises(ValueError, match="no profile given"):
        registry.get_profile(None)


def test_every_identity_is_pinned():
    """No refactoring may change a model's config hash or a study's key: shipped weights are found by them."""
    from advlib.results.keys import study_key
    from advlib.runs import studies

    pinned = json.loads(PINNED.read_text())
    for profile in registry.PROFILES:
        assert {name: registry.model_hash(name, profile) for name in registry.MODELS} == pinned[profile]["models"]
        study_keys = {}
        for kind, views in (("sweep", registry.sweep_views()), ("audit", registry.audit_views())):
            for view in views:
                parameters, involved = studies._prepare(kind, view, registry.get_profile(profile), studies.CHAPTER_OPTIONS[kind])
                study_keys[f"{kind} {view.label}"] = study_key(kind, view, registry.get_profile(profile), parameters, involved)[0]
        from advlib.runs import worst_case_studies

        for view in registry.audit_views():
            chosen = registry.get_profile(profile)
            for kind, parameters in (
                ("worst_case", worst_case_studies.parameters(view, chosen, worst_case_studies.options_for(chosen))),
                ("worst_case_reference", worst_case_studies.reference_parameters(view, chosen)),
            ):
                study_keys[f"{kind} {view.label}"] = study_key(kind, view, chosen, parameters, [view.name])[0]
        from advlib.runs import defence

        for name in registry.DEFENCE_CANDIDATES:
            view = registry.View(name)
            study_keys[f"validation {name}"] = study_key(
                "validation", view, chosen, defence.validation_parameters(chosen), [name])[0]
            # Whichever candidate is chosen, its one test worst case is found by these keys.
            for kind, parameters in (
                ("worst_case", worst_case_studies.parameters(view, chosen, worst_case_studies.options_for(chosen))),
                ("worst_case_reference", worst_case_studies.reference_parameters(view, chosen)),
            ):
                study_keys[f"{kind} {name}"] = study_key(kind, view, chosen, parameters, [name])[0]
        assert study_keys == pinned[profile]["studies"]


def test_config_hash_follows_every_setting_and_differs_between_models(monkeypatch):
    hashes = {registry.model_hash(name, "test") for name in registry.MODELS}
    assert len(hashes) == len(registry.MODELS)
    student, teacher = registry.model_hash("final_student", "test"), registry.model_hash("random_at", "test")
    changed = registry.Profile("test", (12, 4), epochs=4, batch_size=32)
    monkeypatch.setitem(registry.PROFILES, "test", changed)
    assert registry.model_hash("random_at", "test") != teacher
    assert registry.model_hash("final_student", "test") != student


def test_a_student_hash_changes_with_its_teacher_alone(monkeypatch):
    """Only the teacher changes (its options): the student's own settings are untouched."""
    student = registry.model_hash("final_student", "test")
    own_config = registry.model_config("final_student", "test")
    teacher = registry.get_spec("random_at")
    monkeypatch.setitem(registry.MODELS, "random_at", dataclasses.replace(teacher, seed_offset=7))
    changed = registry.model_config("final_student", "test")
    assert {key: value for key, value in changed.items() if key != "teacher"} == {
        key: value for key, value in own_config.items() if key != "teacher"
    }
    assert registry.model_hash("final_student", "test") != student


def test_a_model_hash_changes_with_its_temperature_alone(monkeypatch):
    # A teacher trained at T = 50: only its "temperature" setting records that.
    teacher = registry.model_hash("dd_teacher_t50", "test")
    spec = registry.get_spec("dd_teacher_t50")
    monkeypatch.setitem(registry.MODELS, "dd_teacher_t50", dataclasses.replace(spec, temperature=20.0))
    assert registry.model_hash("dd_teacher_t50", "test") != teacher


def test_a_student_hash_changes_with_its_temperature_alone(monkeypatch):
    student = registry.model_hash("final_student", "test")
    spec = registry.get_spec("final_student")
    monkeypatch.setitem(registry.MODELS, "final_student", dataclasses.replace(spec, temperature=5.0))
    assert registry.model_hash("final_student", "test") != student
    assert registry.model_config("final_student", "test")["soft_label_temperature"] == 5.0


def test_a_warm_start_hash_changes_with_the_model_it_continues(monkeypatch):
    restart = registry.model_hash("robust_fast_at_restart", "test")
    long = registry.get_spec("robust_fast_at_long")
    monkeypatch.setitem(registry.MODELS, "robust_fast_at_long", dataclasses.replace(long, seed_offset=5))
    assert registry.model_hash("robust_fast_at_restart", "test") != restart


def test_seed_copies_differ_from_their_recipe_only_in_seed_and_epochs():
    copies = registry.SEED_COPIES
    assert len(copies) == 9 and list(registry.MODELS)[-9:] == list(copies)
    assert set(registry.MAIN_MODELS).isdisjoint(copies)
    assert len(registry.MAIN_MODELS) + len(copies) + len(registry.DEFENCE_CANDIDATES) == len(registry.MODELS)
    assert set(registry.MAIN_MODELS).isdisjoint(registry.DEFENCE_CANDIDATES) and registry.DEFENCE_CANDIDATES
    # A quarter of the profile's epochs, at least one: 20 -> 5, 8 -> 2, 3 -> 1.
    for profile, epochs in {"full": 5, "quick": 2, "test": 1}.items():
        assert len({registry.model_hash(name, profile) for name in copies}) == 9
        for recipe, names in registry.SEED_STUDY.items():
            main = registry.model_config(recipe, profile)
            seeds = set()
            for name in names:
                config = registry.model_config(name, profile)
                assert config["training"]["epochs"] == epochs
                seeds.add(config["training"]["seed"])
                assert config["training"]["seed"] != main["training"]["seed"]
                assert {key for key in config if config[key] != main[key]} == {"name", "training"}
                training_difference = {key for key in config["training"] if config["training"][key] != main["training"][key]}
                allowed = {"seed", "epochs"} | ({"warmup_epochs"} if epochs == 1 else set())
                assert training_difference <= allowed and {"seed", "epochs"} <= training_difference
            assert len(seeds) == 3
            spec = registry.get_spec(names[0])
            assert spec.cost == pytest.approx(registry.get_spec(recipe).cost / 4)


def test_bad_specs_are_refused():
    for fraction in (0.0, -0.5, 4.5, "half", True):
        with pytest.raises(ValueError, match="epoch_fraction"):
            registry.ModelSpec("x", "baseline", "x", epoch_fraction=fraction)
    with pytest.raises(ValueError, match="can start from another model"):
        registry.ModelSpec("x", "baseline", "x", start_from="baseline")
    for factor in (0.0, 1.5, "half", True):
        with pytest.raises(ValueError, match="learning_rate_factor"):
            registry.ModelSpec("x", "robust_fast_at", "x", learning_rate_factor=factor)
    with pytest.raises(ValueError, match="unknown model"):
        registry.get_spec("no_such_model")


def test_the_robust_candidates_epochs_and_warm_start():
    first, second, third = (registry.get_spec(name) for name in registry.ROBUST_CANDIDATES)
    assert dict(second.options)["train_eps"] == registry.PROFILES["full"].eps
    for profile in registry.PROFILES.values():
        assert registry.training_config(profile, second).epochs == 2 * registry.training_config(profile, first).epochs
        config = registry.model_config(third.name, profile)
        assert config["start_from"] == {"name": second.name, "config_hash": registry.model_hash(second.name, profile)}
        assert config["training"]["learning_rate"] == pytest.approx(profile.learning_rate / 2)
        assert config["training"]["epochs"] == max(1, round(profile.epochs * 1.5))
    assert "start_from" not in registry.model_config(second.name, "full")


def test_models_needed_adds_teachers_and_warm_starts_first():
    assert registry.models_needed(["robust_fast_at_restart"]) == ["robust_fast_at_long", "robust_fast_at_restart"]
    assert registry.models_needed(["variant_student_t4"]) == ["variant_teacher_t1", "variant_student_t4"]
    assert registry.models_needed(["baseline"]) == ["baseline"]


def test_views_label_and_check_their_settings():
    assert registry.View("dd_student_t50", temperature=1).label == "dd_student_t50 at T = 1"
    assert registry.View("final_student", noise=0.01).label == "final_student with input noise"
    assert registry.View("final_student", noise=0.02).label == "final_student with input noise of 0.02"
    for bad in ({"temperature": 0}, {"temperature": True}, {"noise": -0.01}, {"noise": "a"}):
        with pytest.raises(ValueError):
            registry.View("baseline", **bad)
    with pytest.raises(ValueError, match="unknown model"):
        registry.View("nonsense")
    labels = [view.label for view in registry.audit_views()]
    assert labels[-1] == "final_student with input noise" and len(labels) == len(set(labels))


def test_catalogue_rows_name_registered_attacks_and_models():
    from advlib.attacks import registry as attack_registry

    for measurement in catalogue.MEASUREMENTS:
        assert measurement.attack in attack_registry.ATTACKS
        assert all(name in registry.MODELS for name in measurement.models)
    transfer = catalogue.get("baseline.transfer_pgd")
    assert transfer.models == ("baseline", "surrogate")
    # The cross-set row attacks the same weights at T = 50: one model, two views.
    assert catalogue.get("dd_student_t1.on_t50_set").models == ("dd_student_t50",)
    with pytest.raises(ValueError, match="unknown attack"):
        catalogue.Measurement("x", "s", "d", registry.View("baseline"), "nonsense")
    with pytest.raises(ValueError, match="the report gives no value"):
        catalogue.report_value("surrogate.clean")


def _digest(obj):
    import hashlib

    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def test_every_shipped_number_is_pinned():
    """The shipped full-profile measurements and studies keep every value they had."""
    from advlib.results import store

    pinned = json.loads(PINNED.read_text())["shipped_full"]
    shipped = store.shipped_dir("full")
    measurements = json.loads((shipped / "measurements.json").read_text())
    studies = json.loads((shipped / "studies.json").read_text())
    assert len(measurements) == pinned["measurement_count"] and len(studies) == pinned["study_count"]
    assert _digest({key: entry["value"] for key, entry in measurements.items()}) == pinned["measurement_values_sha256"]
    assert _digest({key: entry["result"] for key, entry in studies.items()}) == pinned["study_results_sha256"]
