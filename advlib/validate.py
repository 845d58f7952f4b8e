"""Checks of the arguments a user passes in, each raising ``ValueError`` that names the argument.

Pure Python: no TensorFlow, no NumPy arrays (NumPy integer and float scalars count as
numbers). Each returns the checked value, converted to a plain ``int`` or ``float``.
"""

import math
import numbers


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def positive_int(value, name, minimum=1):
    """``value`` as an ``int`` if it is an integer ``>= minimum`` (default 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def positive_number(value, name):
    """``value`` as a ``float`` if it is a finite number ``> 0``."""
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def non_negative_number(value, name):
    """``value`` as a ``float`` if it is a finite number ``>= 0``."""
    if not _is_number(value) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return float(value)


def number_in(value, name, low, high):
    """``value`` as a ``float`` if it is a number in the half-open interval ``(low, high]``."""
    if not _is_number(value) or not low < value <= high:
        raise ValueError(f"{name} must be a number in ({low:g}, {high:g}], got {value!r}")
    return float(value)


def fraction(value, name):
    """``value`` as a ``float`` if it is a finite number in ``[0, 1]`` (an accuracy or a share)."""
    if not _is_number(value) or not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def eps_values(values, name):
    """A non-empty sequence of finite numbers ``>= 0`` as a sorted list of floats without duplicates."""
    try:
        checked = sorted({float(value) for value in values})
    except (TypeError, ValueError):
        checked = None
    if not checked or not all(0.0 <= value < math.inf for value in checked):
        raise ValueError(f"{name} must be a non-empty sequence of non-negative finite numbers, got {values!r}")
    return checked


def one_of(value, name, choices):
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value
