"""What :func:`advlib.evaluation.audit.audit` returns: the symptoms, their numbers, and how they are shown and saved.

Pure Python (no TensorFlow), so saved audits can be read back and printed by
``python -m advlib report`` without loading a model.
"""

from dataclasses import dataclass, field

@dataclass
class Symptom:
    """One check of the audit.

    Attributes:
        name: short key, e.g. ``"zero_gradients"``.
        flagged: ``True`` if the symptom is present, ``False`` if not, ``None`` if it was
            not checked (e.g. no surrogate was given).
        measured: the numbers the decision is based on, by name.
        rule: the condition that flags the symptom, in words with its threshold.
        explanation: one line on what the result means.
    """

    name: str
    flagged: object
    measured: dict
    rule: str
    explanation: str


@dataclass
class AuditResult:
    """The result of :func:`audit`: a list of :class:`Symptom` and the accuracies behind them.

    ``flags`` lists the names of the symptoms present; ``str(report)`` is a plain-text
    table and notebooks show an HTML one.
    """

    symptoms: list
    eps: float
    clean_accuracy: float
    pgd_accuracy_by_eps: dict = field(default_factory=dict)

    @property
    def flags(self):
        """Names of the symptoms present (``flagged is True``), in the order checked."""
        return [symptom.name for symptom in self.symptoms if symptom.flagged is True]

    def summary(self):
        """The numbers behind the flags, by name: ``clean``, ``zero_gradients`` (a share),
        ``fgsm`` and ``pgd`` (at ``eps``), ``transfer`` (the stronger transfer attack, ``None``
        if not checked), ``pgd_at_largest_eps`` and ``eot_pgd`` (``None`` for a deterministic
        model); accuracies in [0, 1]."""
        return {
            "clean": self.clean_accuracy,
            "zero_gradients": self["zero_gradients"].measured["zero_fraction"],
            "fgsm": self["one_step_beats_iterated"].measured["fgsm_accuracy"],
            "pgd": self["one_step_beats_iterated"].measured["pgd_accuracy"],
            "transfer": self["transfer_beats_white_box"].measured.get("transfer_accuracy"),
            "pgd_at_largest_eps": self["accuracy_does_not_fall"].measured["pgd_accuracy_at_largest_eps"],
            "eot_pgd": self._eot_accuracy(),
        }

    def _eot_accuracy(self):
        # Reports saved before the randomness check existed have no such symptom.
        names = [symptom.name for symptom in self.symptoms]
        if "randomness_hides_gradients" not in names:
            return None
        return self["randomness_hides_gradients"].measured.get("eot_pgd_accuracy")

    def to_dict(self):
        """This report as JSON-serialisable data; :meth:`from_dict` rebuilds an equal report.

        JSON object keys are strings, so the ``{eps: accuracy}`` dicts (here and in a
        symptom's ``measured``) are written as lists of ``[eps, accuracy]`` pairs, which
        keep the float eps exact.
        """
        return {
            "eps": float(self.eps),
            "clean_accuracy": float(self.clean_accuracy),
            "pgd_accuracy_by_eps": _pairs(self.pgd_accuracy_by_eps),
            "symptoms": [
                {
                    "name": symptom.name,
                    # numpy booleans are not JSON; None (not checked) stays None.
                    "flagged": None if symptom.flagged is None else bool(symptom.flagged),
                    "measured": {
                        key: _pairs(value) if isinstance(value, dict) else float(value)
                        for key, value in symptom.measured.items()
                    },
                    "rule": symptom.rule,
                    "explanation": symptom.explanation,
                }
                for symptom in self.symptoms
            ],
        }

    @classmethod
    def from_dict(cls, data):
        """The report that :meth:`to_dict` wrote as ``data`` (e.g. read back from JSON)."""
        try:
            symptoms = [
                Symptom(
                    item["name"],
                    item["flagged"],
                    {
                        key: _unpairs(value) if isinstance(value, list) else value
                        for key, value in item["measured"].items()
                    },
                    item["rule"],
                    item["explanation"],
                )
                for item in data["symptoms"]
            ]
            return cls(
                symptoms=symptoms,
                eps=data["eps"],
                clean_accuracy=data["clean_accuracy"],
                pgd_accuracy_by_eps=_unpairs(data["pgd_accuracy_by_eps"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not an AuditResult.to_dict() result: {error!r}") from None

    def __getitem__(self, name):
        for symptom in self.symptoms:
            if symptom.name == name:
                return symptom
        raise KeyError(name)

    def _rows(self):
        for symptom in self.symptoms:
            status = {True: "FLAGGED", False: "ok", None: "not checked"}[symptom.flagged]
            measured = ", ".join(f"{key} = {_format(value)}" for key, value in symptom.measured.items())
            yield symptom.name, status, measured or "-", symptom.rule, symptom.explanation

    def __str__(self):
        header = (
            f"Gradient-masking audit at eps = {self.eps:.4g} (clean accuracy {self.clean_accuracy:.3f}); "
            f"flags: {', '.join(self.flags) or 'none'}"
        )
        lines = [header]
        for name, status, measured, rule, explanation in self._rows():
            lines.append(f"- {name}: {status}; {measured}; flagged if {rule}\n    {explanation}")
        return "\n".join(lines)

    # The plain-text table is also what a console or a text-only notebook output shows.
    __repr__ = __str__

    def _repr_html_(self):
        from advlib.verdicts.wording import Table

        caption = (
            f"Gradient-masking audit at eps = {self.eps:.4g} (clean accuracy {self.clean_accuracy:.3f}); "
            f"flags: {', '.join(self.flags) or 'none'}"
        )
        return Table(["symptom", "status", "measured", "flagged if", "meaning"], list(self._rows()), caption)._repr_html_()


def _pairs(mapping):
    """``{eps: accuracy}`` as a list of ``[eps, accuracy]`` float pairs, for JSON."""
    return [[float(key), float(value)] for key, value in mapping.items()]


def _unpairs(pairs):
    """The inverse of :func:`_pairs`."""
    return {float(key): float(value) for key, value in pairs}


def _format(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key:.4g}: {item:.3f}" for key, item in value.items()) + "}"
    return str(value)
