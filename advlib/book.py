"""Helpers for the book's notebooks: the setup line, report-vs-book tables and glued numbers.

Every number a chapter states comes through here from a run of our code: either
measured now or loaded from the saved measurements. ``glue`` hands values to MyST-NB
so that prose can quote them; outside a Jupyter Book build (in Colab, say) it only
displays them. :func:`start` is where a notebook chooses its profile, once; every
other helper takes that profile.
"""

from advlib.plan import catalogue, registry
from advlib.results.measured import load_saved, seed_values
from advlib.runs import measurements
from advlib.verdicts import wording


def start(seed=0, profile=None):
    """Seed Python, NumPy and TensorFlow and print where this run's numbers come from.

    Returns the active :class:`advlib.plan.registry.Profile`: ``profile`` if given, else
    ``$ADVLIB_PROFILE``, else full. Pass it to every later call.
    """
    import keras

    from advlib import data

    keras.utils.set_random_seed(seed)
    profile = registry.active_profile(profile)
    print("This run:", wording.describe_profile(profile, data.describe_source()))
    if profile.name != "full":
        print("Numbers from a reduced profile are far from the report's; set ADVLIB_PROFILE=full for the real ones.")
    return profile


def glue(name, value, display=False):
    """Glue ``value`` under ``name`` for MyST-NB (``{glue:text}`name:.3f` `` in prose)."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        if display:
            print(f"{name} = {value}")
        return value
    myst_glue(name, value, display=display)
    return value


def glue_key(key):
    """The glue name of a measurement: its key with dots replaced by underscores."""
    return key.replace(".", "_")


def measured(keys, profile, *, glue_values=True):
    """Our values for measurement ``keys``: ``{key: float}``, measuring (and training) what is missing.

    Each value is also glued under :func:`glue_key` ``(key)``, unless ``glue_values`` is
    false (for keys a table on the same page has glued already: MyST-NB refuses a name
    glued twice).
    """
    return _measured(keys, profile, glue_values)[0]


def _measured(keys, profile, glue_values):
    """:func:`measured`'s values and the saved entries they came from, ``({key: float}, {key: entry})``.

    The saved measurements are read once here and handed on (to the caller's caption and,
    for missing keys, to ``measure``), so one table reads each file of the store once:
    never twice, and never from a copy older than this call.
    """
    for key in keys:
        catalogue.get(key)  # A ValueError naming the catalogue for an unknown key.
    saved = load_saved(profile)
    if any(key not in saved for key in keys):
        models = sorted({name for key in keys for name in catalogue.get(key).models})
        saved = measurements.measure(profile, only=models, saved=saved)
    values = {key: float(saved[key]["value"]) for key in keys}
    for key, value in values.items():
        if glue_values:
            glue(glue_key(key), value)
    return values, saved


def compare(keys, profile):
    """A :class:`advlib.verdicts.wording.Table` of the report's value beside ours for each measurement key.

    The table's ``values`` holds ours by key (already glued, see :func:`measured`).
    """
    values, saved = _measured(keys, profile, glue_values=True)
    rows = [(catalogue.get(key), values[key]) for key in keys]
    # Name the data the saved numbers were measured on: shipped results come from the
    # offline JPEG copy even where this notebook loads the official data (in Colab).
    source = wording.data_sources(saved[key] for key in keys)
    caption = f"The report and our models ({wording.describe_numbers(profile, source)})"
    return wording.comparison_table(rows, caption)


def claim_verdict(claim_id, profile):
    """The scorecard's :class:`advlib.verdicts.scorecard.Row` for one claim, from the saved measurements.

    The verdict words a chapter prints come from here (the claim's rule in
    :mod:`advlib.verdicts.claims` is the one home of its threshold), never from a comparison
    typed in a notebook.
    """
    from advlib.verdicts import scorecard

    saved = load_saved(profile)
    (row,) = scorecard.from_saved(saved, seed_values(profile, saved), claims=[claim_id])
    return row


def claim_phrase(claim_id, profile, phrases):
    """The phrase of ``phrases`` that matches the scorecard's verdict on ``claim_id``.

    ``phrases`` maps each verdict of :data:`advlib.verdicts.scorecard.VERDICTS` ("reproduced",
    "not reproduced", "reversed", "not tested") to the words a sentence uses for it, for
    example ``{"reproduced": "much larger than", ...}``. Every verdict must have words,
    so that no build can fall through to a sentence nobody wrote. Raises ValueError for a
    missing or unknown verdict.
    """
    from advlib.verdicts import scorecard

    if not isinstance(phrases, dict):
        raise ValueError(f"phrases must be a dict from verdict to words, got {type(phrases).__name__}")
    unknown = sorted(set(phrases) - set(scorecard.VERDICTS))
    missing = [verdict for verdict in scorecard.VERDICTS if verdict not in phrases]
    if unknown or missing:
        raise ValueError(
            f"phrases must give words for exactly the verdicts {', '.join(scorecard.VERDICTS)}; "
            f"missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'}"
        )
    return phrases[claim_verdict(claim_id, profile).verdict]


def stable_first_index(scores, low, high=float("inf"), *, tolerance):
    """The first position whose score lies in ``[low, high]``, refused where float noise could move it.

    A chapter's example (an image, a class) must be the same on every machine, but a
    score computed in float32 (a logit gap, a probability) can differ in its last digits
    from one CPU to another. So the choice is refused with a ValueError if any score up
    to and including the chosen one lies within ``tolerance`` of ``low`` or ``high``:
    noise smaller than ``tolerance`` then moves no score across a bound and cannot change
    the answer. ``scores`` is a 1-D sequence of floats (NaN counts as outside); returns
    an int. Also a ValueError if no score lies in the range.
    """
    import numpy as np

    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or not low <= high or not tolerance >= 0:
        raise ValueError(f"need 1-D scores, low <= high and tolerance >= 0; got shape {scores.shape}, "
                         f"low {low!r}, high {high!r}, tolerance {tolerance!r}")
    inside = (scores >= low) & (scores <= high)
    if not inside.any():
        raise ValueError(f"no score lies in [{low:g}, {high:g}] (scores range from {np.nanmin(scores):g} "
                         f"to {np.nanmax(scores):g})")
    index = int(np.argmax(inside))
    considered = scores[: index + 1]
    with np.errstate(invalid="ignore"):
        distance = np.minimum(np.abs(considered - low), np.abs(considered - high))
        close = np.flatnonzero(distance < tolerance)
    if close.size:
        position = int(close[0])
        raise ValueError(
            f"the choice is not stable: score {scores[position]:.6g} at position {position} lies within "
            f"{tolerance:g} of a bound of [{low:g}, {high:g}], so float noise could change which position is first"
        )
    return index


# Chapter 6's example image: the true class's logit leads every other logit by at least
# this much. A lead of about 17 already rounds a float32 softmax at T = 1 to exactly 1 for
# the true class (exp(-17) is below half the float32 spacing just under 1), so an image
# past 100 is saturated with room to spare, whatever the last digits of its logits.
SATURATED_EXAMPLE_LEAD = 100.0
# Logit leads closer than this to the bound are refused as too close to call.
LOGIT_TOLERANCE = 1.0
# Probabilities closer than this to a bound are refused as too close to call.
PROBABILITY_TOLERANCE = 1e-4


def true_class_lead(scores, labels):
    """Each row's true-class score minus the largest other score: ``(N,)`` float64.

    ``scores`` ``(N, classes)`` (logits or probabilities), ``labels`` ``(N,)`` integers.
    Positive exactly where the row's top class is the true one.
    """
    import numpy as np

    scores = np.asarray(scores, dtype=np.float64)
    rows = np.arange(len(scores))
    labels = np.asarray(labels, dtype=np.int64)
    others = scores.copy()
    others[rows, labels] = -np.inf
    return scores[rows, labels] - others.max(axis=1)


def saturated_example(logits, labels, *, lead=SATURATED_EXAMPLE_LEAD, tolerance=LOGIT_TOLERANCE):
    """Chapter 6's example: the first image whose true-class logit leads every other by at least ``lead``.

    ``logits`` ``(N, 10)``, ``labels`` ``(N,)``. Such an image is correctly classified and
    its float32 softmax at T = 1 gives the true class exactly 1.0. The choice goes through
    :func:`stable_first_index`, so it is the same wherever the logits differ by less than
    ``tolerance``. Returns an int.
    """
    return stable_first_index(true_class_lead(logits, labels), lead, tolerance=tolerance)


def typical_soft_label(soft_labels, labels, *, tolerance=PROBABILITY_TOLERANCE):
    """Chapter 5's example: ``(position, low, high)`` of the first typical, correct soft label.

    ``soft_labels`` ``(N, 10)`` rows of probabilities, ``labels`` ``(N,)`` the true classes.
    Typical means that the true class gets a probability between ``low``, the first quartile
    of all the rows' top-class probabilities, and ``high``, their third quartile: the
    middle half. ``low`` is raised to 0.5 where the quartile is below it, so the true class
    is also the top one (the teacher is right). The choice goes through
    :func:`stable_first_index`.
    """
    import numpy as np

    soft_labels = np.asarray(soft_labels, dtype=np.float64)
    first_quartile, third_quartile = np.quantile(soft_labels.max(axis=1), [0.25, 0.75])
    low, high = max(float(first_quartile), 0.5), float(third_quartile)
    true_probability = soft_labels[np.arange(len(soft_labels)), np.asarray(labels, dtype=np.int64)]
    return stable_first_index(true_probability, low, high, tolerance=tolerance), low, high
