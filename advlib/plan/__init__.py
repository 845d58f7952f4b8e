"""What the book trains and measures, as plain data (no TensorFlow).

- :mod:`advlib.plan.profiles`: how much data and training a run uses (``full``, ``quick``, ``test``).
- :mod:`advlib.plan.registry`: every model's recipe and config hash, the seed study, the views.
- :mod:`advlib.plan.cost`: every model's training time, estimated from measured epochs (``training_cost.json``).
- :mod:`advlib.plan.catalogue`: every number the book measures, with the report's value where it has one.
"""
