"""Figures for the book, one module per subject; nothing is drawn at import time.

All figures use :data:`COLORS`, Okabe and Ito's colour-blind-safe palette, label their
axes and return the Matplotlib figure so a notebook can show or save it.

- :mod:`advlib.plots.gradients`: gradient-norm panels (the report's Figs. 4-6).
- :mod:`advlib.plots.images`: example images, augmentation, FGSM examples, training curves.
- :mod:`advlib.plots.distillation`: soft labels and their entropy.
- :mod:`advlib.plots.defences`: per-class bars for one image, accuracy bars for many models.
- :mod:`advlib.plots.robustness`: accuracy against eps, the gradient-masking audit's grid.
- :mod:`advlib.plots.seeds`: accuracies of several training seeds per recipe.
"""

# Okabe & Ito (2008), a palette distinguishable with the common colour-vision deficiencies.
COLORS = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
CORRECT_COLOR = COLORS["vermillion"]
INCORRECT_COLOR = COLORS["blue"]
