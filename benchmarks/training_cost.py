"""Seconds and CPU seconds per training epoch: the project's loop against a bare model.fit, and every recipe against a clean epoch.

Not a test: a benchmark (issue 31). In one run, interleaved (bare, bare_untuned, baseline,
random_at, random_every_epoch, per_epoch_at, robust_fast_at, robust_pgd2_ema, validation,
then again), so that load from other work on the machine hits all alike:

* **bare**: Keras ``model.fit`` for ``--epochs`` epochs on one in-memory, cached,
  prefetched (``AUTOTUNE``) ``tf.data`` pipeline, reshuffled every epoch, with the same
  CNN, augmentation, batch size, optimiser and schedule: what this machine can do;
  **bare_untuned** the same with tf.data's autotuning off (as the project's pipeline has
  it), whose thread can stall the end of an epoch;
* **baseline**: a clean epoch through the project's loop (``advlib.training.train_baseline``,
  i.e. ``advlib.training.fit``);
* the adversarial recipes through the same loop: random-sign copies made once
  (``random_at``) or every epoch (``random_every_epoch``), per-epoch FGSM copies
  (``per_epoch_at``), all three on twice the images, and fast adversarial training with one
  FGSM step from a random start per batch (``robust_fast_at``, eps 0.01) or two PGD steps
  with a moving average of the weights (``robust_pgd2_ema``, as ``defence_pgd2_ema``);
* **validation**: the pass over the validation images that ``fit`` makes after every
  epoch when given ``validation_data`` (here over the same images, batch 1000), which
  the runs above leave out.

Each run's first epoch (tracing) is dropped. Per epoch it records wall and CPU seconds of
this process, the CPU share (CPU / (wall x cores)) and the 1-minute load average, and
prints medians and ratios of medians to the project's clean epoch (and of the clean epoch
to bare). ``--json`` saves the figures, with the date, the machine and whether it was
contended, for :mod:`advlib.plan.cost`.

    python benchmarks/training_cost.py [--images 5000] [--epochs 2] [--repeats 4] [--json advlib/plan/training_cost.json]

The images are a stratified subset (``--images / 10`` per class) of the configured
CIFAR-10 source (ADVLIB_CIFAR10 or the download).
"""

import argparse
import json
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RUNS = ("bare", "bare_untuned", "baseline", "random_at", "random_every_epoch", "per_epoch_at", "robust_fast_at", "robust_pgd2_ema",
        "validation")
# Images per epoch, in units of the training set.
EPOCH_IMAGES = {"random_at": 2, "random_every_epoch": 2, "per_epoch_at": 2}
# The done-when goals of issue 31, as ratios of medians to the project's clean epoch.
GOALS = (("baseline", "bare", 1.10), ("baseline", "bare_untuned", 1.10), ("per_epoch_at", "baseline", 2.3),
         ("random_at", "baseline", 2.1), ("random_every_epoch", "baseline", 2.1))
# The machine counts as contended when other work was running before the benchmark
# started, or when the load stayed above what the training alone makes.
CONTENDED_RULE = "load average (1 min) before the first run >= 0.5, or its median at the epochs' ends > the core count"


def _load():
    return float(os.getloadavg()[0]) if hasattr(os, "getloadavg") else None


def bare_fit(x, labels, config, *, autotune=True):
    """Keras's own loop on one cached, prefetched pipeline: the history as ``training.fit`` records it.

    ``autotune=False`` switches tf.data's autotuning off (prefetching 2 batches), as the
    project's pipeline does: the autotuning thread can stall the end of an epoch.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    from advlib import models, training

    class EpochTimer(keras.callbacks.Callback):
        # From one epoch's end to the next: whatever Keras does between epochs counts.
        def on_train_begin(self, logs=None):
            self.history = {"seconds": [], "cpu_seconds": [], "load_average": []}
            self.mark = (time.time(), time.process_time(), _load())

        def on_epoch_end(self, epoch, logs=None):
            now = (time.time(), time.process_time(), _load())
            self.history["seconds"].append(now[0] - self.mark[0])
            self.history["cpu_seconds"].append(now[1] - self.mark[1])
            self.history["load_average"].append([self.mark[2], now[2]])
            self.mark = now

    layer = training.augmentation(config.seed)
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, labels)).cache()
        .shuffle(len(x), seed=config.seed, reshuffle_each_iteration=True)
        .batch(config.batch_size)
        .map(lambda images, batch_labels: (tf.clip_by_value(layer(images, training=True), 0.0, 1.0), batch_labels))
        .prefetch(tf.data.AUTOTUNE if autotune else 2)
    )
    if not autotune:
        options = tf.data.Options()
        options.autotune.enabled = False
        dataset = dataset.with_options(options)
    model = models.build_cnn(seed=config.seed)
    training.compile_model(model, config, int(np.ceil(len(x) / config.batch_size)))
    timer = EpochTimer()
    model.fit(dataset, epochs=config.epochs, verbose=0, callbacks=[timer], shuffle=False)  # it reshuffles itself
    return timer.history


def validation_passes(x, labels, config):
    """``config.epochs`` passes of ``evaluate`` as ``training.fit`` makes them, timed as epochs are."""
    from advlib import models, training

    model = training.compile_model(models.build_cnn(seed=config.seed), config, 1)
    dataset = training.validation_dataset((x, labels))
    history = {"seconds": [], "cpu_seconds": [], "load_average": []}
    for _ in range(config.epochs):
        started, cpu_started, load_started = time.time(), time.process_time(), _load()
        model.evaluate(dataset, verbose=0)
        history["seconds"].append(time.time() - started)
        history["cpu_seconds"].append(time.process_time() - cpu_started)
        history["load_average"].append([load_started, _load()])
    return history


def train(name, x, y, config):
    """One run of ``name``; returns its ``fit`` history."""
    from advlib import training

    if name == "validation":
        return validation_passes(x, training.one_hot(y), config)
    if name in ("bare", "bare_untuned"):
        return bare_fit(x, training.one_hot(y), config, autotune=name == "bare")
    if name == "robust_fast_at":
        return training.train_robust_fast_at(x, y, config, train_eps=0.01, verbose=0)[1]
    if name == "robust_pgd2_ema":
        return training.train_robust_fast_at(x, y, config, train_eps=0.01, attack_steps=2, step_factor=0.625,
                                             ema_decay=0.999, verbose=0)[1]
    return training.RECIPES[name](x, y, config, verbose=0)[1]


def paired_ratios(histories, clean_histories, key):
    """Per repeat, the run's median epoch over the clean epoch's median in the same repeat (nearest in time)."""
    return [statistics.median(history[key][1:]) / statistics.median(clean[key][1:])
            for history, clean in zip(histories, clean_histories)]


def summarise(name, histories, training_images, cores):
    """Medians over the runs' epochs after the first, per epoch and per training-set image."""
    wall = [value for history in histories for value in history["seconds"][1:]]
    cpu = [value for history in histories for value in history["cpu_seconds"][1:]]
    loads = [pair[1] for history in histories for pair in history["load_average"][1:] if pair[1] is not None]
    shares = [c / (w * cores) for w, c in zip(wall, cpu)]
    return {
        "recipe": name,
        "epoch_images": EPOCH_IMAGES.get(name, 1) * training_images,
        "wall_seconds": [round(value, 3) for value in wall],
        "cpu_seconds": [round(value, 3) for value in cpu],
        "cpu_share": [round(value, 3) for value in shares],
        "load_average_at_epoch_end": [round(value, 2) for value in loads],
        "median_wall_seconds": statistics.median(wall),
        "median_cpu_seconds": statistics.median(cpu),
        # Per image of the training set (not of the doubled epoch): what advlib.plan.cost scales.
        "wall_seconds_per_training_image": statistics.median(wall) / training_images,
        "cpu_seconds_per_training_image": statistics.median(cpu) / training_images,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000, help="training images (stratified, per class = images / 10)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run; the first is dropped as warm-up")
    parser.add_argument("--repeats", type=int, default=4, help="interleaved runs of each")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS), help="which runs (default: all)")
    parser.add_argument("--json", help="also save the figures to this JSON file (for advlib.plan.cost)")
    arguments = parser.parse_args()
    if arguments.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is warm-up)")
    if "baseline" not in arguments.runs:
        parser.error("--runs must include baseline: every ratio is to the project's clean epoch")

    import tensorflow as tf

    from advlib.data import cifar10 as data
    from advlib.training import recipes as training

    load_before = _load()
    (x_train, y_train), _ = data.load_cifar10(per_class=(arguments.images // 10, 1), seed=0)
    x_train, _ = data.preprocess(x_train, y_train)
    config = training.TrainingConfig(epochs=arguments.epochs, batch_size=arguments.batch_size, seed=0)
    cores = os.cpu_count() or 1
    histories = {name: [] for name in arguments.runs}
    started = time.time()
    for repeat in range(arguments.repeats):
        for name in arguments.runs:
            history = train(name, x_train, y_train, config)
            histories[name].append(history)
            print(f"repeat {repeat + 1}, {name}: wall {['%.1f' % s for s in history['seconds']]} s, "
                  f"CPU {['%.1f' % s for s in history['cpu_seconds']]} s, load at end "
                  f"{history['load_average'][-1][1]}", flush=True)
    summary = {name: summarise(name, runs, len(x_train), cores) for name, runs in histories.items()}
    clean = summary["baseline"]
    for name, entry in summary.items():
        entry["wall_ratio_to_clean_epoch"] = entry["median_wall_seconds"] / clean["median_wall_seconds"]
        entry["cpu_ratio_to_clean_epoch"] = entry["median_cpu_seconds"] / clean["median_cpu_seconds"]
        entry["paired_wall_ratios"] = paired_ratios(histories[name], histories["baseline"], "seconds")
        entry["paired_cpu_ratios"] = paired_ratios(histories[name], histories["baseline"], "cpu_seconds")
    # The largest share of the cores any measured training epoch had: the best evidence of
    # what training gets with the machine to itself (advlib.plan.cost divides CPU time by it).
    # (At most 1: timer granularity can put a short epoch a little above.)
    best_share = min(1.0, max(max(entry["cpu_share"]) for name, entry in summary.items() if name != "validation"))
    loads = [value for entry in summary.values() for value in entry["load_average_at_epoch_end"]]
    contended = (load_before is not None and load_before >= 0.5) or (bool(loads) and statistics.median(loads) > cores)

    print()
    print(f"{len(x_train)} training images ({arguments.images // 10} per class), batch {arguments.batch_size}, "
          f"{arguments.repeats} interleaved runs x {arguments.epochs} epochs (first dropped), TensorFlow "
          f"{tf.__version__}, {cores} CPUs ({platform.processor() or platform.machine()}), "
          f"{(time.time() - started) / 60:.0f} min")
    print(f"load average (1 min): {load_before} before; at the epochs' ends median "
          f"{statistics.median(loads):.2f}, max {max(loads):.2f}: {'contended' if contended else 'not contended'}; "
          f"best CPU share of a training epoch {best_share:.2f}")
    print(f"{'run':<20} {'images/epoch':>12} {'wall s':>8} {'CPU s':>8} {'CPU share':>9} {'wall ratio':>10} "
          f"{'CPU ratio':>9} {'paired wall':>11}")
    for name, entry in summary.items():
        print(f"{name:<20} {entry['epoch_images']:>12} {entry['median_wall_seconds']:>8.2f} "
              f"{entry['median_cpu_seconds']:>8.2f} {statistics.median(entry['cpu_share']):>9.2f} "
              f"{entry['wall_ratio_to_clean_epoch']:>10.2f} {entry['cpu_ratio_to_clean_epoch']:>9.2f} "
              f"{statistics.median(entry['paired_wall_ratios']):>11.2f}")
    print("(medians per epoch; ratios of medians to the project's clean epoch, 'baseline'; paired wall: the median\n"
          " over repeats of the ratio to the clean epoch of the same repeat)")
    goals = {}
    for name, reference, goal in GOALS:
        if name in summary and reference in summary:
            wall = summary[name]["median_wall_seconds"] / summary[reference]["median_wall_seconds"]
            cpu = summary[name]["median_cpu_seconds"] / summary[reference]["median_cpu_seconds"]
            goals[f"{name}/{reference}"] = {"wall": wall, "cpu": cpu, "goal": goal}
            print(f"{name} / {reference}: wall {wall:.2f}, CPU {cpu:.2f} (goal <= {goal}: "
                  f"wall {'met' if wall <= goal else 'not met'}, CPU {'met' if cpu <= goal else 'not met'})")

    if arguments.json:
        record = {
            "date": time.strftime("%Y-%m-%d"),
            "machine": {"processor": platform.processor() or platform.machine(), "platform": platform.platform(),
                        "cpu_count": cores, "gpus": [device.name for device in tf.config.list_physical_devices("GPU")]},
            "tensorflow": tf.__version__,
            "training_images": len(x_train),
            "batch_size": arguments.batch_size,
            "epochs_per_run": arguments.epochs,
            "repeats": arguments.repeats,
            "load_average_before": load_before,
            "contended": contended,
            "contended_rule": CONTENDED_RULE,
            "best_cpu_share": best_share,
            "runs": summary,
            "goals": goals,
        }
        with open(arguments.json, "w") as handle:
            json.dump(record, handle, indent=1)
            handle.write("\n")
        print(f"saved {os.path.basename(arguments.json)}")


if __name__ == "__main__":
    main()
