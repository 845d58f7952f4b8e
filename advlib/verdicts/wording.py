"""Words and tables for the book and the command line, computed from numbers.

One :class:`Table` class renders every table (HTML in notebooks, text elsewhere); the
phrase helpers turn a comparison of numbers into the words a sentence needs, so that a
verb is chosen by the numbers, never before them. The thresholds behind a verdict's
words ("similar", "nearly all", "a few points") live in :mod:`advlib.verdicts.claims`, their one
home; this module defines none. Pure Python: no TensorFlow.
"""

from html import escape
from numbers import Real

from advlib.plan import registry


class Table:
    """A small table: ``Table(header, rows, caption)`` renders as HTML in notebooks, text elsewhere.

    ``rows`` is a list of sequences as long as ``header``; floats are shown with three
    decimals, ``None`` as a dash, everything else with ``str``. ``values`` is optional
    data a caller keeps with the table (e.g. ``{measurement key: our value}``).
    """

    def __init__(self, header, rows, caption="", values=None):
        self.header = list(header)
        self.rows = [list(row) for row in rows]
        for row in self.rows:
            if len(row) != len(self.header):
                raise ValueError(f"row {row!r} has {len(row)} cells for {len(self.header)} columns")
        self.caption = caption
        self.values = dict(values or {})

    @staticmethod
    def _text(value):
        if value is None:
            return "-"
        if isinstance(value, Real) and not isinstance(value, (bool, int)):
            return f"{value:.3f}"
        return str(value)

    def __str__(self):
        lines = [self.caption] if self.caption else []
        lines.append(" | ".join(self.header))
        lines.extend(" | ".join(self._text(value) for value in row) for row in self.rows)
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self):
        head = "".join(f"<th>{escape(name)}</th>" for name in self.header)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(self._text(value))}</td>" for value in row) + "</tr>" for row in self.rows
        )
        caption = f"<caption>{escape(self.caption)}</caption>" if self.caption else ""
        # Wide tables scroll inside the page instead of overflowing it.
        return f'<div style="overflow-x:auto"><table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def comparison_table(rows, caption):
    """The report-vs-book :class:`Table` of ``rows`` ``(measurement, our value)``; ``.values`` holds ours by key."""
    cells = []
    for measurement, ours in rows:
        if measurement.report is not None:
            report, difference = f"{measurement.report:.3f}", f"{ours - measurement.report:+.3f}"
        else:
            report, difference = measurement.report_note or "-", "-"
        cells.append([measurement.description, report, f"{ours:.3f}", difference])
    values = {measurement.key: ours for measurement, ours in rows}
    return Table(["Measurement", "Report", "This book", "Difference"], cells, caption, values=values)


# ------------------------------------------------------------------------------ phrases


def relation(ours, other):
    """"higher than", "lower than" or "equal to": how ``ours`` compares with ``other``."""
    if ours > other:
        return "higher than"
    if ours < other:
        return "lower than"
    return "equal to"


def flagged_phrase(report):
    """"is flagged (zero gradients, ...)" or "is not flagged", for an :class:`advlib.evaluation.audit_result.AuditResult`."""
    flags = report.flags
    return f"is flagged ({', '.join(flag.replace('_', ' ') for flag in flags)})" if flags else "is not flagged"


def listing(names, empty="none"):
    """``"a, b and c"``; ``empty`` when there are none."""
    names = list(names)
    if not names:
        return empty
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# ---------------------------------------------------------------------- where numbers come from


def source_kind(description):
    """The kind of data a recorded source description names, without any path of a machine.

    ``"a local JPEG copy of CIFAR-10"``, ``"the official CIFAR-10"`` (downloaded or a
    local copy of the official release), or the description itself when unknown.
    """
    text = description or ""
    if "JPEG" in text:
        return "a local JPEG copy of CIFAR-10"
    if "PNG" in text:
        return "a local PNG copy of CIFAR-10"
    if "official" in text or "keras.datasets" in text:
        return "the official CIFAR-10"
    return text or "not recorded"


def data_sources(entries):
    """The kinds of data recorded in saved entries (models, measurements or studies), as one phrase.

    Saved numbers may come from another source than the one this process would load (the
    shipped full-profile results were measured on the offline JPEG copy, a Colab reader
    loads the official data), so tables say where their numbers were measured.
    """
    kinds = sorted({source_kind(entry.get("data_source")) for entry in entries})
    return " and ".join(kinds) if kinds else "nothing saved yet"


def describe_profile(profile, data_source):
    """One line for a caption or log: profile, sizes, epochs and the kind of data (``data_source``)."""
    profile = registry.get_profile(profile)
    sizes = "all 50,000 training and 10,000 test images" if profile.per_class is None else (
        f"{profile.per_class[0]} training and {profile.per_class[1]} test images per class"
    )
    return f"profile {profile.name!r}: {sizes}, {profile.epochs} epochs; data: {source_kind(data_source)}"


def describe_numbers(profile, data_source):
    """What a table's numbers were measured on, for a chapter's caption.

    The book's own setting (the full profile) is described by its data alone; a reduced
    profile is named, since its numbers are not the book's.
    """
    profile = registry.get_profile(profile)
    if profile.name == "full":
        return f"all 10,000 test images; data: {source_kind(data_source)}"
    return describe_profile(profile, data_source) + "; not the book's numbers"


def candidate_phrase(name, checklist, values):
    """One clause on a robust candidate against chapter 11's goal, from its :func:`advlib.verdicts.expectations.goal_checklist`.

    ``values`` holds the candidate's measurements by key. Whole-test-set accuracies get
    four decimals (10,000 images on full), so that a value just below a bar never prints
    as equal to it; subset accuracies get three.
    """
    met = sum(condition.met is True for condition in checklist)
    unchecked = sum(condition.met is None for condition in checklist)
    failed = len(checklist) - met - unchecked
    if unchecked and not failed:
        verdict = f"is not judged yet ({unchecked} conditions wait for its worst case)"
    else:
        verdict = "meets the goal" if met == len(checklist) else "does not meet the goal"
    worst = values[name + ".worst_case"]
    worst_text = (
        "no worst case yet" if worst is None else
        f"a worst case of {worst:.3f} on the stratified subset (FGSM there {values[name + '.worst_case_fgsm']:.3f})"
    )
    return (
        f"{verdict}: it meets {met} of the {len(checklist)} conditions, with a clean accuracy of "
        f"{values[name + '.clean']:.4f}, FGSM accuracy {values[name + '.fgsm']:.4f} on the whole test set "
        f"({values[name + '.fgsm_subset']:.3f} on the subset), PGD {values[name + '.pgd']:.3f} and "
        f"EOT-PGD {values[name + '.eot_pgd']:.3f} on the subset, and {worst_text}"
    )


def margin_phrase(value, bar, test_size, bar_label):
    """``"above the report's 0.598 by 0.0003, 3 of the 10,000 test images"`` (or below / level with).

    A margin this small is best read as a count of test images; ``bar_label`` names the bar.
    """
    margin = value - bar
    images = round(abs(margin) * test_size)
    side = "above" if margin > 0 else "below" if margin < 0 else "level with"
    detail = f" by {abs(margin):.4f}, {images:,} of the {test_size:,} test images" if margin else ""
    return f"{side} {bar_label} {bar:.3f}{detail}"

