"""Profiles: how much data and training a run uses (``full``, ``quick``, ``test``).

The profile is chosen once, at the edge (:func:`active_profile`, called by the command
line and :func:`advlib.book.start`), and passed down as an object. Nothing here imports
TensorFlow. :mod:`advlib.plan.registry` re-exports these names, where most code finds them.
"""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """How much data and training a run uses. ``per_class`` is ``(train, test)`` or ``None`` for all."""

    name: str
    per_class: tuple | None
    epochs: int
    batch_size: int
    learning_rate: float = 2e-3
    seed: int = 0
    eps: float = 0.01


PROFILES = {
    "full": Profile("full", None, epochs=20, batch_size=128),
    "quick": Profile("quick", (200, 50), epochs=8, batch_size=64),
    "test": Profile("test", (12, 4), epochs=3, batch_size=32),
}


def get_profile(profile):
    """The :class:`Profile` for ``profile`` (a ``Profile`` or one of the names in :data:`PROFILES`).

    ``None`` is refused: library functions are handed the profile chosen at the edge
    (:func:`active_profile`), never a guess from the environment.
    """
    if isinstance(profile, Profile):
        return profile
    if profile is None:
        raise ValueError(
            "no profile given: pass a profile name or Profile (advlib.book.start() and "
            "advlib.plan.registry.active_profile() return the active one)"
        )
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)} (or set ADVLIB_PROFILE)")
    return PROFILES[profile]


def active_profile(name=None):
    """The profile a run uses: ``name`` if given, else ``$ADVLIB_PROFILE``, else ``full``.

    The only place that reads ``$ADVLIB_PROFILE``; call it once, at the edge.
    """
    return get_profile(name or os.environ.get("ADVLIB_PROFILE") or "full")
