"""What several test modules share, in one place (test modules never import each other).

- :mod:`tests.support.paths`: the repository, its ``tools/`` folder and ``tests/data/``.
- :mod:`tests.support.linear_models`: hand-made linear softmax models and cases whose
  gradients and worst cases are closed-form (the attack, audit and metric tests).
- :mod:`tests.support.sources`: a hand-made CIFAR-like image tree and saved measurements.
- :mod:`tests.support.skips`: skip a test whose tool is missing, or fail it where CI
  requires the tool (the browser, nbgrader).

Fixtures built on these (``linear_case``, ``results_folder``, ``trained_test_environment``,
``browser``, ``server``) live in ``tests/conftest.py``.
"""
