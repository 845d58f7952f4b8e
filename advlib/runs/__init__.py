"""Running the plan: train or load each model once, measure, sweep and audit, saving as it goes.

TensorFlow is imported only inside the functions that train or attack.

- :mod:`advlib.runs.experiments`: a profile's data, every model trained or loaded once, views built.
- :mod:`advlib.runs.measurements`: computing and saving the catalogue's numbers.
- :mod:`advlib.runs.studies`: eps sweeps and masking audits, computed once and saved.
- :mod:`advlib.runs.analyses`: the chapters' whole-data-set analyses, computed once and saved.
- :mod:`advlib.runs.worst_case_studies`: the worst case on every view, computed once and saved.
- :mod:`advlib.runs.defence`: choosing a defence on held-out training images.
- :mod:`advlib.runs.progress`: the one-line tqdm meter each step prints.
- :mod:`advlib.runs.summary`: the text of ``python -m advlib report``, from saved results only.
- :mod:`advlib.runs.pipeline`: :func:`~advlib.runs.pipeline.reproduce`, the whole reproduction as one function.
"""
