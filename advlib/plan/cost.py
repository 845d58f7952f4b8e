"""Training cost: every registry model's training time, estimated from measured epochs.

The wall times in the training records count whatever else ran on the machine (the
shipped full-profile epochs of one model vary by a factor of six), so the book states
training cost as an estimate instead: ``benchmarks/training_cost.py`` measures, on a
subset of CIFAR-10, each recipe's epochs in CPU seconds and wall seconds and how much of
the machine they had (CPU share), and saves them with the date and machine
(``advlib/plan/training_cost.json``, shipped with the package so a chapter can read it in Colab); :func:`estimate` scales them to each model's recipe,
epochs and training-set size. No TensorFlow: ``python -m advlib report`` may use it.

    from advlib.plan import cost
    full = cost.estimate(cost.load_benchmark(), "full")
    full["total_seconds"] / 3600, full["models"]["baseline"]["seconds"]
"""

import json
from pathlib import Path

from advlib import validate
from advlib.plan import registry

# Where benchmarks/training_cost.py --json saves its figures; shipped with the package (package data).
BENCHMARK_FILE = Path(__file__).resolve().parent / "training_cost.json"
# Training-set images of each class on a profile that uses all of CIFAR-10.
ALL_PER_CLASS = 5000
# Benchmark runs for the registry's robust_fast_at models, by attack steps per batch.
_FAST_RUNS = {1: "robust_fast_at", 2: "robust_pgd2_ema"}


def load_benchmark(path=None):
    """The figures ``benchmarks/training_cost.py --json`` saved (default :data:`BENCHMARK_FILE`), as a dict."""
    path = Path(path) if path is not None else BENCHMARK_FILE
    if not path.is_file():
        raise ValueError(
            f"no training-cost benchmark at {path.name}: run "
            "python benchmarks/training_cost.py --json advlib/plan/training_cost.json in a checkout of the repository"
        )
    return json.loads(path.read_text())


def benchmark_run(spec):
    """The benchmark run whose epochs cost what an epoch of registry model ``spec`` costs."""
    if spec.recipe == "student":
        # Clean images with a teacher's soft labels: a clean epoch (the soft labels are one
        # prediction pass, made once).
        return "baseline"
    if spec.recipe == "robust_fast_at":
        steps = dict(spec.options).get("attack_steps", 1)
        if steps not in _FAST_RUNS:
            raise ValueError(f"{spec.name!r} takes {steps} attack steps per batch; the benchmark measures only "
                             f"{sorted(_FAST_RUNS)}")
        return _FAST_RUNS[steps]
    return spec.recipe


def training_images(spec, profile):
    """How many training images registry model ``spec`` trains on, on ``profile`` (its held-out part excluded)."""
    profile = registry.get_profile(profile)
    per_class = ALL_PER_CLASS if profile.per_class is None else profile.per_class[0]
    if spec.holdout:
        per_class -= registry.holdout_per_class(profile)
    return per_class * 10


def validation_images(spec, profile):
    """How many images ``fit`` evaluates after each epoch: the held-out part or the test set."""
    profile = registry.get_profile(profile)
    if spec.holdout:
        return registry.holdout_per_class(profile) * 10
    # The full test set has 1,000 images of each class.
    return (1000 if profile.per_class is None else profile.per_class[1]) * 10


def _per_image(benchmark, run):
    runs = benchmark.get("runs", {})
    if run not in runs:
        raise ValueError(f"the benchmark has no {run!r} run (it has {', '.join(runs) or 'none'}): "
                         "run benchmarks/training_cost.py with every run")
    cores = validate.positive_int(benchmark["machine"]["cpu_count"], "the benchmark's cpu_count")
    share = validate.number_in(benchmark["best_cpu_share"], "the benchmark's best_cpu_share", 0.0, 1.0)
    cpu = float(runs[run]["cpu_seconds_per_training_image"])
    # Wall time with the machine to itself: the CPU time spread over the cores at the
    # largest share of them a measured training epoch had. Under contention that share is
    # lower than it would be alone, so the estimate errs long, never short.
    return cpu, cpu / (cores * share)


def estimate(benchmark, profile="full", names=None, *, validation=True):
    """Estimated training time of registry models on ``profile`` from ``benchmark`` (:func:`load_benchmark`).

    ``names``: registry model names (default: the whole registry). Each model costs
    ``epochs x training images x`` its benchmark run's seconds per training image, plus,
    with ``validation``, ``epochs x validation images x`` the validation run's.

    Returns ``{"models": {name: {"run", "epochs", "training_images", "validation_images",
    "cpu_seconds", "seconds"}}, "total_cpu_seconds", "total_seconds", "basis"}``:
    ``seconds`` is the estimated wall time with the machine to itself (CPU time over the
    cores times the benchmark's best CPU share of a training epoch), ``cpu_seconds`` the
    CPU time, and
    ``basis`` says what the figures rest on (date, machine, images, contended or not).
    """
    profile = registry.get_profile(profile)
    names = list(registry.MODELS) if names is None else list(names)
    models = {}
    for name in names:
        spec = registry.get_spec(name)
        run = benchmark_run(spec)
        epochs = registry.training_config(profile, spec).epochs
        images, checked = training_images(spec, profile), validation_images(spec, profile) if validation else 0
        cpu, wall = _per_image(benchmark, run)
        validation_cpu, validation_wall = _per_image(benchmark, "validation") if validation else (0.0, 0.0)
        models[name] = {
            "run": run,
            "epochs": epochs,
            "training_images": images,
            "validation_images": checked,
            "cpu_seconds": epochs * (images * cpu + checked * validation_cpu),
            "seconds": epochs * (images * wall + checked * validation_wall),
        }
    return {
        "models": models,
        "total_cpu_seconds": sum(model["cpu_seconds"] for model in models.values()),
        "total_seconds": sum(model["seconds"] for model in models.values()),
        "basis": {
            "date": benchmark["date"],
            "machine": benchmark["machine"],
            "benchmark_training_images": benchmark["training_images"],
            "contended": benchmark["contended"],
            "profile": profile.name,
            "best_cpu_share": benchmark["best_cpu_share"],
            "method": "epochs x images x the benchmark run's CPU seconds per image, over the cores at the best "
                      "CPU share a measured training epoch had (benchmarks/training_cost.py)",
        },
    }
