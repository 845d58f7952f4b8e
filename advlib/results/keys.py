"""The keys saved studies are filed under: what was studied, on which models, with what.

A study's key names its kind and view and hashes everything its result depends on (the
models' config hashes and the parameters), so a changed model or parameter is a new key
and a stale result is never read back. :mod:`advlib.runs.studies`,
:mod:`advlib.runs.defence` and :mod:`advlib.runs.worst_case_studies` file their results here.
"""

from advlib.plan import registry


def study_key(kind, view, profile, parameters, involved):
    """``(key, description)`` of a study: ``"<kind>/<view label>/<12-character hash>"`` and what was hashed.

    Args:
        kind: the study's kind, e.g. ``"sweep"``, ``"audit"``, ``"worst_case"``.
        view: the :class:`advlib.plan.registry.View` studied.
        profile: a :class:`advlib.plan.registry.Profile`.
        parameters: a JSON-serialisable dict of everything besides the models' weights
            that determines the result.
        involved: the registry model names the result depends on.
    """
    description = {
        "kind": kind,
        "model": view.name,
        "models": registry.model_hashes(involved, profile),
        "parameters": parameters,
    }
    return f"{kind}/{view.label}/{registry.config_hash(description)}", description
