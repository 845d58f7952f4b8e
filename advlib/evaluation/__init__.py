"""Measuring a model: accuracy, gradient sizes, the gradient-masking audit and the worst case.

- :mod:`advlib.evaluation.metrics`: accuracy on clean and perturbed images, gradient norms (TensorFlow).
- :mod:`advlib.evaluation.audit`: the gradient-masking audit; :mod:`advlib.evaluation.audit_result` what it returns.
- :mod:`advlib.evaluation.worst_case`: an image counts as robust only if every attack of a suite fails.
"""
