"""Lazy names for a package: ``advlib.attacks.fgsm`` without importing TensorFlow at ``import advlib.attacks``.

A package lists which of its modules holds each public name; :func:`exports` returns the
module-level ``__getattr__`` and ``__dir__`` (PEP 562) that import that module on first use.
"""

import importlib


def exports(package, table):
    """``(__getattr__, __dir__)`` for ``package`` (its ``__name__``) from ``{module: names}``.

    ``table`` maps a submodule's name (relative to the package) to the public names the
    package re-exports from it; the submodule is imported only when one is first read.
    """
    where = {name: module for module, names in table.items() for name in names}

    def __getattr__(name):
        if name in where:
            return getattr(importlib.import_module(f"{package}.{where[name]}"), name)
        if name in table:  # a submodule not imported yet: advlib.training.recipes
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(where) | set(table))

    return __getattr__, __dir__
