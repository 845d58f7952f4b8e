"""What train-or-load hands to distillation for the registry's students: the right teacher, images and temperature.

The distillation tests (tests/unit/training/test_distillation.py) call :mod:`advlib.training.distillation`
with a temperature they choose, so a :func:`advlib.runs.experiments.load_or_train` that made
a student's soft labels at another temperature (T = 1, or the teacher's own training
temperature) would pass them and change the book's students silently. Here the
teachers, the data and the training are stand-ins that record what they are given:
no model is trained, and the test takes seconds.

The expected temperatures are typed here, not read from :mod:`advlib.plan.registry`, so that
a wrong registry entry is caught too. They are the recipes as the book describes them:

* ``dd_student_t50`` (chapter 5, the report's Table 3): the T = 50 teacher's soft
  labels at T = 50, and a student trained at T = 50 on them;
* ``variant_student_t4`` (chapter 7, Table 4): a teacher trained at T = 1, heated to
  T = 4 only to write its soft labels, and a student trained at T = 4;
* ``final_student`` (chapter 8): the same variant recipe, from ``random_at`` (trained at
  T = 1), at T = 4.
"""

import numpy as np
import pytest

from advlib.plan import registry
from advlib.results import store
from advlib.runs import experiments

# {student: (its teacher, the temperature of its soft labels and of its own training)}
BOOK_STUDENTS = {
    "dd_student_t50": ("dd_teacher_t50", 50.0),
    "variant_student_t4": ("variant_teacher_t1", 4.0),
    "final_student": ("random_at", 4.0),
}


class StopAfterTraining(Exception):
    """Raised by the stand-in training, so nothing after it (evaluation, saving) runs."""


class Teacher:
    """A stand-in for a trained registry model: only its name matters here."""

    def __init__(self, name):
        self.name = name


@pytest.fixture
def recorded(tmp_path, monkeypatch):
    """Stand-ins for the teachers, the data, soft-label making and student training; returns what they received."""
    from advlib.training import distillation

    monkeypatch.setenv("ADVLIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setattr(store, "PRETRAINED_DIR", tmp_path / "pretrained")
    calls = {"teachers": [], "soft_labels": [], "train_student": []}
    rng = np.random.default_rng(0)
    # Two images per class: enough for the code path, nothing to train on.
    dataset = experiments.Data(
        x_train=rng.uniform(0, 1, (20, 32, 32, 3)).astype(np.float32),
        y_train=np.repeat(np.arange(10), 2),
        x_test=rng.uniform(0, 1, (10, 32, 32, 3)).astype(np.float32),
        y_test=np.arange(10),
        source="hand-made images",
    )
    real_load_or_train = experiments.load_or_train
    students = set(BOOK_STUDENTS)

    def load_or_train(name, profile, **keywords):
        # The student under test runs the real code; every model it needs is a stand-in.
        if name in students:
            return real_load_or_train(name, profile, **keywords)
        calls["teachers"].append(name)
        return Teacher(name)

    def soft_labels(teacher, x, temperature, **keywords):
        calls["soft_labels"].append({"teacher": teacher, "x": x, "temperature": temperature})
        return np.full((len(x), 10), 0.1, np.float32)

    def train_student(x, labels, config, *, temperature, **keywords):
        calls["train_student"].append({"x": x, "labels": labels, "temperature": temperature})
        raise StopAfterTraining

    monkeypatch.setattr(experiments, "load_or_train", load_or_train)
    monkeypatch.setattr(experiments, "load_data", lambda profile, source=None: dataset)
    monkeypatch.setattr(distillation, "soft_labels", soft_labels)
    monkeypatch.setattr(distillation, "train_student", train_student)
    calls["dataset"] = dataset
    return calls


def test_the_book_names_every_student_of_the_registry():
    students = {name for name, spec in registry.MODELS.items() if spec.recipe == "student"}
    assert students == set(BOOK_STUDENTS), "a student was added or removed: add its recipe to BOOK_STUDENTS"


@pytest.mark.parametrize("student", sorted(BOOK_STUDENTS))
def test_train_or_load_makes_each_students_soft_labels_at_its_recipes_temperature(recorded, student, capsys):
    teacher_name, temperature = BOOK_STUDENTS[student]
    with pytest.raises(StopAfterTraining):
        experiments.load_or_train(student, "test", verbose=0)
    assert f"Training {student}" in capsys.readouterr().out
    assert recorded["teachers"] == [teacher_name]
    (labels_call,) = recorded["soft_labels"]
    assert isinstance(labels_call["teacher"], Teacher) and labels_call["teacher"].name == teacher_name
    assert labels_call["x"] is recorded["dataset"].x_train
    assert labels_call["temperature"] == temperature, (
        f"{student}'s soft labels were made at T = {labels_call['temperature']}, its recipe says T = {temperature:g}"
    )
    (training_call,) = recorded["train_student"]
    assert training_call["temperature"] == temperature
    assert training_call["x"] is recorded["dataset"].x_train
    np.testing.assert_array_equal(training_call["labels"], np.full((20, 10), 0.1, np.float32))
    # The saved config (and so the config hash) names the temperature the labels were made at.
    assert registry.model_config(student, "test")["soft_label_temperature"] == temperature
