"""A stand-in for Colab's ``google.colab`` package, for the simulated Colab run.

tests/book/test_colab_simulation.py starts its kernels with ``colab_kernel_launcher.py``
(beside ``google/``), which imports this module before the kernel starts, as Colab's own
launcher does: the Colab edition's setup cell takes ``"google.colab" in sys.modules`` to
mean "running in Colab" and installs advlib. Nothing else of Colab's API is used by the
book, so nothing else is here. ``google`` has no ``__init__.py`` on purpose: it is a
namespace package, like the real one, so ``google.protobuf`` (which TensorFlow needs)
still imports from site-packages.
"""

SIMULATED = True
