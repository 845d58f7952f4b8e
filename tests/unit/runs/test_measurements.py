"""Measurements beyond the report: the seed study's statistics, strong-attack rows, merged saves."""

import dataclasses
import json
import math
import os
import statistics
from types import SimpleNamespace

import numpy as np
import pytest

from advlib.runs import summary as reporting
from advlib.plan import catalogue, registry
from advlib.results import measured, store
from advlib.runs import experiments, measurements
from advlib.verdicts import uncertainty as stats, wording as text
from tests.support.sources import make_image_tree, saved_entry



def _write_seed_values(folder, fgsm_values, clean_values=None):
    """Write measurements.json with the given FGSM (and clean) values per recipe, one per seed."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = {}
    for recipe, values in fgsm_values.items():
        for name, value in zip(registry.SEED_STUDY[recipe], values):
            saved[f"{name}.fgsm"] = saved_entry(f"{name}.fgsm", value)
    for recipe, values in (clean_values or {}).items():
        for name, value in zip(registry.SEED_STUDY[recipe], values):
            saved[f"{name}.clean"] = saved_entry(f"{name}.clean", value)
    (folder / "measurements.json").write_text(json.dumps(saved))


def test_rows_are_well_formed_and_cover_the_seed_study():
    keys = [measurement.key for measurement in catalogue.MEASUREMENTS]
    assert len(keys) == len(set(keys))
    descriptions = [measurement.description for measurement in catalogue.MEASUREMENTS]
    # The command-line test finds a row by its description, so none may contain another.
    for one in descriptions:
        assert [other for other in descriptions if one in other] == [one]
    for measurement in catalogue.MEASUREMENTS:
        if measurement.attack in ("pgd", "eot_pgd") or measurement.key.endswith("fgsm_subset"):
            assert measurement.section == "Beyond the report"
            assert measurement.subset is True
            assert "1,000 test images" in measurement.description
        if measurement.key.endswith("transfer_pgd"):
            assert measurement.models[1] == "surrogate" and measurement.models[0] != "surrogate"
            assert measurement.source == registry.View("surrogate")
    for names in registry.SEED_STUDY.values():
        for name in names:
            for metric in ("clean", "fgsm"):
                row = catalogue.get(f"{name}.{metric}")
                attack = "fgsm" if metric == "fgsm" else "none"
                assert (row.section, row.models, row.attack, row.report, row.report_note) == (
                    "Error bars", (name,), attack, None, "not run"
                )


def test_missing_models_are_refused():
    data = SimpleNamespace(x_test=np.zeros((4, 32, 32, 3), np.float32), y_test=np.zeros(4, int))
    with pytest.raises(ValueError, match=r"needs the model\(s\) \['surrogate'\]"):
        measurements.compute(catalogue.get("baseline.transfer_pgd"), {"baseline": None}, data, "test")


def test_attack_subset_is_chapter_nine_subset():
    for profile, total, size in (("full", 10_000, 1000), ("quick", 500, 250), ("test", 40, 40)):
        data = SimpleNamespace(x_test=np.zeros((total, 1)))
        indices = measurements.attack_subset(data, profile)
        # Written out as chapter 9 draws it: seeded with the profile's seed, no repeats, sorted.
        generator = np.random.default_rng(registry.get_profile(profile).seed)
        np.testing.assert_array_equal(indices, np.sort(generator.choice(total, size=size, replace=False)))
        assert len(np.unique(indices)) == size and np.all(np.diff(indices) > 0)
        np.testing.assert_array_equal(measurements.attack_subset(data, profile), indices)


def test_seed_statistic_matches_the_statistics_module():
    values = [0.41, 0.38, 0.45]
    statistic = stats.seed_statistic(values)
    assert statistic.values == tuple(values) and statistic.count == 3
    assert statistic.mean == pytest.approx(statistics.mean(values))
    assert statistic.std == pytest.approx(statistics.stdev(values))
    assert statistic.describe() == f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f} (n = 3)"
    single = stats.seed_statistic([0.5])
    assert single.mean == 0.5 and math.isnan(single.std)
    empty = stats.seed_statistic([])
    assert empty.count == 0 and math.isnan(empty.mean) and empty.describe() == "missing"
    with pytest.raises(ValueError, match="finite"):
        stats.seed_statistic([0.5, float("nan")])
    with pytest.raises(ValueError, match="SeedStatistic"):
        stats.compare_seeds([0.5], statistic)


def test_welch_t_matches_a_hand_computation():
    first, second = [0.45, 0.47, 0.50], [0.40, 0.36, 0.41, 0.39]
    verdict = stats.compare_seeds(stats.seed_statistic(first), stats.seed_statistic(second))
    a, b = statistics.variance(first) / 3, statistics.variance(second) / 4
    assert verdict.difference == pytest.approx(statistics.mean(first) - statistics.mean(second))
    assert verdict.t_statistic == pytest.approx((statistics.mean(first) - statistics.mean(second)) / math.sqrt(a + b))
    assert verdict.degrees_of_freedom == pytest.approx((a + b) ** 2 / (a**2 / 2 + b**2 / 3))
    assert verdict.spread == pytest.approx(max(statistics.stdev(first), statistics.stdev(second)))
    assert verdict.larger_than_spread is True and verdict.verdict == "larger than"
    identical = stats.compare_seeds(stats.seed_statistic([0.5, 0.5]), stats.seed_statistic([0.4, 0.4]))
    assert identical.t_statistic == math.inf and identical.larger_than_spread is True


def test_gap_outside_the_spread(results_folder):
    _write_seed_values(results_folder, {"random_at": [0.40, 0.41, 0.42], "per_epoch_at": [0.30, 0.31, 0.32]})
    summary = stats.seed_summary(measured.seed_values("test"))
    assert summary["random_at"]["fgsm"].values == (0.40, 0.41, 0.42)
    assert summary["baseline"]["fgsm"].count == 0 and summary["random_at"]["clean"].count == 0
    verdict = stats.gap_versus_spread(measured.seed_values("test"))
    assert verdict.difference == pytest.approx(0.10)
    assert verdict.spread == pytest.approx(0.01)
    assert verdict.larger_than_spread is True
    # Two samples of three with the same std 0.01: t = 0.1 / sqrt(2 * 0.01**2 / 3).
    assert verdict.t_statistic == pytest.approx(0.1 / math.sqrt(2 * 0.01**2 / 3))
    text = reporting.format_report("test")
    assert "random_at      missing                  0.410 ± 0.010 (n = 3)" in text
    assert "the gap is larger than the spread between seeds" in text
    assert "baseline_seed1 baseline_seed2 baseline_seed3" in text


def test_gap_inside_the_spread(results_folder):
    _write_seed_values(
        results_folder,
        {"random_at": [0.30, 0.40, 0.50], "per_epoch_at": [0.36, 0.38, 0.40]},
        clean_values={name: [0.5, 0.5, 0.5] for name in registry.SEED_STUDY},
    )
    verdict = stats.gap_versus_spread(measured.seed_values("test"))
    assert verdict.difference == pytest.approx(0.02)
    assert verdict.spread == pytest.approx(0.10)
    assert verdict.larger_than_spread is False and verdict.verdict == "within"
    assert "the gap is within the spread between seeds" in reporting.format_seed_study("test")
    clean = stats.gap_versus_spread(measured.seed_values("test"), metric="clean")
    assert clean.difference == 0.0 and clean.larger_than_spread is False


def test_too_few_or_stale_seeds_give_no_verdict(results_folder):
    _write_seed_values(results_folder, {"random_at": [0.40, 0.41, 0.42], "per_epoch_at": [0.30]})
    assert stats.gap_versus_spread(measured.seed_values("test")).larger_than_spread is None
    assert "needs at least two seeds of each (have 3 and 1)" in reporting.format_seed_study("test")
    # An entry measured on another config of the model is not current and does not count.
    saved = json.loads((results_folder / "measurements.json").read_text())
    saved["random_at_seed1.fgsm"]["models"]["random_at_seed1"] = "000000000000"
    (results_folder / "measurements.json").write_text(json.dumps(saved))
    seed_values = measured.seed_values("test")
    assert stats.seed_summary(seed_values)["random_at"]["fgsm"].values == (0.41, 0.42)
    with pytest.raises(ValueError, match="not in the seed study"):
        stats.gap_versus_spread(seed_values, first="final_student")
    with pytest.raises(ValueError, match="metric"):
        stats.gap_versus_spread(seed_values, metric="pgd")


def test_saves_merge_with_entries_written_meanwhile(results_folder):
    results_folder.mkdir(parents=True)
    path = results_folder / "measurements.json"
    path.write_text(json.dumps({"baseline.clean": saved_entry("baseline.clean", 0.5)}))
    # Two writers that both read the file before either wrote, then each save one key.
    store.MEASUREMENTS.save("test", "baseline.fgsm", saved_entry("baseline.fgsm", 0.2))
    store.MEASUREMENTS.save("test", "random_at.fgsm", saved_entry("random_at.fgsm", 0.3))
    saved = json.loads(path.read_text())
    assert {key: entry["value"] for key, entry in saved.items()} == {
        "baseline.clean": 0.5, "baseline.fgsm": 0.2, "random_at.fgsm": 0.3
    }


def test_measure_keeps_keys_another_process_wrote_while_it_ran(tmp_path, monkeypatch):
    source = make_image_tree(tmp_path / "cifar")
    monkeypatch.setenv("ADVLIB_CIFAR10", str(source))
    monkeypatch.setenv("ADVLIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ADVLIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setattr(experiments, "load_or_train", lambda name, profile, **kwargs: name)

    def compute_while_another_process_writes(measurement, models_by_name, data, profile):
        # The other process (a background reproduce run, say) saves a row of its own meanwhile.
        store.MEASUREMENTS.save(profile, "random_at.clean", saved_entry("random_at.clean", 0.7))
        return 0.25

    monkeypatch.setattr(measurements, "compute", compute_while_another_process_writes)
    measurements.measure("test", only=["baseline"], skip_unsaved=False)
    saved = json.loads((tmp_path / "results" / "test" / "measurements.json").read_text())
    baseline_rows = [m.key for m in catalogue.MEASUREMENTS if "baseline" in m.models]
    assert set(saved) == set(baseline_rows) | {"random_at.clean"}
    assert saved["random_at.clean"]["value"] == 0.7 and saved["baseline.pgd"]["value"] == 0.25
    assert saved["baseline.transfer_pgd"]["models"].keys() == {"baseline", "surrogate"}


STRONG_ROWS = [m for m in catalogue.MEASUREMENTS if m.subset]
# Whole-test-set rows the tests below check too: the surrogate's own row (for the
# invalidation test) and chapter 6's FGSM computed at T = 50, on the logits, and the
# share of images an attack left unchanged.
EXTRA_ROWS = ["surrogate.clean", "dd_student_t1.fgsm_unchanged", "dd_student_t1.fgsm_t50", "dd_student_t1.fgsm_logits"]


@pytest.fixture(scope="module")
def strong_measurements(tmp_path_factory, install_test_models):
    """Train the models the strong-attack rows need on the test profile and measure those rows."""
    root = tmp_path_factory.mktemp("strong")
    variables = {
        "ADVLIB_CIFAR10": str(make_image_tree(root / "cifar")),
        "ADVLIB_CACHE_DIR": str(root / "cache"),
        "ADVLIB_RESULTS": str(root / "results"),
        "ADVLIB_PROFILE": "test",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in variables.items():
            patch.setenv(name, value)
        # The models other modules use too come trained (tests/conftest.py); the rest train here.
        install_test_models(root / "results")
        # Only the rows these tests read: every other row of these models is measured by the
        # same code and would only add minutes.
        saved = measurements.measure("test", keys=[m.key for m in STRONG_ROWS] + EXTRA_ROWS)
        yield saved, experiments.load_data("test")


def test_every_strong_row_computes_and_saves(strong_measurements):
    saved, data = strong_measurements
    subset_size = len(measurements.attack_subset(data, "test"))
    for measurement in STRONG_ROWS:
        entry = saved[measurement.key]
        assert 0.0 <= entry["value"] <= 1.0
        assert entry["test_size"] == subset_size
        assert set(entry["models"]) == set(measurement.models)
    on_disk = json.loads(open(os.path.join(os.environ["ADVLIB_RESULTS"], "test", "measurements.json")).read())
    assert {measurement.key for measurement in STRONG_ROWS} <= set(on_disk)


def test_strong_rows_agree_with_direct_attacks(strong_measurements):
    from advlib import models
    from advlib.attacks import iterative as strong_attacks, one_step as attacks
    from advlib.evaluation import metrics as evaluation

    saved, data = strong_measurements
    profile = registry.get_profile("test")
    indices = measurements.attack_subset(data, profile)
    x, y = data.x_test[indices], data.y_test[indices]
    baseline = experiments.load_or_train("baseline", profile, train=False)
    surrogate = experiments.load_or_train("surrogate", profile, train=False)
    student_t1 = models.with_temperature(experiments.load_or_train("dd_student_t50", profile, train=False), 1.0)
    seed, eps = profile.seed, profile.eps

    def value(key):
        return saved[key]["value"]

    assert value("baseline.pgd") == evaluation.accuracy(baseline, strong_attacks.pgd(baseline, x, y, eps, steps=10, seed=seed), y)
    margin = strong_attacks.pgd(student_t1, x, y, eps, steps=10, seed=seed, loss=strong_attacks.margin_loss)
    assert value("dd_student_t1.pgd_margin") == evaluation.accuracy(student_t1, margin, y)
    hot = strong_attacks.pgd(student_t1, x, y, eps, steps=10, seed=seed, temperature=50.0)
    assert value("dd_student_t1.pgd_t50") == evaluation.accuracy(student_t1, hot, y)
    transferred = strong_attacks.pgd(surrogate, x, y, eps, steps=10, seed=seed)
    assert value("baseline.transfer_pgd") == evaluation.accuracy(baseline, transferred, y)
    assert value("dd_student_t1.transfer_pgd") == evaluation.accuracy(student_t1, transferred, y)
    # robust_fast_at has no randomness, so averaging two identical gradients is PGD.
    assert value("robust_fast_at.eot_pgd") == value("robust_fast_at.pgd")
    # Chapter 6's rows: FGSM computed at another temperature or on the logits, crafted on
    # the T = 1 student and classified by it, on every test image.
    x_all, y_all = data.x_test, data.y_test
    for key, options in (("dd_student_t1.fgsm_t50", {"temperature": 50.0}), ("dd_student_t1.fgsm_logits", {"from_logits": True})):
        x_adv = attacks.fgsm(student_t1, x_all, y_all, eps, **options)
        assert value(key) == evaluation.accuracy(student_t1, x_adv, y_all), key
    x_own = attacks.fgsm(student_t1, x_all, y_all, eps)
    unchanged = float(np.mean(np.all(x_own == x_all, axis=(1, 2, 3))))
    assert value("dd_student_t1.fgsm_unchanged") == unchanged
    # The noise is seeded, so the EOT row is reproducible with a fresh noisy wrapper.
    noisy = models.with_input_noise(experiments.load_or_train("final_student", profile, train=False), eps, seed=seed)
    x_eot = strong_attacks.eot_pgd(noisy, x, y, eps, samples=10, steps=10, seed=seed)
    assert value("final_student_noise.eot_pgd") == evaluation.accuracy(noisy, x_eot, y)


def test_the_unchanged_metric_counts_whole_images_left_as_they_were(strong_measurements):
    from advlib import models
    from advlib.attacks import one_step as attacks
    from advlib.evaluation import metrics as evaluation
    from advlib.plan.registry import View

    _, data = strong_measurements
    profile = registry.get_profile("test")
    # At T = 0.01 the softmax saturates for some images and not for others, so the share
    # is strictly between 0 and 1 and differs from the share of unchanged pixels.
    view = View("random_at", temperature=0.01)
    row = catalogue.Measurement("random_at_t0.01.fgsm_unchanged", "test", "test", view, "fgsm", metric="unchanged")
    trained = experiments.load_or_train("random_at", profile, train=False)
    value = measurements.compute(row, {"random_at": trained}, data, profile)
    cold = models.with_temperature(trained, 0.01)
    x_adv = attacks.fgsm(cold, data.x_test, data.y_test, profile.eps)
    whole_images = float(np.mean(np.all(x_adv == data.x_test, axis=(1, 2, 3))))
    assert value == whole_images
    assert 0.0 < value < 1.0 and value != float(np.mean(x_adv == data.x_test))
    assert value != evaluation.accuracy(cold, x_adv, data.y_test)


def test_a_transfer_row_is_invalidated_when_the_surrogate_changes(strong_measurements, monkeypatch):
    assert "baseline.transfer_pgd" in measured.load_saved("test")
    changed = dataclasses.replace(registry.MODELS["surrogate"], seed_offset=7)
    monkeypatch.setitem(registry.MODELS, "surrogate", changed)
    current = measured.load_saved("test")
    assert "baseline.transfer_pgd" not in current and "dd_student_t1.transfer_pgd" not in current
    assert "baseline.pgd" in current and "surrogate.clean" not in current


def test_the_report_names_the_data_its_saved_numbers_came_from(results_folder):
    from advlib.data import cifar10 as data

    _write_seed_values(results_folder, {"baseline": [0.2]})
    heading = reporting.format_report("test").splitlines()[0]
    # The entries say "hand-made"; the source this process would load is something else.
    assert heading.endswith("data: hand-made)") and data.describe_source() not in heading
    assert text.data_sources([]) == "nothing saved yet"
    assert text.data_sources([{"data_source": "b"}, {"data_source": "a"}, {}]) == "a and b and not recorded"
    # A recorded source is named by its kind, never by the path of the machine that made it.
    assert text.data_sources([{"data_source": "image folder /work/x/cifar10-jpeg (JPEG)"}]) == "a local JPEG copy of CIFAR-10"


def test_permutation_test_matches_a_count_by_hand():
    # Pooled 1..6, first = {1, 2, 3}: of the 20 ways to pick three, only {1,2,3} and {4,5,6}
    # give a gap of 3, so p = 2 / 20 = 0.1, the smallest three-against-three allows.
    result = stats.permutation_test([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert (result.observed, result.p_value, result.splits, result.smallest_p) == (3.0, 0.1, 20, 0.1)
    # Interleaved values: a split A of 1..6 has gap |2 sum(A) - 21| / 3, and 2 sum(A) - 21 is
    # odd, so every one of the 20 gaps is at least the observed 1/3: p = 1.
    interleaved = stats.permutation_test([1.0, 4.0, 5.0], [2.0, 3.0, 6.0])
    assert interleaved.observed == pytest.approx(1 / 3) and interleaved.p_value == 1.0
    # Unequal sizes: {6} against {1, 2, 3}; only picking 6 gives the largest gap: p = 1 / 4.
    assert stats.permutation_test([6.0], [1.0, 2.0, 3.0]).p_value == 0.25
    with pytest.raises(ValueError, match="at least one finite value"):
        stats.permutation_test([], [1.0])


def test_wilson_interval_matches_textbook_values():
    # 50 of 100 and 0 of 10, the usual worked examples of the Wilson score interval.
    low, high = stats.wilson_interval(0.5, 100)
    assert (round(low, 4), round(high, 4)) == (0.4038, 0.5962)
    low, high = stats.wilson_interval(0.0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775
    with pytest.raises(ValueError, match="size"):
        stats.wilson_interval(0.5, 0)
    with pytest.raises(ValueError, match="accuracy"):
        stats.wilson_interval(1.5, 10)
