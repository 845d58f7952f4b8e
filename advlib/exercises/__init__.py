"""Self-checks for the exercises: a verdict and a hint, no grading server.

- :mod:`advlib.exercises.checks`: the exercises where a student writes a method, and :func:`check`.
- :mod:`advlib.exercises.numbers`: the exercises whose answers are numbers or names.
- :mod:`advlib.exercises.support`: what the checks share (the result, hand-made cases, comparisons).

``advlib.exercises.check(name, function)`` is :func:`advlib.exercises.checks.check`.
"""

from advlib._lazy import exports

__getattr__, __dir__ = exports(__name__, {"checks": ("CHECKS", "check")})
