"""advlib.runs.pipeline.reproduce, the function behind ``python -m advlib reproduce``: its steps and their order.

Nothing is trained or measured: every step is replaced by a recorder, so these tests
check what the pipeline asks for and when, in well under a second.
"""

import pytest

from advlib import cli
from advlib.plan import registry
from advlib.runs import pipeline


@pytest.fixture
def steps(monkeypatch):
    """Replace every step of the pipeline by a recorder; returns the list of calls, in order.

    Models listed in ``steps.saved`` count as saved already; ``steps.stop_at`` names a
    model whose training is interrupted (KeyboardInterrupt, as a Ctrl-C would).
    """
    from advlib.runs import summary as reporting
    from advlib.data import cifar10 as data
    from advlib.results import store
    from advlib.runs import analyses, defence, experiments, measurements, studies, worst_case_studies

    class Calls(list):
        pass

    calls = Calls()
    calls.saved, calls.stop_at = set(), None

    def load_or_train(name, profile, **kwargs):
        assert profile is registry.get_profile("test")
        if name == calls.stop_at:
            raise KeyboardInterrupt
        calls.append(("train_or_load", name))

    def measure(profile, only=None, **kwargs):
        assert profile is registry.get_profile("test")
        calls.append(("measure", tuple(only), kwargs.get("skip_unsaved")))

    monkeypatch.setattr(experiments, "load_or_train", load_or_train)
    monkeypatch.setattr(measurements, "measure", measure)
    monkeypatch.setattr(store, "is_saved", lambda name, profile: name in calls.saved)
    monkeypatch.setattr(data, "describe_source", lambda: "a hand-made copy")
    for module, label in ((studies, "studies"), (analyses, "analyses"), (worst_case_studies, "worst cases")):
        monkeypatch.setattr(module, "run_all", lambda profile, label=label, **kwargs: calls.append((label,)))
    monkeypatch.setattr(defence, "selection", lambda profile, compute=None: calls.append(("defence", compute)))
    monkeypatch.setattr(reporting, "format_report", lambda profile: "REPORT")
    return calls


def _trained_then_measured(names):
    return [call for name in names for call in (("train_or_load", name), ("measure", (name,), True))]


def test_the_whole_registry_each_model_measured_then_studies_then_defence(steps, capsys):
    steps.saved = {"baseline"}
    done = pipeline.reproduce("test")
    names = list(registry.MODELS)
    assert steps == _trained_then_measured(names) + [("studies",), ("analyses",), ("worst cases",), ("defence", True)]
    assert done.models == tuple(names) and done.trained == tuple(name for name in names if name != "baseline")
    assert done.profile is registry.get_profile("test")
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("== model")]
    assert [line.split(";")[0] for line in lines[:2]] == [
        f"== model 1 of {len(names)}: baseline (saved)", f"== model 2 of {len(names)}: random_at (training)"]
    assert len(lines) == len(names) and all("elapsed" in line and "ETA" in line for line in lines)
    assert out.rstrip().endswith("REPORT")


def test_only_restricts_to_those_models_and_their_teachers(steps, capsys):
    pipeline.reproduce(registry.get_profile("test"), ["final_student", "dd_student_t50"], report=False)
    # Teachers first (registry order), no studies and no defence comparison.
    assert steps == _trained_then_measured(["random_at", "dd_teacher_t50", "dd_student_t50", "final_student"])
    assert "REPORT" not in capsys.readouterr().out


def test_only_a_warm_started_model_brings_the_model_it_continues(steps):
    pipeline.reproduce("test", "robust_fast_at_restart", report=False)
    assert steps == _trained_then_measured(["robust_fast_at_long", "robust_fast_at_restart"])


def test_only_a_defence_candidate_also_compares_the_candidates(steps):
    pipeline.reproduce("test", ["defence_pgd2_ema"], report=False)
    assert steps == _trained_then_measured(["defence_pgd2_ema"]) + [("defence", True)]


def test_an_interrupted_run_has_measured_every_model_it_finished(steps):
    steps.stop_at = "per_epoch_at"
    with pytest.raises(KeyboardInterrupt):
        pipeline.reproduce("test", report=False)
    # Each model was measured before the next one started, so the interruption lost nothing.
    assert steps == _trained_then_measured(["baseline", "random_at"])


@pytest.mark.parametrize("only, message", [
    (["baseline", "nonsense"], "unknown model 'nonsense'; choose from: baseline, random_at"),
    ([], "only is empty"),
    (3, "only must be None or a list of model names, got 3"),
])
def test_bad_only_is_refused_before_anything_runs(steps, only, message):
    with pytest.raises(ValueError, match=message):
        pipeline.reproduce("test", only)
    assert steps == []


def test_a_bad_profile_is_refused_before_anything_runs(steps):
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        pipeline.reproduce("fast")
    with pytest.raises(ValueError, match="no profile given"):
        pipeline.reproduce(None)
    assert steps == []


def test_the_command_line_calls_the_function(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(pipeline, "reproduce", lambda profile, only: calls.append((profile, only)))
    assert cli.main(["reproduce", "--profile", "test", "--only", "baseline", "random_at"]) == 0
    monkeypatch.setenv("ADVLIB_PROFILE", "quick")
    assert cli.main(["reproduce"]) == 0
    assert calls == [(registry.get_profile("test"), ["baseline", "random_at"]), (registry.get_profile("quick"), None)]
    # An unknown model is the parser's error (exit status 2), and nothing runs.
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["reproduce", "--profile", "test", "--only", "nonsense"])
    assert exit_info.value.code == 2 and "unknown model 'nonsense'; choose from: baseline" in capsys.readouterr().err
    assert len(calls) == 2


def _seconds(clock):
    """Seconds of a tqdm clock time, ``"MM:SS"`` or ``"H:MM:SS"``."""
    seconds = 0
    for part in clock.split(":"):
        seconds = 60 * seconds + int(part)
    return seconds


def test_the_eta_weights_each_model_by_its_training_cost(steps, monkeypatch, capsys):
    import tqdm

    from advlib.runs import experiments

    # A clock on which training takes ten seconds per unit of a model's cost (its epochs'
    # cost relative to the baseline) and nothing else takes any time.
    now = [0.0]
    monkeypatch.setattr(tqdm.std, "time", lambda: now[0])
    record = experiments.load_or_train

    def train_for_its_cost(name, profile, **kwargs):
        record(name, profile, **kwargs)
        if name not in steps.saved:
            now[0] += 10 * registry.get_spec(name).cost

    monkeypatch.setattr(experiments, "load_or_train", train_for_its_cost)
    steps.saved = {"baseline"}
    pipeline.reproduce("test", report=False)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("== model")]
    names = list(registry.MODELS)
    assert len(lines) == len(names)
    costs = [0.0 if name in steps.saved else registry.get_spec(name).cost for name in names]
    assert len(set(costs[1:])) > 2  # Models of different costs, or the test could not tell.
    for index, line in enumerate(lines):
        elapsed, eta = line.split("elapsed ")[1].split(", ETA ")
        assert _seconds(elapsed) == pytest.approx(10 * sum(costs[:index]), abs=1), line
        if sum(costs[:index]) == 0:
            assert eta == "?", line  # Nothing trained yet: no rate to go by.
        else:
            # The ETA before each model: ten seconds per unit of cost still to train.
            assert _seconds(eta) == pytest.approx(10 * sum(costs[index:]), abs=1), line
