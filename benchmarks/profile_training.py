"""Where a training epoch's time goes: the pieces of one epoch of each recipe, timed apart.

Not a test: a profile, run before changing the training loop (issue 31) and after. On
``--images`` CIFAR-10 training images it times, each a few times (wall and CPU seconds
of this process, median):

* building one epoch's ``tf.data`` pipeline (``advlib.training.make_dataset``) and a
  full pass over it without training (shuffle buffer and augmentation);
* one training epoch of the baseline through ``advlib.training.fit``;
* the pieces of the adversarial recipes' epochs: random-sign copies, FGSM copies (and
  how often FGSM's gradient function is traced over several epochs), the concatenation
  of the clean images with their copies;

and with ``--cprofile`` it runs ``--epochs`` epochs of one recipe under ``cProfile`` and
prints the functions with the most time of their own.

    python benchmarks/profile_training.py [--images 5000] [--repeats 3] [--cprofile per_epoch_at]
"""

import argparse
import cProfile
import os
import pstats
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def timed(function, repeats):
    """``(median wall seconds, median CPU seconds, last result)`` of ``repeats`` calls of ``function``."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.time(), time.process_time()
        result = function()
        walls.append(time.time() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000, help="training images (per class = images / 10)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--cprofile", metavar="RECIPE", help="also run this recipe under cProfile")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the --cprofile run")
    arguments = parser.parse_args()

    import numpy as np

    from advlib import attacks, data, models, training

    (x, y), _ = data.load_cifar10(per_class=(arguments.images // 10, 1), seed=0)
    x, _ = data.preprocess(x, y)
    labels = training.one_hot(y)
    batch_size = arguments.batch_size
    cpu_seconds = {}

    def row(key, label, function, repeats=arguments.repeats):
        wall, cpu, result = timed(function, repeats)
        cpu_seconds[key] = cpu
        print(f"{label:<58} {wall:8.2f} {cpu:8.2f}", flush=True)
        return result

    print(f"{len(x)} images, batch {batch_size}, {os.cpu_count()} CPUs, "
          f"load average at start {os.getloadavg()[0]:.2f}")
    print(f"{'piece (median of ' + str(arguments.repeats) + ')':<58} {'wall s':>8} {'CPU s':>8}")
    row("build", "make_dataset: build (N images)", lambda: training.make_dataset(x, labels, batch_size=batch_size))
    dataset = training.make_dataset(x, labels, batch_size=batch_size)
    row("pass", "make_dataset: one pass, no training (N)", lambda: sum(1 for _ in dataset))
    config = training.TrainingConfig(epochs=arguments.repeats + 1, batch_size=batch_size, seed=0)
    history = training.train_baseline(x, y, config, verbose=0)[1]
    wall, cpu = statistics.median(history["seconds"][1:]), statistics.median(history["cpu_seconds"][1:])
    print(f"{'baseline epoch through fit (N), first epoch dropped':<58} {wall:8.2f} {cpu:8.2f}", flush=True)
    row("random_sign", "random_sign copies (N)", lambda: attacks.random_sign(x, 0.01, seed=1))
    copies = attacks.random_sign(x, 0.01, seed=1)
    row("concatenate", "np.concatenate clean + copies (2N)", lambda: np.concatenate([x, copies]))
    model = models.build_cnn(seed=0)
    training.compile_model(model, config, 1)
    attacks.fgsm(model, x[:10], y[:10], 0.01)  # trace once outside the timing
    row("fgsm", "fgsm copies (N), batch 500", lambda: attacks.fgsm(model, x, y, 0.01))
    traces = attacks.input_gradient_function(model).experimental_get_tracing_count()
    print(f"FGSM's gradient function was traced {traces} time(s) for {arguments.repeats + 1} calls "
          f"({len(x) % 500 or 500} images in the last batch)")
    print(f"per-epoch extras relative to the baseline epoch (CPU): "
          f"FGSM {cpu_seconds['fgsm'] / cpu:.2f}, random-sign {cpu_seconds['random_sign'] / cpu:.3f}, "
          f"concatenation {cpu_seconds['concatenate'] / cpu:.3f}, "
          f"pipeline build + pass {(cpu_seconds['build'] + cpu_seconds['pass']) / cpu:.3f}")

    if arguments.cprofile:
        config = training.TrainingConfig(epochs=arguments.epochs, batch_size=batch_size, seed=0)
        profiler = cProfile.Profile()
        profiler.enable()
        training.RECIPES[arguments.cprofile](x, y, config, verbose=0)
        profiler.disable()
        print(f"\ncProfile of {arguments.epochs} epochs of {arguments.cprofile}, by own time:")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
