"""The text of ``python -m advlib report``: saved results only, never training or measuring.

:func:`format_report` puts the report's value beside ours for every measurement of
:mod:`advlib.plan.catalogue` and ends with the seed study (:func:`format_seed_study`);
:func:`format_scorecard` judges the report's claims (:mod:`advlib.verdicts.claims`) on those numbers;
:func:`format_studies` shows chapter 9's eps sweeps and masking audits from
:mod:`advlib.runs.studies`; :func:`full_report` joins them with the expectations of
:mod:`advlib.verdicts.expectations`. Each names what is missing and the command that computes it.
Nothing here imports TensorFlow.
"""

from advlib.plan import registry
from advlib.results import measured
from advlib.runs import studies, worst_case_studies
from advlib.verdicts import expectations, scorecard, uncertainty, wording


def full_report(profile):
    """Everything ``python -m advlib report`` prints: measurements, seed study, scorecard, studies, expectations."""
    parts = [format_report(profile), format_scorecard(profile), format_studies(profile), expectations.format_expectations(profile)]
    return "\n\n".join(parts)


def format_scorecard(profile):
    """The reproduction scorecard as text, from saved results only (never training or measuring).

    A line per claim of :data:`advlib.verdicts.claims.CLAIMS` (id, verdict, our value, its 95%
    interval and the reason), then the number of claims with each verdict; a claim
    whose numbers are not saved yet is "not tested".
    """
    profile = registry.get_profile(profile)
    saved = measured.load_saved(profile)
    rows = scorecard.from_saved(saved, measured.seed_values(profile, saved))
    source = wording.data_sources(saved.values())
    lines = [
        f"Reproduction scorecard: the report's claims judged on our saved numbers ({wording.describe_profile(profile, source)})",
        scorecard.to_text(rows).rstrip("\n"),
    ]
    if any(row.verdict == scorecard.NOT_TESTED for row in rows):
        lines.append(f"Claims not tested lack saved numbers; run: python -m advlib reproduce --profile {profile.name}")
    return "\n".join(lines)


def format_seed_study(profile):
    """The seed study as text: mean ± std (n) per recipe and the gap-versus-spread verdict."""
    profile = registry.get_profile(profile)
    saved = measured.load_saved(profile)
    seed_values = measured.seed_values(profile, saved)
    summary = uncertainty.seed_summary(seed_values)
    copies = registry.SEED_COPIES
    epochs = registry.training_config(profile, registry.get_spec(copies[0])).epochs
    lines = [
        f"Seed study (beyond the report): {len(registry.SEED_STUDY_SEEDS)} seeds per recipe, "
        f"{epochs} of the profile's {profile.epochs} epochs; accuracy mean ± sample std (n seeds)",
        f"{'recipe':<14} {'clean':<24} FGSM",
    ]
    for recipe, recipe_summary in summary.items():
        lines.append(f"{recipe:<14} {recipe_summary['clean'].describe():<24} {recipe_summary['fgsm'].describe()}")
    lines.append(uncertainty.gap_versus_spread(seed_values).describe())
    missing = [name for name in copies if any(f"{name}.{metric}" not in saved for metric in ("clean", "fgsm"))]
    if missing:
        lines.append(
            f"{len(missing)} of {len(copies)} seed models not measured; run: "
            f"python -m advlib reproduce --profile {profile.name} --only {' '.join(missing)}"
        )
    return "\n".join(lines)


def format_report(profile):
    """The report's value beside ours for every measurement, as text, saying which are missing.

    The seed study's summary (:func:`format_seed_study`) follows the table.
    """
    profile = registry.get_profile(profile)
    saved = measured.load_saved(profile)
    rows = measured.comparison_rows(profile, saved)
    # The data named is where the saved numbers were measured, not what this process would load.
    source = wording.data_sources(saved.values())
    section_width = max(len("section"), *(len(measurement.section) for measurement, _ in rows))
    description_width = max(len("measurement"), *(len(measurement.description) for measurement, _ in rows))
    lines = [
        f"Report vs this run ({wording.describe_profile(profile, source)})",
        f"{'section':<{section_width}} {'measurement':<{description_width}} {'report':>8} {'ours':>8}",
    ]
    missing = []
    for measurement, ours in rows:
        report = f"{measurement.report:.3f}" if measurement.report is not None else (measurement.report_note or "-")
        if ours is None:
            missing.append(measurement)
        ours_text = f"{ours:.3f}" if ours is not None else "missing"
        lines.append(f"{measurement.section:<{section_width}} {measurement.description:<{description_width}} {report:>8} {ours_text:>8}")
    if missing:
        names = [name for name in registry.MODELS if any(name in measurement.models for measurement in missing)]
        lines.append(
            f"{len(missing)} of {len(rows)} measurements missing; run: python -m advlib reproduce --profile {profile.name}"
            f" --only {' '.join(names)}"
        )
    else:
        lines.append(f"All {len(rows)} measurements present.")
    lines.extend(["", format_seed_study(profile)])
    return "\n".join(lines)


def format_studies(profile):
    """Chapter 9's sweeps and audits as text, from saved results only, naming the missing ones."""
    from advlib.evaluation.audit_result import AuditResult

    profile = registry.get_profile(profile)
    saved, missing, sizes, shown = studies.load_saved(profile), [], set(), []

    def lookup(kind, view):
        if kind in worst_case_studies.KINDS:
            entry = worst_case_studies.saved_entry(kind, view, profile, saved)
        else:
            entry = studies.saved_chapter_study(kind, view, profile, saved)
        if entry is None:
            missing.append(f"{kind} of {view.label}")
            return None
        sizes.add(entry.get("subset_size"))
        shown.append(entry)
        return entry["result"]

    lines = [
        "Accuracy against eps (FGSM, 10-step PGD)",
        f"{'model, attack':<36}" + "".join(f"{round(value * 255):>5d}/255" for value in studies.DEFAULT_EPS_VALUES),
    ]
    for view in registry.sweep_views():
        result = lookup("sweep", view)
        for attack in studies.SWEEP_ATTACKS:
            values = [f"{value:.3f}" for value in result["accuracy"][attack]] if result else ["missing"] * len(studies.DEFAULT_EPS_VALUES)
            lines.append(f"{view.label + ', ' + attack.upper():<36}" + "".join(f"{value:>9}" for value in values))
    lines += [
        "",
        f"Gradient-masking audit at eps = {profile.eps:g} (PGD curve up to 8/255, transfer from the surrogate)",
        f"{'model':<36}{'clean':>8}{'zero gr':>8}{'FGSM':>8}{'PGD':>8}{'transfer':>9}{'PGD 8/255':>10}{'EOT':>8}  flags",
    ]
    for view in registry.audit_views():
        result = lookup("audit", view)
        if result is None:
            lines.append(f"{view.label:<36}{'missing':>8}")
            continue
        report = AuditResult.from_dict(result)
        # A number not measured (no surrogate, or EOT on a deterministic model) is a dash.
        cells = "".join(
            f"{'-':>{width}}" if value is None else f"{value:>{width}.3f}"
            for value, width in zip(report.summary().values(), (8, 8, 8, 8, 9, 10, 8))
        )
        lines.append(f"{view.label:<36}{cells}  {', '.join(report.flags) or 'none'}")
    lines += ["", f"Worst case over the AutoAttack-style suite at eps = {profile.eps:g} (stratified subset)",
              f"{'model':<36}{'clean':>8}{'FGSM':>8}{'PGD':>8}{'EOT':>8}{'worst':>8}  95% interval"]
    for view in registry.audit_views():
        result, reference = lookup("worst_case", view), lookup("worst_case_reference", view)
        if result is None or reference is None:
            lines.append(f"{view.label:<36}{'missing':>8}")
            continue
        eot = "-" if reference["eot_pgd"] is None else f"{reference['eot_pgd']:.3f}"
        low, high = result["interval"]
        lines.append(
            f"{view.label:<36}{result['clean_accuracy']:>8.3f}{reference['fgsm']:>8.3f}{reference['pgd']:>8.3f}{eot:>8}"
            f"{result['robust_accuracy']:>8.3f}  {low:.3f}-{high:.3f}"
        )
    size_text = " and ".join(str(size) for size in sorted(sizes)) or "no"
    lines += ["", f"Attacks ran on {size_text} test images (a seeded subset); saved in {profile.name}/studies.json of the results folder."]
    if missing:
        lines.append(f"{len(missing)} studies missing; run: python -m advlib reproduce --profile {profile.name}")
    else:
        lines.append(f"All {len(registry.sweep_views()) + 3 * len(registry.audit_views())} studies present.")
    # The heading names the data the studies shown were computed on, known only now.
    source = wording.data_sources(shown)
    heading = f"Beyond the report: eps sweeps, masking audits and worst cases ({wording.describe_profile(profile, source)})"
    return "\n".join([heading, ""] + lines)
