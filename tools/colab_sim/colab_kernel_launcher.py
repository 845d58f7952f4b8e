"""Kernel launcher of the simulated Colab runtime (tests/book/test_colab_simulation.py).

Colab starts its IPython kernel with ``python3 -m colab_kernel_launcher``, which imports
``google.colab`` first; this does the same with the stand-in package beside this file
(running this file puts its folder on ``sys.path``), then starts an ordinary ipykernel.
"""

import google.colab  # noqa: F401  (imported for its presence in sys.modules)
from ipykernel import kernelapp

if __name__ == "__main__":
    kernelapp.launch_new_instance()
