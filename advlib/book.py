"""Helpers for the book's notebooks: the setup line, report-vs-book tables and glued numbers.

Every number a chapter states comes through here from a run of our code: either
measured now or loaded from the saved measurements. ``glue`` hands values to MyST-NB
so that prose can quote them; outside a Jupyter Book build (in Colab, say) it only
displays them. :func:`start` is where a notebook chooses its profile, once; every
other helper takes that profile.
"""

from advlib import catalogue, measurements, registry, text


def start(seed=0, profile=None):
    """Seed Python, NumPy and TensorFlow and print where this run's numbers come from.

    Returns the active :class:`advlib.registry.Profile`: ``profile`` if given, else
    ``$ADVLIB_PROFILE``, else full. Pass it to every later call.
    """
    import keras

    from advlib import data

    keras.utils.set_random_seed(seed)
    profile = registry.active_profile(profile)
    print("This run:", text.describe_profile(profile, data.describe_source()))
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
    for key in keys:
        catalogue.get(key)  # A ValueError naming the catalogue for an unknown key.
    models = sorted({name for key in keys for name in catalogue.get(key).models})
    saved = measurements.load_saved(profile)
    if any(key not in saved for key in keys):
        saved = measurements.measure(profile, only=models)
    values = {key: float(saved[key]["value"]) for key in keys}
    for key, value in values.items():
        if glue_values:
            glue(glue_key(key), value)
    return values


def compare(keys, profile):
    """A :class:`advlib.text.Table` of the report's value beside ours for each measurement key.

    The table's ``values`` holds ours by key (already glued, see :func:`measured`).
    """
    values = measured(keys, profile)
    rows = [(catalogue.get(key), values[key]) for key in keys]
    # Name the data the saved numbers were measured on: shipped results come from the
    # offline JPEG copy even where this notebook loads the official data (in Colab).
    saved = measurements.load_saved(profile)
    source = text.data_sources(saved[key] for key in keys)
    caption = f"Report vs this book ({text.describe_profile(profile, source)})"
    return text.comparison_table(rows, caption)


def claim_verdict(claim_id, profile):
    """The scorecard's :class:`advlib.scorecard.Row` for one claim, from the saved measurements.

    The verdict words a chapter prints come from here (the claim's rule in
    :mod:`advlib.claims` is the one home of its threshold), never from a comparison
    typed in a notebook.
    """
    from advlib import scorecard

    saved = measurements.load_saved(profile)
    (row,) = scorecard.from_saved(saved, measurements.seed_values(profile, saved), claims=[claim_id])
    return row


def claim_phrase(claim_id, profile, phrases):
    """The phrase of ``phrases`` that matches the scorecard's verdict on ``claim_id``.

    ``phrases`` maps each verdict of :data:`advlib.scorecard.VERDICTS` ("reproduced",
    "not reproduced", "reversed", "not tested") to the words a sentence uses for it, for
    example ``{"reproduced": "much larger than", ...}``. Every verdict must have words,
    so that no build can fall through to a sentence nobody wrote. Raises ValueError for a
    missing or unknown verdict.
    """
    from advlib import scorecard

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
