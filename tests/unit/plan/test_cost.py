"""Training-cost estimates (advlib.plan.cost) against a hand computation on a made-up profile and benchmark."""

import json

import pytest

from advlib.plan import cost, registry

# 100 training and 20 test images per class, 4 epochs: a profile no one trains.
MADE_UP = registry.Profile("made-up", (100, 20), epochs=4, batch_size=32)


BENCHMARK = {
    "date": "2026-12-08",
    "machine": {"processor": "x86_64", "cpu_count": 2},
    "training_images": 5000,
    "contended": True,
    "best_cpu_share": 0.8,
    "runs": {
        "baseline": {"cpu_seconds_per_training_image": 0.002},
        "random_at": {"cpu_seconds_per_training_image": 0.004},
        "robust_fast_at": {"cpu_seconds_per_training_image": 0.003},
        "validation": {"cpu_seconds_per_training_image": 0.0005},
    },
}


def test_each_model_costs_its_epochs_times_its_images_times_its_runs_cost_per_image():
    names = ["baseline", "random_at", "baseline_seed1", "defence_fast_at_ema", "dd_student_t50"]
    estimate = cost.estimate(BENCHMARK, MADE_UP, names)
    models = estimate["models"]
    # By hand. Wall seconds per image = CPU seconds / (2 cores x best share 0.8): baseline
    # 0.002 / 1.6 = 0.00125, random_at 0.0025, robust_fast_at 0.001875, validation
    # 0.0003125. Every epoch also evaluates the 20 x 10 = 200 test images, or for a
    # held-out model its 20 x 10 held-out ones: 200 x 0.0003125 = 0.0625 s, CPU 0.1 s.
    # baseline: 4 epochs x (1,000 x 0.00125 + 0.0625) = 5.25 s; CPU 4 x (1,000 x 0.002 + 0.1) = 8.4 s.
    assert models["baseline"]["seconds"] == pytest.approx(5.25)
    assert models["baseline"]["cpu_seconds"] == pytest.approx(8.4)
    # random_at: 4 x (1,000 x 0.0025 + 0.0625) = 10.25 s; CPU 4 x (1,000 x 0.004 + 0.1) = 16.4 s.
    assert models["random_at"]["seconds"] == pytest.approx(10.25)
    assert models["random_at"]["cpu_seconds"] == pytest.approx(16.4)
    # A seed copy trains a quarter of the epochs: round(4 / 4) = 1 epoch, 1.3125 s.
    assert models["baseline_seed1"]["epochs"] == 1
    assert models["baseline_seed1"]["seconds"] == pytest.approx(1.3125)
    # A defence candidate: 4 x 4 = 16 epochs on (100 - 20) x 10 = 800 images, checked on
    # 200 held-out ones: 16 x (800 x 0.001875 + 0.0625) = 25 s; CPU 16 x (800 x 0.003 + 0.1) = 40 s.
    assert (models["defence_fast_at_ema"]["training_images"], models["defence_fast_at_ema"]["validation_images"]) == (800, 200)
    assert models["defence_fast_at_ema"]["seconds"] == pytest.approx(25.0)
    assert models["defence_fast_at_ema"]["cpu_seconds"] == pytest.approx(40.0)
    # A student trains clean epochs on soft labels: the baseline's cost.
    assert models["dd_student_t50"]["run"] == "baseline"
    assert models["dd_student_t50"]["seconds"] == pytest.approx(5.25)
    assert estimate["total_seconds"] == pytest.approx(5.25 + 10.25 + 1.3125 + 25.0 + 5.25)
    assert estimate["total_cpu_seconds"] == pytest.approx(8.4 + 16.4 + 2.1 + 40.0 + 8.4)
    assert estimate["basis"]["contended"] is True and estimate["basis"]["profile"] == "made-up"


def test_without_validation_only_the_training_epochs_count():
    models = cost.estimate(BENCHMARK, MADE_UP, ["baseline"], validation=False)["models"]
    assert models["baseline"]["seconds"] == pytest.approx(4 * 1000 * 0.00125)


@pytest.mark.parametrize("share", [0.0, 1.5, None])
def test_a_cpu_share_outside_zero_to_one_is_refused(share):
    with pytest.raises(ValueError, match="best_cpu_share must be a number in"):
        cost.estimate({**BENCHMARK, "best_cpu_share": share}, MADE_UP, ["baseline"])


def test_the_full_profile_trains_on_all_50000_images_and_the_candidates_hold_5000_out():
    spec, candidate = registry.get_spec("baseline"), registry.get_spec("defence_pgd2_ema")
    assert cost.training_images(spec, "full") == 50_000 and cost.validation_images(spec, "full") == 10_000
    assert cost.training_images(candidate, "full") == 45_000 and cost.validation_images(candidate, "full") == 5_000


def test_each_registry_recipe_has_a_benchmark_run():
    runs = {name: cost.benchmark_run(spec) for name, spec in registry.MODELS.items()}
    assert runs["defence_pgd2_ema"] == "robust_pgd2_ema" and runs["robust_fast_at_long"] == "robust_fast_at"
    assert runs["variant_student_t4"] == "baseline" and runs["per_epoch_at_seed2"] == "per_epoch_at"
    three_steps = registry.ModelSpec("pgd3", "robust_fast_at", "three steps", options=(("attack_steps", 3),))
    with pytest.raises(ValueError, match="3 attack steps"):
        cost.benchmark_run(three_steps)


def test_a_benchmark_without_a_run_the_registry_needs_is_refused():
    with pytest.raises(ValueError, match="no 'per_epoch_at' run"):
        cost.estimate(BENCHMARK, MADE_UP, ["per_epoch_at"])


def test_a_missing_benchmark_file_names_the_command_that_makes_it(tmp_path):
    with pytest.raises(ValueError, match="benchmarks/training_cost.py --json"):
        cost.load_benchmark(tmp_path / "training_cost.json")
    path = tmp_path / "saved.json"
    path.write_text(json.dumps(BENCHMARK))
    assert cost.load_benchmark(path) == BENCHMARK


def test_the_saved_benchmark_estimates_the_whole_full_registry():
    benchmark = cost.load_benchmark()
    estimate = cost.estimate(benchmark, "full")
    assert list(estimate["models"]) == list(registry.MODELS)
    assert all(model["seconds"] > 0 and model["cpu_seconds"] > 0 for model in estimate["models"].values())
    assert estimate["basis"]["date"] == benchmark["date"]
