"""Seconds per training epoch of baseline, random_at and per_epoch_at, as ratios to the baseline.

Not a test: a benchmark. The three recipes train on the same images with the same
config; each run trains a few epochs, the first (which includes tracing) is dropped,
and runs are interleaved (baseline, random, per-epoch, baseline, ...) so that load from
other work on the machine hits all three alike. An epoch of random_at or per_epoch_at
trains on twice the images, and per_epoch_at also makes FGSM copies of the whole
training set, so neither can cost much under 2x the baseline; the goal for per-epoch
training is at most 2.3x.

    python benchmarks/training_cost.py [--images 5000] [--epochs 3] [--repeats 2]

The images come from the configured CIFAR-10 source (ADVLIB_CIFAR10 or the download).
"""

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000, help="training images (stratified, per class = images / 10)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run; the first is dropped as warm-up")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved runs of each recipe")
    parser.add_argument("--batch-size", type=int, default=128)
    arguments = parser.parse_args()
    if arguments.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is warm-up)")

    import tensorflow as tf

    from advlib.data import cifar10 as data
    from advlib.training import recipes as training

    (x_train, y_train), _ = data.load_cifar10(per_class=(arguments.images // 10, 1), seed=0)
    x_train, _ = data.preprocess(x_train, y_train)
    config = training.TrainingConfig(epochs=arguments.epochs, batch_size=arguments.batch_size, seed=0)
    recipes = {
        "baseline": training.train_baseline,
        "random_at": training.train_random_at,
        "per_epoch_at": training.train_per_epoch_at,
    }
    seconds = {name: [] for name in recipes}
    for repeat in range(arguments.repeats):
        for name, recipe in recipes.items():
            started = time.time()
            _, history = recipe(x_train, y_train, config, verbose=0)
            seconds[name].extend(history["seconds"][1:])
            print(f"repeat {repeat + 1}, {name}: epochs {['%.1f' % s for s in history['seconds']]} s "
                  f"(run {time.time() - started:.0f} s)", flush=True)

    baseline = statistics.median(seconds["baseline"])
    print()
    print(f"{len(x_train)} images, batch {arguments.batch_size}, TensorFlow {tf.__version__}, "
          f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()})")
    print(f"{'recipe':<14} {'median s/epoch':>15} {'ratio to baseline':>18}")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"{name:<14} {median:>15.2f} {median / baseline:>18.2f}")


if __name__ == "__main__":
    main()
