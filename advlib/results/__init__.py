"""Where trained models and measured numbers are saved, and how they are read back (no TensorFlow).

- :mod:`advlib.results.store`: the results folder, the shipped files, locked and atomic writes.
- :mod:`advlib.results.measured`: the saved measurements, current for the registry's config hashes.
- :mod:`advlib.results.keys`: the keys saved studies are filed under (kind, view, hash of what they depend on).
"""
