"""The whole reproduction as one function: :func:`reproduce` trains what is missing and measures everything.

``python -m advlib reproduce`` is a thin wrapper around it, and a notebook calls it the
same way::

    profile = advlib.book.start()
    advlib.runs.pipeline.reproduce(profile, only=["baseline"])

The steps run in this order, each saving what it finished before the next starts, so an
interrupted run loses nothing and the next run resumes where it stopped:

1. every model asked for (``only``, with its teachers and warm starts; default all of
   :data:`advlib.plan.registry.MODELS`) is trained or loaded, and measured as soon as it exists;
2. with no ``only``: chapter 9's eps sweeps and masking audits, the chapters' whole-data
   analyses and chapter 10's worst cases (:func:`advlib.runs.studies.run_all`,
   :func:`advlib.runs.analyses.run_all`, :func:`advlib.runs.worst_case_studies.run_all`);
3. with no ``only``, or one naming a defence candidate: chapter 11's comparison of the
   candidates (:func:`advlib.runs.defence.selection`).

Progress is one line per model (and per study in the later steps), ending in a tqdm meter:
how much of the work is done, the time elapsed and tqdm's estimate of the time left
(:func:`meter`).

Nothing here imports TensorFlow at module level: the steps' modules are imported inside
:func:`reproduce`, after the command line has quietened TensorFlow's logging.
"""

import time
from dataclasses import dataclass

from tqdm import tqdm

from advlib.plan import registry
from advlib.runs.progress import meter


@dataclass(frozen=True)
class Reproduction:
    """What :func:`reproduce` did: the models in the order it went through them, those it had
    to train (the others were saved already), and its wall time in seconds."""

    profile: registry.Profile
    models: tuple
    trained: tuple
    seconds: float


def check_only(only):
    """``only`` as a list of registry model names, or ``None`` for the whole registry.

    A single name (a string) counts as a list of one. Raises ValueError for an empty list,
    a name not in :data:`advlib.plan.registry.MODELS` (naming it and the choices) or anything
    that is not a list of names.
    """
    if only is None:
        return None
    if isinstance(only, str):
        only = [only]
    try:
        names = list(only)
    except TypeError:
        raise ValueError(f"only must be None or a list of model names, got {only!r}") from None
    if not names:
        raise ValueError("only is empty: name at least one model, or pass None for the whole registry")
    for name in names:
        if name not in registry.MODELS:
            raise ValueError(f"unknown model {name!r}; choose from: {', '.join(registry.MODELS)}")
    return names


def reproduce(profile, only=None, *, report=True):
    """Train what is missing and measure everything (or only ``only`` and its teachers); returns a :class:`Reproduction`.

    ``profile``: a :class:`advlib.plan.registry.Profile` or its name (the one
    :func:`advlib.book.start` returns; never guessed here from the environment).
    ``only``: ``None`` for the whole registry and the studies after it, or registry model
    names (see :func:`check_only`). Prints a line per model (elapsed, and an ETA that
    weights each model by its training cost) and, with ``report``, the report-vs-ours
    text at the end.
    """
    # The one coercion: every step below is handed this Profile.
    profile = registry.get_profile(profile)
    only = check_only(only)
    from advlib.runs import summary as reporting
    from advlib.data import cifar10 as data
    from advlib.results import store
    from advlib.runs import analyses, defence, experiments, measurements, studies, worst_case_studies
    from advlib.verdicts import wording as text

    names = registry.models_needed(only or list(registry.MODELS))
    print(text.describe_profile(profile, data.describe_source()), flush=True)
    costs = {name: registry.get_spec(name).cost for name in names}
    to_train = [name for name in names if not store.is_saved(name, profile)]
    started = time.time()
    # The meter counts training cost, not models: a saved model costs nothing to load and
    # an adversarially trained one several baselines, so the ETA follows the epochs left.
    with meter(sum(costs[name] for name in to_train), "the training") as progress:
        for index, name in enumerate(names, start=1):
            status = "training" if name in to_train else "saved"
            print(f"== model {index} of {len(names)}: {name} ({status}); {progress}", flush=True)
            experiments.load_or_train(name, profile)
            if name in to_train:
                progress.update(costs[name])
            # Measure each model as soon as it exists, so an interrupted run keeps its numbers;
            # a row that also needs a later model (a transfer attack's surrogate) waits for it.
            measurements.measure(profile, only=[name], skip_unsaved=True)
    if not only:
        # The eps sweeps and masking audits need every main model, so they run once the
        # whole registry exists; each study is saved as soon as it is computed.
        print("== eps sweeps and masking audits", flush=True)
        studies.run_all(profile)
        # The gradient norms and imitation that chapters 4 to 7 show, over whole data sets.
        analyses.run_all(profile)
        # The worst case of every audited view: on full, from minutes to hours per model.
        print("== worst cases (AutoAttack-style suite)", flush=True)
        worst_case_studies.run_all(profile)
    if not only or set(only) & set(registry.DEFENCE_CANDIDATES):
        # The defence candidates, compared on held-out training images once all are
        # trained; only the chosen one's worst case is computed on the test set.
        print("== defence candidates: held-out comparison, then the chosen one's test worst case", flush=True)
        defence.selection(profile, compute=True)
    seconds = time.time() - started
    print(f"== done in {tqdm.format_interval(seconds)}", flush=True)
    if report:
        print(reporting.format_report(profile))
    return Reproduction(profile, tuple(names), tuple(to_train), seconds)
