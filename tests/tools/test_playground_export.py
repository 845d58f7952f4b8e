"""The live FGSM figures' build side, without a browser or a built site.

tools/playground_export.py (which figures it exports, where their files go, what it
refuses) and the options and markup of the ``{fgsm-playground}`` directive
(_ext/fgsm_playground.py). tests/book/test_playground.py checks the built pages themselves.
"""

from __future__ import annotations

import importlib.util
import sys
import types

import playground_export
import pytest
from playground_export import Figure, fallback_name, parse_figure

from tests.support.paths import REPOSITORY as ROOT


@pytest.fixture(scope="module")
def extension():
    spec = importlib.util.spec_from_file_location("fgsm_playground_under_test", ROOT / "_ext" / "fgsm_playground.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_figure_argument_gives_model_temperature_and_image():
    assert parse_figure("baseline") == Figure("baseline", None, 0)
    assert parse_figure("baseline::0") == Figure("baseline", None, 0)
    assert parse_figure("dd_student_t50:1:1") == Figure("dd_student_t50", 1.0, 1)
    for figure in (Figure(), Figure("dd_student_t50", 1.0, 1), Figure("random_at", 0.01, 19)):
        assert parse_figure(figure.spec()) == figure


@pytest.mark.parametrize("text, words", [
    ("baseline:warm", "T must be a number"),
    ("baseline:1:first", "IMAGE a whole number"),
    ("baseline:1:1:1", "MODEL:T:IMAGE"),
    ("baseline:0", "positive"),
    ("baseline:-1", "positive"),
    ("baseline:inf", "positive"),
    ("baseline:1:20", "0 to 19"),
    ("../baseline", "registry model"),
])
def test_a_bad_figure_argument_says_what_is_wrong(text, words):
    with pytest.raises(ValueError, match=words):
        parse_figure(text)


def test_each_figure_has_its_own_fallback_and_chapter_3_keeps_its_name():
    assert fallback_name() == Figure().fallback_name() == "fallback.png"
    assert Figure("dd_student_t50", 1.0, 1).fallback_name() == "fallback-T1-image1.png"
    figures = [Figure("m", t, i) for t in (None, 1.0, 50.0, 0.5) for i in (0, 1, 12)]
    assert len({figure.fallback_name() for figure in figures}) == len(figures)


def test_the_export_removes_only_its_own_stale_files(tmp_path):
    written = [tmp_path / "images.json", tmp_path / "images.bin", tmp_path / "baseline" / "weights.bin",
               tmp_path / "baseline" / "fallback.png"]
    stale = [tmp_path / "weights.bin", tmp_path / "fallback.png",  # the flat layout of format 1
             tmp_path / "baseline" / "fallback-T1.png", tmp_path / "dd_teacher_t50" / "weights.json"]
    other = [tmp_path / ".exported", tmp_path / "notes.txt", tmp_path / "baseline" / "README"]
    for path in written + stale + other:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    playground_export.remove_stale(tmp_path, written)
    assert all(path.exists() for path in written + other)
    assert not any(path.exists() for path in stale) and not (tmp_path / "dd_teacher_t50").exists()


def test_only_the_table_1_network_is_exported(monkeypatch):
    """The page's network reads exactly NETWORK_WEIGHTS; a model with other weights is refused by name."""
    import advlib

    def fake_model(names):
        return types.SimpleNamespace(weights=[types.SimpleNamespace(path=name) for name in names])

    shipped = {"cnn": fake_model(playground_export.NETWORK_WEIGHTS),
               "noisy": fake_model(("noise/scale", *playground_export.NETWORK_WEIGHTS))}
    fake = types.SimpleNamespace(load_or_train=lambda name, profile, train: shipped[name])
    import advlib.runs

    monkeypatch.setattr(advlib.runs, "experiments", fake, raising=False)
    monkeypatch.setitem(sys.modules, "advlib.runs.experiments", fake)
    assert playground_export.load_model("cnn") is shipped["cnn"]
    with pytest.raises(playground_export.ExportError, match="'noisy' is not the Table-1 CNN"):
        playground_export.load_model("noisy")


def test_network_weights_are_those_of_build_cnn():
    from advlib import models

    assert tuple(variable.path for variable in models.build_cnn().weights) == playground_export.NETWORK_WEIGHTS


def test_directive_options_refuse_bad_values(extension):
    assert extension.positive_temperature("50") == 50.0
    for text in ("0", "-2", "nan", "inf", "warm"):
        with pytest.raises(ValueError, match="temperature"):
            extension.positive_temperature(text)
    assert extension.bundled_image("19") == 19
    with pytest.raises(ValueError, match="numbered 0 to 19"):
        extension.bundled_image("20")


def test_markup_carries_the_options_and_adds_the_second_switch_only_when_asked(extension):
    def node(**options):
        defaults = dict(model="baseline", temperature=None, image=0, attack_temperature=None,
                        model_name="the baseline", alt=extension.DEFAULT_ALT, fallback="fallback.png")
        return extension.playground_node(**{**defaults, **options})

    chapter_3 = extension.markup("../_static/playground/", node())
    assert "data-temperature" not in chapter_3 and "advlib-playground-attack" not in chapter_3
    assert 'src="../_static/playground/baseline/fallback.png"' in chapter_3
    chapter_6 = extension.markup("../_static/playground/", node(
        model="dd_student_t50", temperature=1.0, image=1, attack_temperature=50.0, model_name="the student at T = 1",
        alt='an "airplane" <unchanged>', fallback="fallback-T1-image1.png"))
    for text in ('data-model="dd_student_t50"', 'data-temperature="1"', 'data-attack-temperature="50"',
                 'data-image="1"', 'class="advlib-playground-attack"', "gradient taken at T = 50",
                 'alt="an &quot;airplane&quot; &lt;unchanged&gt;"', "class probabilities of the student at T = 1",
                 'src="../_static/playground/dd_student_t50/fallback-T1-image1.png"'):
        assert text in chapter_6, text
