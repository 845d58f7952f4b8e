"""Command line: ``python -m advlib reproduce`` trains and measures; ``report`` prints the comparison.

``report`` reads saved results only: the report's numbers beside ours, then the seed
study's error bars (mean ± std over seeds and whether Table 2's gap exceeds the spread),
and last whether each of our expectations (:mod:`advlib.expectations`) held.

    python -m advlib reproduce [--profile quick|full|test] [--only NAME ...]
    python -m advlib report [--profile ...]
    python -m advlib publish [--profile ...]   # copy finished models into advlib/pretrained
"""

import argparse
import os
import sys
import time


def _format_seconds(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"


def reproduce(profile, only):
    from advlib import (
        analyses, data, defence, experiments, measurements, registry, reporting, store, studies, text, worst_case_studies,
    )

    names = registry.models_needed(only or list(registry.MODELS))
    print(text.describe_profile(profile, data.describe_source()), flush=True)
    costs = {name: registry.get_spec(name).cost for name in names}
    to_train = [name for name in names if not store.is_saved(name, profile)]
    total_cost = sum(costs[name] for name in to_train) or 1.0
    started = time.time()
    done_cost = 0.0
    for index, name in enumerate(names, start=1):
        elapsed = time.time() - started
        eta = "unknown" if done_cost == 0 else _format_seconds(elapsed / done_cost * (total_cost - done_cost))
        status = "training" if name in to_train else "saved"
        print(f"== model {index} of {len(names)}: {name} ({status}); elapsed {_format_seconds(elapsed)}, ETA {eta}", flush=True)
        experiments.load_or_train(name, profile)
        if name in to_train:
            done_cost += costs[name]
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
    print(f"== done in {_format_seconds(time.time() - started)}", flush=True)
    print(reporting.format_report(profile))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m advlib", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("reproduce", "train what is missing and measure everything"),
        ("report", "print the report's numbers beside ours, from saved results"),
        ("publish", "copy finished models into advlib/pretrained (for shipping)"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--profile", choices=["quick", "full", "test"], default=None,
                             help="data and epoch budget (default: $ADVLIB_PROFILE, else full)")
        if name == "reproduce":
            command.add_argument("--only", nargs="+", metavar="NAME", help="only these registry models (and their teachers)")
    arguments = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from advlib import registry

    # The one place the command line chooses the profile; everything below is handed it.
    profile = registry.active_profile(arguments.profile)
    if arguments.command == "reproduce":
        for name in arguments.only or []:
            if name not in registry.MODELS:
                parser.error(f"unknown model {name!r}; choose from: {', '.join(registry.MODELS)}")
        reproduce(profile, arguments.only)
    elif arguments.command == "report":
        from advlib import reporting

        # Measurements, seed study, sweeps and audits, then what we expected to hold,
        # judged on the same saved numbers the tables show.
        print(reporting.full_report(profile))
    else:
        from advlib import store

        store.publish(profile)
    return 0

if __name__ == "__main__":
    sys.exit(main())
