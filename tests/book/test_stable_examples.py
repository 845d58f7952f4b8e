"""Every example a chapter picks is the same in every run (issue 28, item 5).

Each chapter's example selection (chapter 3's first flipped test image and its four test
images of different classes, chapter 5's typical soft label and its training subset,
chapter 6's saturated test image, chapter 7's first test image) runs in two separate
Python processes, with different hash seeds, and the chosen indices are compared. The
selections run from the chapters' own cells, read from the notebooks, so the test
follows the code a reader runs; tiny hand-made models and data stand in for the trained
ones, so it takes seconds. A selection that needs a float comparison goes through
:func:`advlib.book.stable_first_index`, which refuses a choice rounding noise could move.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest
from tests.support.paths import REPOSITORY

BOOK = REPOSITORY / "book"
MARK = "SELECTIONS "

# Each chapter's selection: the notebook, a fragment that finds the cell (or cells, run in
# order) that make the choice, and the names whose values are the choice.
SELECTIONS = {
    "ch3 first flipped image": ("03_fgsm.ipynb", ["np.flatnonzero(flipped)"], ["index"]),
    "ch3 four images of different classes": ("03_fgsm.ipynb", ["np.flatnonzero(flipped)", "chosen = "], ["chosen"]),
    "ch5 typical soft label": ("05_defensive_distillation.ipynb", ["advlib.book.typical_soft_label("], ["subset", "example"]),
    "ch6 saturated test image": ("06_gradient_hiding.ipynb", ["advlib.book.saturated_example("], ["index"]),
    "ch7 first test image": ("07_variant.ipynb", ["index = 0"], ["index"]),
}


def chapter_cell(notebook, fragment):
    """The source of the one code cell of ``notebook`` that contains ``fragment``."""
    cells = [cell.source for cell in nbformat.read(BOOK / notebook, as_version=4).cells
             if cell.cell_type == "code" and fragment in cell.source]
    assert len(cells) == 1, f"{notebook}: expected one code cell containing {fragment!r}, found {len(cells)}"
    return cells[0]


def _tiny_model(temperature, seed, logit_scale):
    """An untrained build_cnn whose logits are multiplied by ``logit_scale`` (a stand-in for a trained one)."""
    from advlib import models

    model = models.build_cnn(temperature=temperature, seed=seed)
    layer = model.get_layer("logits")
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel * logit_scale, bias])
    return model


def _labels_mostly_predicted(model, x, rng, *, wrong_first=0, wrong_share=0.2):
    """Labels equal to ``model``'s predictions but for a share of random ones and ``wrong_first`` wrong ones.

    Every class is present (the last ten labels are 0 to 9), and the first ``wrong_first``
    images are misclassified on purpose, so that a rule asking for a right answer must skip them.
    """
    import numpy as np

    from advlib.evaluation import metrics as evaluation

    predictions = evaluation.predict_probabilities(model, x).argmax(axis=1)
    labels = predictions.copy()
    wrong = rng.random(len(labels)) < wrong_share
    labels[wrong] = rng.integers(0, 10, size=int(wrong.sum()))
    labels[:wrong_first] = (predictions[:wrong_first] + 1) % 10
    labels[-10:] = np.arange(10)
    return labels.astype(np.int64)


def namespace_for_chapters():
    """The names the chapters' selection cells use, bound to tiny hand-made models and data."""
    import types

    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    import tensorflow as tf

    import advlib.attacks
    import advlib.book
    import advlib.data
    import advlib.evaluation.metrics
    import advlib.models
    import advlib.training.distillation
    from advlib import attacks, models
    from advlib.evaluation import metrics
    from advlib.plots import defences

    advlib.book.start(profile="test")  # seeds Python, NumPy and TensorFlow, as each chapter does
    rng = np.random.default_rng(1)
    x_train = rng.random((120, 32, 32, 3), dtype=np.float32)
    x_test = rng.random((60, 32, 32, 3), dtype=np.float32)
    # Logits scaled so that each rule has to pass over a few images before it chooses.
    baseline = _tiny_model(1.0, seed=3, logit_scale=1.0)
    teacher = _tiny_model(50.0, seed=4, logit_scale=300.0)
    student = _tiny_model(50.0, seed=5, logit_scale=150.0)
    data = types.SimpleNamespace(
        x_train=x_train, y_train=_labels_mostly_predicted(teacher, x_train, rng, wrong_first=1),
        x_test=x_test, y_test=_labels_mostly_predicted(baseline, x_test, rng, wrong_first=3),
    )
    y_test_student = _labels_mostly_predicted(student, x_test, rng)
    labels_t1 = advlib.training.distillation.soft_labels(teacher, x_test, 1.0)
    return {
        "np": np, "tf": tf, "advlib": advlib, "attacks": attacks, "metrics": metrics, "models": models,
        "defences": defences, "CLASS_NAMES": advlib.data.CLASS_NAMES, "profile": None,
        "data": data, "baseline": baseline, "eps": 0.01, "teacher": teacher,
        "student_t50": student, "student_logits": models.logits_model(student),
        "x_test": x_test, "y_test": y_test_student, "labels_t1": labels_t1, "labels_t4": labels_t1,
    }


def child_main():
    """Run every chapter's selection cells here and print the chosen indices as one JSON line."""
    if os.environ.get("ADVLIB_PLANT_UNSTABLE_SELECTION"):
        # A planted selection that depends on the process, to see the comparison catch it.
        import random

        print(MARK + json.dumps({"planted": {"index": random.SystemRandom().randrange(10**9)}}), flush=True)
        return
    import numpy as np

    names = namespace_for_chapters()
    chosen = {}
    for name, (notebook, fragments, outputs) in SELECTIONS.items():
        namespace = dict(names)  # a copy: one chapter's cells cannot change another's inputs
        for fragment in fragments:
            exec(compile(chapter_cell(notebook, fragment), f"{notebook}: {fragment}", "exec"), namespace)
        chosen[name] = {output: np.asarray(namespace[output]).tolist() for output in outputs}
    chosen["checks"] = check_choices(chosen, names)
    print(MARK + json.dumps(chosen), flush=True)


def check_choices(chosen, names):
    """Whether each choice meets its chapter's condition on the stand-in data: ``{check: bool}``."""
    import numpy as np

    import advlib.book
    import advlib.training.distillation

    data, x_test, y_test = names["data"], names["x_test"], names["y_test"]
    predict = advlib.evaluation.metrics.predict_probabilities
    flipped = chosen["ch3 first flipped image"]["index"]
    x_adv = advlib.attacks.one_step.fgsm(names["baseline"], data.x_test[: flipped + 1], data.y_test[: flipped + 1], names["eps"])
    right = predict(names["baseline"], data.x_test[: flipped + 1]).argmax(axis=1) == data.y_test[: flipped + 1]
    wrong_after = predict(names["baseline"], x_adv).argmax(axis=1) != data.y_test[: flipped + 1]
    index = chosen["ch6 saturated test image"]["index"]
    leads = advlib.book.true_class_lead(predict(names["student_logits"], x_test[: index + 1]), y_test[: index + 1])
    subset, example = (chosen["ch5 typical soft label"][key] for key in ("subset", "example"))
    labels = advlib.training.distillation.soft_labels(names["teacher"], data.x_train[subset], 50.0)
    _, low, high = advlib.book.typical_soft_label(labels, data.y_train[subset])
    return {
        "ch3: the first image right before FGSM and wrong after, past misclassified ones":
            bool(flipped > 0 and right[flipped] and wrong_after[flipped] and not (right & wrong_after)[:flipped].any()),
        "ch3: the first test image of classes 1, 3, 6 and 8": chosen["ch3 four images of different classes"]["chosen"]
            == [int(np.flatnonzero(data.y_test == label)[0]) for label in (1, 3, 6, 8)],
        "ch5: a true-class probability inside [low, high], past images outside it":
            bool(example > 0 and low <= labels[example, data.y_train[subset][example]] <= high),
        "ch6: the first lead of at least 100, past smaller ones":
            bool(index > 0 and leads[index] >= advlib.book.SATURATED_EXAMPLE_LEAD > leads[:index].max()),
        "ch7: the first test image": chosen["ch7 first test image"]["index"] == 0,
    }


def selections_in_two_processes(extra_env=None):
    """Run :func:`child_main` in two processes with different hash seeds; return both results."""
    processes = []
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed, TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg",
                   **(extra_env or {}))
        processes.append(subprocess.Popen(
            [sys.executable, "-c", "import tests.book.test_stable_examples as t; t.child_main()"],
            cwd=REPOSITORY, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, f"a selection process failed:\n{stderr[-3000:]}"
        lines = [line for line in stdout.splitlines() if line.startswith(MARK)]
        assert lines, f"a selection process printed no selections:\n{stdout[-2000:]}"
        results.append(json.loads(lines[-1][len(MARK):]))
    return results


@pytest.fixture(scope="module")
def two_runs():
    return selections_in_two_processes()


def test_every_chapter_example_is_the_same_in_two_processes(two_runs):
    first, second = two_runs
    assert set(first) == set(SELECTIONS) | {"checks"}, f"selections made: {sorted(first)}"
    differing = {name: (first[name], second[name]) for name in first if first[name] != second[name]}
    assert not differing, f"example selections that differ between two processes: {differing}"


def test_the_selections_chose_what_the_chapters_say(two_runs):
    """The stand-in data exercise each rule: each choice passes over earlier images and meets its condition."""
    checks = two_runs[0]["checks"]
    failed = [check for check, passed in checks.items() if not passed]
    assert not failed, f"choices that do not meet their chapter's condition: {failed}"


def test_a_process_dependent_selection_is_caught():
    first, second = selections_in_two_processes({"ADVLIB_PLANT_UNSTABLE_SELECTION": "1"})
    assert first["planted"] != second["planted"], "the planted process-dependent selection went unnoticed"


def test_stable_first_index_refuses_a_choice_noise_could_change():
    import advlib.book

    assert advlib.book.stable_first_index([3.0, 150.0, 120.0], 100.0, tolerance=1.0) == 1
    assert advlib.book.stable_first_index([0.2, 0.7, 0.9], 0.5, 0.8, tolerance=1e-3) == 1
    with pytest.raises(ValueError, match="not stable"):
        advlib.book.stable_first_index([3.0, 99.5, 150.0], 100.0, tolerance=1.0)
    with pytest.raises(ValueError, match="not stable"):
        advlib.book.stable_first_index([0.2, 0.79995, 0.7], 0.5, 0.8, tolerance=1e-3)
    with pytest.raises(ValueError, match="no score"):
        advlib.book.stable_first_index([1.0, 2.0], 100.0, tolerance=1.0)
