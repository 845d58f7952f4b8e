"""Write the run-time section of the instructors' page from measured times, never typed in.

    .venv/bin/python tools/instructor_tables.py           # write book/_generated/run_times.md
    .venv/bin/python tools/instructor_tables.py --check   # exit 1 if it is out of date

The numbers come from two records the project keeps: each chapter's execution time in a
build, saved by ``benchmarks/chapter_times.py --save full|quick`` in
``benchmarks/chapter_times.json``, and the training time in every shipped model's record
(``advlib/pretrained/<profile>/*.json``). ``book/instructors.md`` includes the result, and
``tests/tools/test_instructor_tables.py`` checks that the committed file is in step.
"""

import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generated_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TIMES = ROOT / "benchmarks" / "chapter_times.json"
OUT = ROOT / "book" / "_generated" / "run_times.md"
PROFILES = ("full", "quick")


def book_models():
    """Every model of the registry: the chapters use them all, the defence candidates included."""
    from advlib.plan import registry

    return list(registry.MODELS)


def training_hours(profile):
    """``(hours, machines)``: training time summed over the shipped records of every registry
    model on ``profile``, and the set of ``(cpu cores, GPU count)`` they were trained on."""
    from advlib.results import store

    seconds, machines = 0.0, set()
    for name in book_models():
        record = store.load_record(name, profile)
        if record is None:
            raise ValueError(f"no shipped record of {name!r} on the {profile!r} profile: publish the models first")
        seconds += float(record["wall_time_seconds"])
        machine = record.get("machine", {})
        machines.add((machine.get("cpu_count"), len(machine.get("gpus") or [])))
    return seconds / 3600, machines


def render(times, hours, model_count, machines):
    """The Markdown section.

    ``times`` is chapter_times.json's dict, ``hours`` ``{profile: float}`` (training hours),
    ``model_count`` the registry's size and ``machines`` the set of ``(cpu cores, GPU
    count)`` the shipped models were trained on.
    """
    missing = [profile for profile in PROFILES if not times.get(profile, {}).get("chapters")]
    if missing:
        raise ValueError(f"no chapter times for the {', '.join(missing)} profile: run "
                         "benchmarks/chapter_times.py --save <profile> after a build of that profile")
    chapters = {profile: times[profile]["chapters"] for profile in PROFILES}
    for profile, values in chapters.items():
        bad = [name for name, seconds in values.items() if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds >= 0)]
        if bad:
            raise ValueError(f"{profile}: chapters without a valid time: {', '.join(bad)}")
    if set(chapters["full"]) != set(chapters["quick"]):
        raise ValueError("the full and quick builds timed different chapters: rebuild both")
    cores = {times[profile]["machine"].get("cpu_count") for profile in PROFILES}
    if len(cores) != 1:
        raise ValueError(f"the two builds ran on machines with different core counts ({sorted(map(str, cores))})")
    (cores,) = cores
    gpus = {len(times[profile]["machine"].get("gpus") or []) for profile in PROFILES}
    accelerator = "no GPU" if gpus == {0} else "with GPUs"
    full, quick = chapters["full"], chapters["quick"]
    lines = [
        "Every chapter loads the shipped weights of its models and the saved results of the",
        "longer analyses, so it runs on a CPU. These are the times MyST-NB recorded for each",
        f"chapter in builds on {cores} CPU cores ({accelerator}), measured by",
        "`benchmarks/chapter_times.py`: the full profile from the shipped weights and results,",
        "and the reduced `quick` profile, whose models and results ship too.",
        "",
        "| Chapter | Full profile (s) | Quick profile (s) |",
        "|---|---:|---:|",
    ]
    for name in sorted(full):
        lines.append(f"| {name.removesuffix('.ipynb')} | {full[name]:.0f} | {quick[name]:.0f} |")
    lines.append(f"| all chapters | {sum(full.values()):.0f} | {sum(quick.values()):.0f} |")
    lines += [
        "",
        f"Retraining is another matter. Training all {model_count} models of the registry from",
        f"scratch took {hours['full']:.1f} hours on the full profile and {hours['quick']:.1f} hours",
        "on the `quick` profile, summed from the training records shipped with the weights",
        "(`python -m advlib reproduce --profile full` retrains)" + _machines_phrase(machines) + ".",
        "These are wall-clock times: they include whatever else ran on the machine at the same",
        "time, so they are an upper bound on what the training itself costs.",
    ]
    return "\n".join(lines) + "\n"


def _machines_phrase(machines):
    if len(machines) == 1:
        ((cores, gpus),) = machines
        where = f"{cores} CPU cores and no GPU" if not gpus else f"{cores} CPU cores and {gpus} GPU(s)"
        return f", every model on a machine with {where}"
    return ", on the machines each model's record names"


def current():
    from advlib.plan import registry

    times = json.loads(TIMES.read_text())
    results = {profile: training_hours(profile) for profile in PROFILES}
    machines = set().union(*(found for _, found in results.values()))
    return render(times, {profile: hours for profile, (hours, _) in results.items()}, len(book_models()), machines)


def main(argv=None):
    return generated_file.main(__doc__.splitlines()[0], OUT, current, argv)


if __name__ == "__main__":
    sys.exit(main())
