"""Throughput of ``advlib.attacks.one_step.fgsm`` against a peer FGSM, in images per second.

This is a benchmark, not a test: it prints a table and a summary line and checks
nothing. Run it from the repository root::

    .venv/bin/python benchmarks/fgsm_throughput.py                 # 2000 images, 5 repeats
    .venv/bin/python benchmarks/fgsm_throughput.py --batch-size 500 --repeats 9

The peer is CleverHans' TF2 ``fast_gradient_method`` when ``cleverhans`` is importable
(it is not a dependency of advlib; ``pip install --no-deps cleverhans`` is enough, since
the TF2 attacks need only numpy and tensorflow). Otherwise the peer is the textbook eager
FGSM loop defined below (``tf.GradientTape`` per batch, Keras ``CategoricalCrossentropy``
on the softmax output). The output says which peer was used.

Both attacks run on the same untrained ``advlib.models.build_cnn(seed=0)``, the same
random float32 images in [0, 1] with integer labels, the same eps, [0, 1] clipping and
batch size (CleverHans processes whatever it is given in one call, so it is called once
per batch). Each attack gets one untimed warm-up pass over the whole input first, so
tf.function tracing (including the trace for a smaller last batch) is not timed. Timed
runs are interleaved (advlib, peer, advlib, peer, ...) so that load from other processes
hits both alike; the table reports medians, and the ratio advlib/peer is given both as the
ratio of the medians and as the median of the per-repeat ratios. A ratio above 1 means
advlib is faster. Both sides return NumPy arrays, so the peer's ``.numpy()`` is timed too.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Let the script run from a checkout without installing advlib.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

from advlib import models
from advlib.attacks import one_step as attacks  # noqa: E402


def textbook_fgsm(model, x, y, eps, batch_size, clip=(0.0, 1.0)):
    """Plain eager FGSM, as tutorials write it: one ``GradientTape`` per batch.

    ``x`` float32 ``(N, 32, 32, 3)`` in [0, 1], ``y`` integer labels ``(N,)``; returns a
    float32 NumPy array of the shape of ``x``. The loss is Keras' categorical
    cross-entropy of the model's softmax output.
    """
    loss_fn = keras.losses.CategoricalCrossentropy()
    num_classes = int(model.outputs[0].shape[-1])
    out = np.empty_like(x)
    for start in range(0, len(x), batch_size):
        x_batch = tf.convert_to_tensor(x[start : start + batch_size])
        y_batch = tf.one_hot(y[start : start + batch_size], num_classes)
        with tf.GradientTape() as tape:
            tape.watch(x_batch)
            loss = loss_fn(y_batch, model(x_batch, training=False))
        gradient = tape.gradient(loss, x_batch)
        x_adv = tf.clip_by_value(x_batch + eps * tf.sign(gradient), clip[0], clip[1])
        out[start : start + batch_size] = x_adv.numpy()
    return out


def make_peer(model, kind):
    """Return ``(name, attack)`` where ``attack(x, y_int, eps, batch_size) -> np.ndarray``."""
    if kind in ("auto", "cleverhans"):
        try:
            from cleverhans.tf2.attacks.fast_gradient_method import fast_gradient_method
        except Exception as error:  # ImportError, or a broken install of an old package
            if kind == "cleverhans":
                raise SystemExit(f"CleverHans requested but not importable: {error!r}")
            print(f"note: CleverHans is not importable ({error!r}); using the textbook eager FGSM as peer")
        else:
            try:
                version = metadata.version("cleverhans")
            except metadata.PackageNotFoundError:
                version = "unknown version"
            logits = models.logits_model(model)

            def cleverhans_attack(x, y, eps, batch_size):
                out = np.empty_like(x)
                for start in range(0, len(x), batch_size):
                    stop = start + batch_size
                    x_adv = fast_gradient_method(
                        logits,
                        x[start:stop],
                        eps,
                        np.inf,
                        clip_min=0.0,
                        clip_max=1.0,
                        y=y[start:stop],
                        targeted=False,
                    )
                    out[start:stop] = x_adv.numpy()
                return out

            return f"CleverHans {version} fast_gradient_method", cleverhans_attack

    def textbook_attack(x, y, eps, batch_size):
        return textbook_fgsm(model, x, y, eps, batch_size)

    return "textbook eager tf.GradientTape FGSM, not CleverHans", textbook_attack


def sanity_check(model, x, y, eps, batch_size, peer):
    """Compare advlib's perturbation with the peer's on the benchmark input."""
    probabilities = model.predict(x, batch_size=batch_size, verbose=0)
    a = attacks.fgsm(model, x, y, eps, batch_size=batch_size)
    b = peer(x, y, eps, batch_size)
    sign_a, sign_b = np.sign(a - x), np.sign(b - x)
    return {
        "max_probability": float(probabilities.max()),
        "saturated": int(np.sum(probabilities.max(axis=1) >= 1.0 - attacks.PROBABILITY_EPSILON)),
        "equal_signs": float(np.mean(sign_a == sign_b)),
        "max_abs_difference": float(np.max(np.abs(a - b))),
    }


def benchmark(model, x, y, eps, batch_size, repeats, peer):
    def run_advlib():
        return attacks.fgsm(model, x, y, eps, batch_size=batch_size)

    def run_peer():
        return peer(x, y, eps, batch_size)

    # Warm-up over the full input: traces the full-batch and the last-batch shapes.
    run_advlib()
    run_peer()

    times = {"advlib": [], "peer": []}
    for _ in range(repeats):
        for name, run in (("advlib", run_advlib), ("peer", run_peer)):
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000, help="number of random images (default 2000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each attack (default 5)")
    parser.add_argument(
        "--batch-size",
        type=int,
        nargs="+",
        default=[256, attacks.DEFAULT_BATCH_SIZE],
        help=f"batch size(s) given to both attacks (default: 256 {attacks.DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument("--eps", type=float, default=0.01, help="L-inf step (default 0.01)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the random images and labels")
    parser.add_argument(
        "--peer",
        choices=("auto", "cleverhans", "textbook"),
        default="auto",
        help="auto: CleverHans if importable, else the textbook eager loop",
    )
    args = parser.parse_args(argv)
    if args.images < 1 or args.repeats < 1 or min(args.batch_size) < 1:
        parser.error("--images, --repeats and --batch-size must be positive")

    rng = np.random.default_rng(args.seed)
    x = rng.random((args.images, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, size=args.images)
    model = models.build_cnn(seed=0)
    peer_name, peer = make_peer(model, args.peer)

    print(f"advlib.fgsm vs peer: {peer_name}")
    print(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPU(s), devices: {', '.join(d.device_type for d in tf.config.list_logical_devices())}"
    )
    print(f"{args.images} random images (32, 32, 3) in [0, 1], integer labels, eps={args.eps:g}, clip [0, 1], "
          f"model build_cnn(seed=0), {args.repeats} interleaved repeats after one warm-up each")

    check = sanity_check(model, x, y, args.eps, min(args.batch_size), peer)
    print(
        f"sanity: max softmax probability {check['max_probability']:.4f} "
        f"({check['saturated']} saturated images); "
        f"sign(x_adv - x) equal for {100 * check['equal_signs']:.4f}% of pixels; "
        f"max |advlib - peer| = {check['max_abs_difference']:.3g}"
    )
    print()

    header = f"{'batch':>6} | {'advlib img/s (median, min-max)':>32} | {'peer img/s (median, min-max)':>30} | {'ratio of medians':>16} | {'median of ratios':>16}"
    print(header)
    print("-" * len(header))
    summaries = []
    for batch_size in args.batch_size:
        times = benchmark(model, x, y, args.eps, batch_size, args.repeats, peer)
        rate_a = [args.images / t for t in times["advlib"]]
        rate_b = [args.images / t for t in times["peer"]]
        median_a, median_b = statistics.median(rate_a), statistics.median(rate_b)
        ratio = median_a / median_b
        pair_ratio = statistics.median(a / b for a, b in zip(rate_a, rate_b))
        print(
            f"{batch_size:>6} | {median_a:>10.1f} ({min(rate_a):7.1f}-{max(rate_a):7.1f})"
            f"{'':>5} | {median_b:>10.1f} ({min(rate_b):7.1f}-{max(rate_b):7.1f})"
            f"{'':>3} | {ratio:>16.3f} | {pair_ratio:>16.3f}"
        )
        summaries.append((batch_size, median_a, median_b, ratio, pair_ratio))
    print()
    for batch_size, median_a, median_b, ratio, pair_ratio in summaries:
        print(
            f"batch {batch_size}: advlib.fgsm: {median_a:.1f} img/s, peer ({peer_name}): "
            f"{median_b:.1f} img/s, ratio advlib/peer = {ratio:.3f} "
            f"(median of paired ratios {pair_ratio:.3f})"
        )


if __name__ == "__main__":
    main()
