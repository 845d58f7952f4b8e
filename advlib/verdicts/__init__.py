"""How sure each number is and what it says (no TensorFlow).

- :mod:`advlib.verdicts.uncertainty`: binomial intervals, error bars over seeds, Welch's t, a permutation test.
- :mod:`advlib.verdicts.claims`: the report's findings and every threshold that judges them (one home each).
- :mod:`advlib.verdicts.expectations`: what we expected our own measurements to show.
- :mod:`advlib.verdicts.scorecard`: each claim's number, interval and verdict.
- :mod:`advlib.verdicts.wording`: words and tables computed from numbers and verdicts.
"""
