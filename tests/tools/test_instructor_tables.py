"""The instructors' page's run times come from the recorded builds and training records."""

import math

import instructor_tables
import pytest

from tests.support.paths import REPOSITORY


def times(full, quick, cores=2):
    return {
        profile: {"chapters": values, "machine": {"cpu_count": cores, "gpus": []}}
        for profile, values in (("full", full), ("quick", quick))
    }


def test_the_table_holds_each_recorded_time_and_the_sums():
    text = instructor_tables.render(
        times({"01_a.ipynb": 12.4, "02_b.ipynb": 63.6}, {"01_a.ipynb": 7.0, "02_b.ipynb": 30.49}),
        {"full": 10.71, "quick": 1.04}, 22, {(2, 0)},
    )
    assert "| 01_a | 12 | 7 |" in text and "| 02_b | 64 | 30 |" in text
    assert "| all chapters | 76 | 37 |" in text
    assert "on 2 CPU cores" in text and "took 10.7 hours on the full profile and 1.0 hours" in text
    assert "All 22 models" in text or "all 22 models" in text
    assert "no GPU" in text


@pytest.mark.parametrize(
    "broken, message",
    [
        (times({"01_a.ipynb": math.nan}, {"01_a.ipynb": 1.0}), "without a valid time"),
        (times({"01_a.ipynb": 1.0}, {}), "quick profile"),
        (times({"01_a.ipynb": 1.0}, {"02_b.ipynb": 1.0}), "different chapters"),
        ({**times({"01_a.ipynb": 1.0}, {"01_a.ipynb": 1.0}), "quick": {"chapters": {"01_a.ipynb": 1.0}, "machine": {"cpu_count": 8}}}, "core counts"),
    ],
)
def test_missing_or_broken_times_are_refused(broken, message):
    with pytest.raises(ValueError, match=message):
        instructor_tables.render(broken, {"full": 1.0, "quick": 1.0}, 22, {(2, 0)})


def test_the_committed_section_is_in_step_with_the_records():
    # If this fails, run: python tools/instructor_tables.py (after benchmarks/chapter_times.py --save).
    assert instructor_tables.OUT.read_text() == instructor_tables.current()
    assert "{include} _generated/run_times.md" in (REPOSITORY / "book" / "instructors.md").read_text()


def test_the_training_time_counts_every_model_of_the_registry():
    # The page once said "all 22 models of the registry" while the registry had 24 (the
    # defence candidates were left out of the count and of the hours).
    from advlib.plan import registry
    from advlib.results import store

    text = instructor_tables.current()
    assert f"Training all {len(registry.MODELS)} models of the registry" in text
    hours = sum(float(store.load_record(name, "full")["wall_time_seconds"]) for name in registry.MODELS) / 3600
    assert f"took {hours:.1f} hours on the full profile" in text
