"""The exercise self-checks whose answers are numbers or names (see :mod:`advlib.exercises` for each signature).

Plain Python and NumPy: no TensorFlow.
"""

import numpy as np

from advlib.exercises.support import call, check_cases, Result


def check_sampling_error(function):
    cases = [(0.8, 10_000), (0.5, 500), (0.2, 2_500)]
    answers = []
    for accuracy, n in cases:
        answer, failed = call(function, accuracy, n)
        if failed:
            return failed
        try:
            answers.append(float(answer))
        except (TypeError, ValueError):
            return Result(False, f"your function returned {type(answer).__name__}, not a number")
    answers = np.array(answers)
    p, n = np.array(cases).T
    expected = np.sqrt(p * (1 - p) / n)
    if np.allclose(answers, expected, rtol=1e-6):
        return Result(True, "your standard errors match sqrt(p (1 - p) / n) on every case")
    mistakes = [
        (p * (1 - p) / n, "this is the variance: take its square root"),
        (np.sqrt(p / n), "the variance of a share is p (1 - p) / n, not p / n"),
        (1 / np.sqrt(n), "this is 1 / sqrt(n) alone: multiply by sqrt(p (1 - p))"),
        (np.sqrt(p * (1 - p) / (n - 1)), "you divided by n - 1: for a share measured on n images divide by n"),
        (100 * expected, "these are percentage points: give the error as a share, like the accuracy"),
    ]
    for candidate, hint in mistakes:
        if np.allclose(answers, candidate, rtol=1e-6):
            return Result(False, hint)
    return Result(False, "the numbers match neither sqrt(p (1 - p) / n) nor a typical mistake")


def check_steps_per_epoch(function):
    cases = [(2000, 64), (50_000, 128), (256, 32)]
    return check_cases(function, cases, [-(-n // b) for n, b in cases], [
        ([n // b for n, b in cases], "the last, smaller batch is a step too: round up, not down"),
        ([n / b for n, b in cases], "a number of steps is a whole number: round n / batch_size up"),
        ([n // b + 1 for n, b in cases], "when the batch size divides the images exactly there is no extra step"),
    ], "your step counts are right, the last smaller batch included")


def check_conv_parameters(function):
    cases = [(3, 3, 32), (3, 32, 64), (5, 16, 8)]
    return check_cases(function, cases, [k * k * c * f + f for k, c, f in cases], [
        ([k * k * c * f for k, c, f in cases], "each filter also has a bias: add one parameter per filter"),
        ([k * c * f + f for k, c, f in cases], "a square kernel has kernel_size x kernel_size weights per channel"),
        ([k * k * c * f + c for k, c, f in cases], "one bias per filter (output channel), not per input channel"),
        ([k * k * f + f for k, c, f in cases], "each filter sees every input channel: multiply by in_channels"),
    ], "your parameter counts are right")


def check_choose(function):
    cases = [
        ({"a": (0.82, 0.50), "b": (0.79, 0.60), "c": (0.81, 0.55)}, 0.80),
        ({"a": (0.70, 0.40), "b": (0.75, 0.35)}, 0.80),
        ({"a": (0.80, 0.45), "b": (0.90, 0.44)}, 0.80),
    ]

    def rule(held_out, goal, bar=True, by=1, fallback=True):
        eligible = {name: value for name, value in held_out.items() if value[0] >= goal} if bar else held_out
        if not eligible:
            eligible = held_out if fallback else {None: (0.0, 0.0)}
        return max(eligible, key=lambda name: eligible[name][by])
    return check_cases(function, cases, [rule(*case) for case in cases], [
        ([rule(*case, bar=False) for case in cases], "the clean-accuracy bar is ignored: first keep the candidates "
         "whose clean accuracy reaches clean_goal"),
        ([rule(*case, by=0) for case in cases], "you chose by clean accuracy: among those that reach the bar, "
         "choose the highest worst case"),
        ([rule(*case, fallback=False) for case in cases], "when no candidate reaches the bar, the rule falls back "
         "on the highest worst case of all"),
        ([max(case[0], key=lambda name: case[0][name][1] if case[0][name][0] > case[1] else -1) for case in cases],
         "a clean accuracy equal to the goal reaches it: use >=, not >"),
    ], "your rule chooses the reference candidate in every case")
