"""Helpers for the book's notebooks: the setup line, report-vs-book tables and glued numbers.

Every number a chapter states comes through here from a run of our code: either
measured now or loaded from the saved measurements. ``glue`` hands values to MyST-NB
so that prose can quote them; outside a Jupyter Book build (in Colab, say) it only
displays them.
"""

from advlib import experiments, measurements


def start(seed=0):
    """Seed Python, NumPy and TensorFlow and print where this run's numbers come from.

    Returns the active :class:`advlib.experiments.Profile` (``$ADVLIB_PROFILE``, else full).
    """
    import keras

    keras.utils.set_random_seed(seed)
    profile = experiments.get_profile()
    print("This run:", experiments.describe_profile(profile))
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


def measured(keys, profile=None):
    """Our values for measurement ``keys``: ``{key: float}``, measuring (and training) what is missing.

    Each value is also glued under :func:`glue_key` ``(key)``.
    """
    profile = experiments.get_profile(profile)
    unknown = [key for key in keys if key not in measurements.MEASUREMENTS_BY_KEY]
    if unknown:
        raise ValueError(f"unknown measurement(s) {unknown}; see advlib.measurements.MEASUREMENTS")
    models = sorted({name for key in keys for name in measurements.MEASUREMENTS_BY_KEY[key].models})
    saved = measurements.load_saved(profile)
    if any(key not in saved for key in keys):
        saved = measurements.measure(profile, only=models)
    values = {key: float(saved[key]["value"]) for key in keys}
    for key, value in values.items():
        glue(glue_key(key), value)
    return values


def relation(ours, other):
    """A phrase comparing two numbers for the prose: "higher than", "lower than" or "equal to"."""
    if ours > other:
        return "higher than"
    if ours < other:
        return "lower than"
    return "equal to"


class ComparisonTable:
    """A report-vs-book table that renders as HTML in notebooks and as text elsewhere."""

    def __init__(self, rows, caption):
        self.rows = rows
        self.caption = caption

    @property
    def values(self):
        """Our values by measurement key: ``{key: float}`` (already glued by :func:`compare`)."""
        return {measurement.key: ours for measurement, ours in self.rows}

    def _cells(self):
        for measurement, ours in self.rows:
            report = f"{measurement.report:.3f}" if measurement.report is not None else (measurement.report_note or "—")
            difference = f"{ours - measurement.report:+.3f}" if measurement.report is not None else "—"
            yield measurement.description, report, f"{ours:.3f}", difference

    def _repr_html_(self):
        header = "<tr><th>Measurement</th><th>Report</th><th>This book</th><th>Difference</th></tr>"
        body = "".join(
            "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>" for cells in self._cells()
        )
        return f"<table><caption>{self.caption}</caption>{header}{body}</table>"

    def __repr__(self):
        lines = [self.caption] + [" | ".join(cells) for cells in self._cells()]
        return "\n".join(lines)


def compare(keys, profile=None):
    """A :class:`ComparisonTable` of the report's value beside ours for each measurement key."""
    profile = experiments.get_profile(profile)
    values = measured(keys, profile)
    rows = [(measurements.MEASUREMENTS_BY_KEY[key], values[key]) for key in keys]
    # Name the data the saved numbers were measured on: shipped results come from the
    # offline JPEG copy even where this notebook loads the official data (in Colab).
    saved = measurements.load_saved(profile)
    source = measurements.data_sources(saved[key] for key in keys)
    caption = f"Report vs this book ({experiments.describe_profile(profile, data_source=source)})"
    return ComparisonTable(rows, caption)

