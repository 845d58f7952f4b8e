"""Every attack the book uses, one public function each, and the registry that names them (TensorFlow).

- :mod:`advlib.attacks.one_step`: FGSM (the report's Eq. 1), the random-sign control (Eq. 2), input gradients.
- :mod:`advlib.attacks.iterative`: PGD, EOT-PGD and EOT-FGSM, transfer, the margin loss.
- :mod:`advlib.attacks.auto_pgd`: Auto-PGD with the CE, DLR and targeted DLR losses.
- :mod:`advlib.attacks.square_search`: the L-inf Square attack (scores only, no gradients).
- :mod:`advlib.attacks.registry`: every attack and loss by name.

The attack functions are reachable here (``advlib.attacks.fgsm``, ``advlib.attacks.pgd``);
TensorFlow is imported when the first one is used, not by ``import advlib.attacks``.
"""

from advlib._lazy import exports

__getattr__, __dir__ = exports(__name__, {
    "one_step": ("fgsm", "fgsm_targeted", "random_sign", "random_sign_attack", "no_attack",
                 "input_gradient_function", "probability_cross_entropy", "PROBABILITY_EPSILON"),
    "iterative": ("pgd", "eot_pgd", "eot_fgsm", "transfer", "margin_loss"),
    "auto_pgd": ("apgd", "apgd_targeted", "cross_entropy_loss", "dlr_loss", "targeted_dlr_loss"),
    "square_search": ("square",),
})
