"""Every attack by name: one registry line per attack, as CleverHans exposes one function per attack.

An attack is a function ``attack(model, x, y, eps, **options) -> x_adv`` taking float32
images ``(N, 32, 32, 3)`` in [0, 1], labels ``(N,)`` and an L-inf radius ``eps >= 0``, and
returning float32 images of the same shape within ``eps`` of ``x`` and inside [0, 1].
Measurements, eps sweeps and audits reach attacks only through :func:`run`, so adding an
attack is writing its function and adding one line to :data:`ATTACKS`.

Entries are ``"module:function"`` strings, imported on first use, so the registry (and
everything that only names attacks, such as :mod:`advlib.plan.catalogue`) loads without
TensorFlow. Losses are callables too (:data:`LOSSES`): a measurement names one
(``loss="margin"``) and :func:`run` passes the function itself to the attack.
"""

import importlib
import inspect

ATTACKS = {
    # No attack: the clean images (so "clean accuracy" is one more row of the same loop).
    "none": "advlib.attacks.one_step:no_attack",
    "fgsm": "advlib.attacks.one_step:fgsm",
    "random_sign": "advlib.attacks.one_step:random_sign_attack",
    "fgsm_targeted": "advlib.attacks.one_step:fgsm_targeted",
    "pgd": "advlib.attacks.iterative:pgd",
    "eot_pgd": "advlib.attacks.iterative:eot_pgd",
    "eot_fgsm": "advlib.attacks.iterative:eot_fgsm",
    "apgd": "advlib.attacks.auto_pgd:apgd",
    "apgd_targeted": "advlib.attacks.auto_pgd:apgd_targeted",
    "square": "advlib.attacks.square_search:square",
}

# Losses an attack can differentiate, by the name a measurement stores. ``None`` is the
# report's loss: the cross-entropy of the softmax output, which saturates on purpose.
LOSSES = {
    "cross_entropy": None,
    "margin": "advlib.attacks.iterative:margin_loss",
    # The losses of APGD (Croce and Hein 2020), both of the logits.
    "logit_cross_entropy": "advlib.attacks.auto_pgd:cross_entropy_loss",
    "dlr": "advlib.attacks.auto_pgd:dlr_loss",
}


def _resolve(reference):
    if reference is None or callable(reference):
        return reference
    module, _, function = reference.partition(":")
    return getattr(importlib.import_module(module), function)


def get(name):
    """The attack function registered as ``name``; ``ValueError`` naming the registry otherwise."""
    if name not in ATTACKS:
        raise ValueError(f"unknown attack {name!r}: the registry has {', '.join(ATTACKS)}")
    return _resolve(ATTACKS[name])


def get_loss(name):
    """The loss callable registered as ``name`` (``None`` for the report's cross-entropy)."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}: choose one of {', '.join(LOSSES)}")
    return _resolve(LOSSES[name])


def run(name, model, x, y, eps, **options):
    """``get(name)(model, x, y, eps, **options)``, passing only the options that attack takes.

    Callers pass the options a family of attacks shares (``seed``, ``steps``,
    ``batch_size``...) without knowing which attack takes which; an option no registered
    attack takes is an error, so a typo never passes silently. ``loss`` may be a name
    from :data:`LOSSES`.
    """
    attack = get(name)
    if isinstance(options.get("loss"), str):
        options["loss"] = get_loss(options["loss"])
    accepted = inspect.signature(attack).parameters
    takes_anything = any(parameter.kind is parameter.VAR_KEYWORD for parameter in accepted.values())
    unknown = set(options) - set(known_options())
    if unknown:
        raise ValueError(f"unknown attack option(s) {sorted(unknown)}: registered attacks take {sorted(known_options())}")
    chosen = {key: value for key, value in options.items() if takes_anything or key in accepted}
    return attack(model, x, y, eps, **chosen)


def known_options():
    """Every keyword option some registered attack takes (imports the attack modules)."""
    names = set()
    for name in ATTACKS:
        parameters = inspect.signature(get(name)).parameters.values()
        names.update(p.name for p in parameters if p.kind is p.KEYWORD_ONLY)
    return names
