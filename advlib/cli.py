"""Command line: ``python -m advlib reproduce`` trains and measures; ``report`` prints the comparison.

``reproduce`` is :func:`advlib.runs.pipeline.reproduce`, which a notebook can call directly.

``report`` reads saved results only: the report's numbers beside ours, then the seed
study's error bars (mean ± std over seeds and whether Table 2's gap exceeds the spread),
and last whether each of our expectations (:mod:`advlib.verdicts.expectations`) held.

    python -m advlib reproduce [--profile quick|full|test] [--only NAME ...]
    python -m advlib report [--profile ...]
    python -m advlib publish [--profile ...]   # copy finished models into advlib/pretrained
"""

import argparse
import os

# The reproduce pipeline lives in advlib.runs.pipeline, where a notebook can call it; the
# command line only parses arguments. advlib.runs.pipeline loads no TensorFlow at import.
from advlib.runs import pipeline


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
    from advlib.plan import registry

    # The one place the command line chooses the profile; everything below is handed it.
    profile = registry.active_profile(arguments.profile)
    if arguments.command == "reproduce":
        try:
            only = pipeline.check_only(arguments.only)
        except ValueError as error:
            parser.error(str(error))
        pipeline.reproduce(profile, only)
    elif arguments.command == "report":
        from advlib.runs import summary

        # Measurements, seed study, sweeps and audits, then what we expected to hold,
        # judged on the same saved numbers the tables show.
        print(summary.full_report(profile))
    else:
        from advlib.results import store

        store.publish(profile)
    return 0
