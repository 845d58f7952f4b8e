"""The mutations that tools/mutation_check.py plants, one at a time, in a copy of the repository.

Each mutation is a realistic bug that the test suite must catch ("kill"). The list is
plain data, so anyone can append an entry without reading the script. An entry is a
dict with exactly these keys:

    id           short unique name, lower-case words joined by "-", e.g. "attacks-fgsm-descends";
                 ``--only ID ...`` selects entries by it.
    file         path of the file to mutate, relative to the repository root.
    original     an exact snippet of that file (whitespace included). It must occur exactly
                 once in the file, or the script stops with an error naming the entry, before
                 any test runs. Include enough context (a comment, a neighbouring line) to
                 make it unique.
    replacement  the text that replaces it: the bug.
    description  one line: what the bug is, in words.
    tests        list of what pytest runs for this mutation: files ("tests/test_x.py") or node
                 ids ("tests/test_x.py::test_name", "tests/test_x.py::test_name[param]").
                 Keep it narrow (the tests that should catch the bug), as every mutation
                 costs one pytest run; they must pass on the unmutated code (the script
                 checks that first).

Example of an entry to append for an upper-half module:

    dict(
        id="store-merge-drops-keys",
        file="advlib/store.py",
        original="merged.update(new)",
        replacement="merged = dict(new)",
        description="a save replaces the entries other processes wrote instead of merging",
        tests=["tests/test_store.py"],
    ),
"""

MUTATIONS = [
    # ------------------------------------------------------------------ advlib/attacks.py
    dict(
        id="attacks-fgsm-descends",
        file="advlib/attacks.py",
        original="x_adv[start : start + batch_size] = x_batch + eps * np.sign(gradient.numpy())",
        replacement="x_adv[start : start + batch_size] = x_batch - eps * np.sign(gradient.numpy())",
        description="FGSM steps against the gradient (descends the loss)",
        tests=["tests/test_attacks.py::test_sign_pattern_matches_the_closed_form"],
    ),
    dict(
        id="attacks-fgsm-no-clip",
        file="advlib/attacks.py",
        original=(
            "        # Re-clip: the step can push a pixel that was already at 0 or 1 out of range.\n"
            "        np.clip(x_adv, clip[0], clip[1], out=x_adv)"
        ),
        replacement="        pass  # mutant: FGSM result not clipped to [0, 1]",
        description="FGSM forgets to clip its result to [0, 1]",
        tests=["tests/test_attacks.py::test_result_stays_in_the_unit_interval"],
    ),
    dict(
        id="attacks-probability-clip-constant",
        file="advlib/attacks.py",
        original="PROBABILITY_EPSILON = 1e-7",
        replacement="PROBABILITY_EPSILON = 1e-9",
        description="probability clip constant 1e-9 instead of Keras's 1e-7 (no clip at the top in float32)",
        tests=[
            "tests/test_attacks.py::test_saturated_softmax_gives_an_all_zero_perturbation",
            "tests/test_attacks.py::test_logit_loss_keeps_gradients_a_saturated_softmax_loses",
        ],
    ),
    dict(
        id="attacks-gradient-cache-ignores-temperature",
        file="advlib/attacks.py",
        original="key = (None if temperature is None else float(temperature), bool(from_logits))",
        replacement="key = (None, bool(from_logits))",
        description="the compiled-gradient cache ignores the temperature (an attack at T reuses T=1's function)",
        tests=["tests/test_attacks.py::test_saturated_softmax_gives_an_all_zero_perturbation"],
    ),
    dict(
        id="attacks-random-sign-one-sided",
        file="advlib/attacks.py",
        original="signs = generator.integers(0, 2, size=x.shape, dtype=np.int8) * 2 - 1",
        replacement="signs = generator.integers(0, 2, size=x.shape, dtype=np.int8)",
        description="random-sign control draws R in {0, 1} instead of {-1, +1}",
        tests=["tests/test_attacks.py::test_random_sign_is_plus_or_minus_eps_and_seeded"],
    ),
    # ------------------------------------------------------------------ advlib/strong_attacks.py
    dict(
        id="pgd-no-projection",
        file="advlib/strong_attacks.py",
        original="np.clip(x_adv_batch, low, high, out=x_adv_batch)",
        replacement="pass  # mutant: no projection onto the eps-ball",
        description="PGD without the projection onto the L-inf ball around x",
        tests=["tests/test_strong_attacks.py::test_pgd_stays_in_the_eps_ball_and_the_unit_interval"],
    ),
    dict(
        id="pgd-step-size-factor",
        file="advlib/strong_attacks.py",
        original="DEFAULT_STEP_SIZE_FACTOR = 2.5",
        replacement="DEFAULT_STEP_SIZE_FACTOR = 1.0",
        description="default PGD step size eps / steps instead of 2.5 * eps / steps (cannot cross the ball)",
        tests=["tests/test_strong_attacks.py::test_pgd_reaches_the_worst_case_of_a_two_class_linear_model"],
    ),
    dict(
        id="eot-uses-last-sample",
        file="advlib/strong_attacks.py",
        original="total = gradient.numpy() if total is None else total + gradient.numpy()",
        replacement="total = gradient.numpy()",
        description="EOT keeps only the last draw's gradient instead of the sum over draws",
        tests=["tests/test_strong_attacks.py::test_eot_averages_away_the_noise_a_single_draw_sees"],
    ),
    dict(
        id="margin-loss-reversed",
        file="advlib/strong_attacks.py",
        original="return best_other_logit - true_logit",
        replacement="return true_logit - best_other_logit",
        description="Carlini-Wagner margin with the wrong sign (the attack helps the true class)",
        tests=[
            "tests/test_strong_attacks.py::test_pgd_reaches_the_worst_case_of_a_two_class_linear_model",
            "tests/test_strong_attacks.py::test_margin_gradient_is_the_difference_of_two_weight_rows_even_when_saturated",
        ],
    ),
    dict(
        id="transfer-attacks-the-target",
        file="advlib/strong_attacks.py",
        original="return attack(source_model, x, y, eps, **attack_arguments)",
        replacement="return attack(target_model, x, y, eps, **attack_arguments)",
        description="a transfer attack takes the target's gradients instead of the surrogate's",
        tests=["tests/test_strong_attacks.py::test_transfer_returns_the_surrogates_adversarial_examples"],
    ),
    # ------------------------------------------------------------------ advlib/evaluation.py
    dict(
        id="perturbed-accuracy-scores-attack-model",
        file="advlib/evaluation.py",
        original="return accuracy(model, x_adv, y)",
        replacement="return accuracy(source, x_adv, y)",
        description="perturbed_accuracy scores the attack model instead of the target",
        tests=["tests/test_evaluation.py::test_perturbed_accuracy_scores_the_target_on_a_surrogates_examples"],
    ),
    dict(
        id="perturbed-accuracy-ignores-attack-model",
        file="advlib/evaluation.py",
        original="source = model if attack_model is None else attack_model",
        replacement="source = model",
        description="perturbed_accuracy always attacks with the target's own gradients",
        tests=["tests/test_evaluation.py::test_perturbed_accuracy_scores_the_target_on_a_surrogates_examples"],
    ),
    dict(
        id="imitation-teacher-from-student",
        file="advlib/evaluation.py",
        original='"teacher_accuracy": float(np.mean(teacher_classes == labels)),',
        replacement='"teacher_accuracy": float(np.mean(student_classes == labels)),',
        description="imitation computes the teacher's accuracy from the student's classes",
        tests=["tests/test_evaluation.py::test_imitation_scores_each_model_by_its_own_classes"],
    ),
    # ------------------------------------------------------------------ advlib/distillation.py
    dict(
        id="soft-labels-at-t1",
        file="advlib/distillation.py",
        original="hot_teacher = models.with_temperature(teacher, temperature)",
        replacement="hot_teacher = models.with_temperature(teacher, 1.0)",
        description="soft labels made at T = 1 whatever temperature is asked for",
        tests=["tests/test_distillation.py::test_soft_labels_are_made_at_the_asked_temperature_whatever_the_teachers_own"],
    ),
    dict(
        id="soft-labels-at-teachers-own-temperature",
        file="advlib/distillation.py",
        original="hot_teacher = models.with_temperature(teacher, temperature)",
        replacement="hot_teacher = teacher",
        description="soft labels made at the teacher's own temperature instead of the one asked for",
        tests=["tests/test_distillation.py::test_soft_labels_are_made_at_the_asked_temperature_whatever_the_teachers_own"],
    ),
    dict(
        id="student-trains-at-t1",
        file="advlib/distillation.py",
        original="model = models.build_cnn(temperature=temperature, seed=config.seed)",
        replacement="model = models.build_cnn(temperature=1.0, seed=config.seed)",
        description="the student is built and trained at T = 1 instead of the distillation temperature",
        tests=["tests/test_distillation.py"],
    ),
    dict(
        id="student-trains-on-hard-labels",
        file="advlib/distillation.py",
        original="lambda epoch, model: (x, labels)",
        replacement="lambda epoch, model: (x, np.eye(10, dtype=np.float32)[labels.argmax(axis=1)])",
        description="the student trains on the arg-max of the soft labels (one-hot) instead of the soft labels",
        tests=["tests/test_distillation.py::test_student_is_built_and_trained_at_the_asked_temperature_on_the_given_labels"],
    ),
    # ------------------------------------------------------------------ advlib/audit.py
    dict(
        id="audit-zero-gradients-reversed",
        file="advlib/audit.py",
        original="zero_fraction > zero_gradient_threshold,",
        replacement="zero_fraction < zero_gradient_threshold,",
        description="audit flag (a) zero_gradients with its comparison reversed",
        tests=[
            "tests/test_audit.py::test_an_honest_linear_model_raises_no_flag",
            "tests/test_audit.py::test_a_saturated_softmax_shows_zero_gradients_and_a_stuck_accuracy",
        ],
    ),
    dict(
        id="audit-one-step-reversed",
        file="advlib/audit.py",
        original="fgsm_accuracy < pgd_accuracy - one_step_tolerance,",
        replacement="fgsm_accuracy > pgd_accuracy - one_step_tolerance,",
        description="audit flag (b) one_step_beats_iterated with its comparison reversed",
        tests=[
            "tests/test_audit.py::test_an_honest_linear_model_raises_no_flag",
            "tests/test_audit.py::test_one_step_beating_the_iterated_attack_is_flagged",
        ],
    ),
    dict(
        id="audit-transfer-reversed",
        file="advlib/audit.py",
        original="transfer_accuracy < white_box_accuracy - transfer_tolerance,",
        replacement="transfer_accuracy > white_box_accuracy - transfer_tolerance,",
        description="audit flag (c) transfer_beats_white_box with its comparison reversed",
        tests=[
            "tests/test_audit.py::test_an_honest_linear_model_raises_no_flag",
            "tests/test_audit.py::test_a_saturated_softmax_shows_zero_gradients_and_a_stuck_accuracy",
        ],
    ),
    dict(
        id="audit-transfer-from-the-model",
        file="advlib/audit.py",
        original="accuracy_on(strong_attacks.transfer(surrogate, model, x, y, eps, batch_size=batch_size))",
        replacement="accuracy_on(strong_attacks.transfer(model, model, x, y, eps, batch_size=batch_size))",
        description="audit's FGSM transfer examples are made on the model itself, not the surrogate",
        tests=["tests/test_audit.py::test_an_honest_linear_model_raises_no_flag"],
    ),
    dict(
        id="audit-white-box-is-the-weaker-attack",
        file="advlib/audit.py",
        original="white_box_accuracy = min(fgsm_accuracy, pgd_accuracy)",
        replacement="white_box_accuracy = max(fgsm_accuracy, pgd_accuracy)",
        description="audit compares the transfer with the weaker white-box attack instead of the stronger",
        tests=["tests/test_audit.py::test_one_step_beating_the_iterated_attack_is_flagged"],
    ),
    dict(
        id="audit-floor-reversed",
        file="advlib/audit.py",
        original="curve[largest] > accuracy_floor,",
        replacement="curve[largest] < accuracy_floor,",
        description="audit flag (d) accuracy_does_not_fall with its comparison reversed",
        tests=[
            "tests/test_audit.py::test_an_honest_linear_model_raises_no_flag",
            "tests/test_audit.py::test_a_saturated_softmax_shows_zero_gradients_and_a_stuck_accuracy",
        ],
    ),
    dict(
        id="audit-floor-at-smallest-eps",
        file="advlib/audit.py",
        original="largest = eps_values[-1]",
        replacement="largest = eps_values[0]",
        description="audit flag (d) judges the PGD accuracy at the smallest eps instead of the largest",
        tests=["tests/test_audit.py::test_an_honest_linear_model_raises_no_flag"],
    ),
    dict(
        id="audit-randomness-reversed",
        file="advlib/audit.py",
        original="eot_accuracy < pgd_accuracy - eot_tolerance,",
        replacement="eot_accuracy > pgd_accuracy - eot_tolerance,",
        description="audit flag (e) randomness_hides_gradients with its comparison reversed",
        tests=["tests/test_audit.py::test_randomness_that_hides_the_gradient_is_flagged_and_harmless_randomness_is_not"],
    ),
    # ------------------------------------------------------------------ advlib/models.py
    dict(
        id="temperature-multiplies",
        file="advlib/models.py",
        original='scaled = keras.ops.cast(logits, "float32") / self.temperature',
        replacement='scaled = keras.ops.cast(logits, "float32") * self.temperature',
        description="TemperatureSoftmax multiplies the logits by T instead of dividing",
        tests=["tests/test_models.py::test_outputs_are_probabilities_at_the_given_temperature"],
    ),
    dict(
        id="with-temperature-ignored",
        file="advlib/models.py",
        original='outputs = TemperatureSoftmax(temperature, name="softmax")(_logits_tensor(model))',
        replacement='outputs = TemperatureSoftmax(1.0, name="softmax")(_logits_tensor(model))',
        description="with_temperature builds its softmax at T = 1 whatever temperature is asked for",
        tests=["tests/test_models.py::test_with_temperature_outputs_the_softmax_of_the_logits_over_the_new_temperature"],
    ),
    dict(
        id="logits-model-returns-probabilities",
        file="advlib/models.py",
        original='return keras.Model(model.inputs[0], _logits_tensor(model), name=f"{model.name}_logits")',
        replacement='return keras.Model(model.inputs[0], model.outputs[0], name=f"{model.name}_logits")',
        description="logits_model returns the softmax output instead of the logits",
        tests=["tests/test_models.py::test_logits_model_outputs_the_dense_layer_before_any_softmax"],
    ),
    dict(
        id="input-noise-amplitude",
        file="advlib/models.py",
        original='noisy = RandomSignNoise(eps, seed=seed, name="input_noise")(inputs)',
        replacement='noisy = RandomSignNoise(2 * eps, seed=seed, name="input_noise")(inputs)',
        description="with_input_noise adds noise of amplitude 2 eps instead of eps",
        tests=["tests/test_models.py::test_with_input_noise_adds_plus_or_minus_eps_before_the_model"],
    ),
    dict(
        id="input-noise-not-clipped",
        file="advlib/models.py",
        original="return keras.ops.clip(images + self.eps * signs, 0.0, 1.0)",
        replacement="return images + self.eps * signs",
        description="RandomSignNoise can push pixels outside [0, 1]",
        tests=["tests/test_models.py::test_with_input_noise_adds_plus_or_minus_eps_before_the_model"],
    ),
    # ------------------------------------------------------------------ advlib/data.py, cifar_files.py
    dict(
        id="subset-not-stratified",
        file="advlib/data.py",
        original="indices = np.flatnonzero(labels == label)",
        replacement="indices = np.arange(len(labels))",
        description="the per_class subset draws from all images instead of from each class",
        tests=["tests/test_data.py::test_per_class_counts_are_exact"],
    ),
    dict(
        id="subset-labels-misaligned",
        file="advlib/data.py",
        original="return images[order], labels[order]",
        replacement="return images[order], np.sort(labels[order])",
        description="the per_class subset returns labels that no longer match their images",
        tests=["tests/test_data.py::test_per_class_keeps_original_order_and_pairs"],
    ),
    dict(
        id="subset-ignores-seed",
        file="advlib/data.py",
        original="rng = np.random.default_rng(seed)",
        replacement="rng = np.random.default_rng(0)",
        description="the per_class subset is the same for every seed",
        tests=["tests/test_data.py::test_per_class_seed_reproducible_and_different"],
    ),
    dict(
        id="preprocess-wrong-scale",
        file="advlib/data.py",
        original="scaled /= np.float32(255.0)",
        replacement="scaled /= np.float32(256.0)",
        description="preprocess divides by 256, so a white pixel is not 1.0",
        tests=["tests/test_data.py::test_preprocess_scales_and_one_hot_encodes"],
    ),
    dict(
        id="python-batch-transposed",
        file="advlib/cifar_files.py",
        original="images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)",
        replacement="images = data.reshape(-1, 3, 32, 32).transpose(0, 3, 2, 1)",
        description="python batches decoded with rows and columns swapped",
        tests=["tests/test_data.py::test_batch_layouts_round_trip_exactly"],
    ),
    dict(
        id="binary-labels-shifted",
        file="advlib/cifar_files.py",
        original="return np.ascontiguousarray(images), _checked_labels(records[:, 0], origin)",
        replacement="return np.ascontiguousarray(images), _checked_labels(np.roll(records[:, 0], 1), origin)",
        description="binary batches pair each image with the previous record's label",
        tests=["tests/test_data.py::test_batch_layouts_round_trip_exactly"],
    ),
    # ------------------------------------------------------------------ advlib/plots
    dict(
        id="entropy-in-bits",
        file="advlib/plots/distillation.py",
        original="terms = np.where(array > 0, array * np.log(array), 0.0)",
        replacement="terms = np.where(array > 0, array * np.log2(array), 0.0)",
        description="soft-label entropy in bits instead of nats",
        tests=["tests/test_plots_distillation.py::test_entropy_matches_an_independent_computation"],
    ),
    dict(
        id="seed-error-bar-population-std",
        file="advlib/plots/seeds.py",
        original="yerr=[values.std(ddof=1)]",
        replacement="yerr=[values.std()]",
        description="seed error bars use the population std instead of the sample std",
        tests=["tests/test_plots_seeds.py::test_error_bars_are_mean_and_sample_std"],
    ),
    # ------------------------------------------------------------------ advlib/store.py
    dict(
        id="store-write-in-place",
        file="advlib/store.py",
        original='    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")\n    try:',
        replacement="    temporary = path\n    try:",
        description="write_json_atomically writes straight into the target file (no temporary file and rename)",
        tests=["tests/test_store.py::test_an_interrupted_write_leaves_the_old_file_whole"],
    ),
    dict(
        id="store-find-saved-skips-hash-check",
        file="advlib/store.py",
        original='        if record and record.get("config_hash") == digest and weights_path.exists():',
        replacement="        if record and weights_path.exists():",
        description="find_saved loads a record whose config_hash disagrees with its file name",
        tests=["tests/test_store.py::test_a_record_whose_hash_disagrees_with_its_file_name_is_never_loaded"],
    ),
    dict(
        id="store-save-without-lock",
        file="advlib/store.py",
        original="        with locked(path):\n            saved = read_json(path) or {}",
        replacement="        if True:\n            saved = read_json(path) or {}",
        description="JSON stores merge without the lock, so two processes lose each other's entries",
        tests=[
            "tests/test_store.py::test_a_save_waits_while_another_process_holds_the_lock",
            "tests/test_store.py::test_two_processes_saving_at_once_lose_nothing",
        ],
    ),
    dict(
        id="store-local-does-not-win",
        file="advlib/store.py",
        original="        for path in (shipped_dir(profile) / self.filename, self.local_path(profile)):",
        replacement="        for path in (self.local_path(profile), shipped_dir(profile) / self.filename):",
        description="the shipped file wins over the results folder on read",
        tests=["tests/test_store.py::test_the_results_folder_wins_over_the_shipped_file"],
    ),
    # --------------------------------------------------------------- advlib/registry.py
    dict(
        id="registry-hash-drops-teacher",
        file="advlib/registry.py",
        original='        config["teacher"] = {"name": spec.teacher, "config_hash": hashes["teacher"]}',
        replacement='        config["teacher"] = {"name": spec.teacher}',
        description="a student's config hash ignores its teacher's hash",
        tests=["tests/test_registry.py::test_a_student_hash_changes_with_its_teacher_alone"],
    ),
    dict(
        id="registry-hash-drops-temperature",
        file="advlib/registry.py",
        original='        "temperature": spec.temperature,\n        "profile": profile.name,',
        replacement='        "profile": profile.name,',
        description="the config hash ignores the model's temperature",
        tests=["tests/test_registry.py::test_a_model_hash_changes_with_its_temperature_alone"],
    ),
    dict(
        id="registry-hash-cache-by-name",
        file="advlib/registry.py",
        original="    return _hash_of(spec, profile, _dependency_hashes(spec, profile))",
        replacement="    return _hash_of(get_spec(name).name, profile, ())",
        description="the hash cache is keyed on the name only, so a changed spec returns a stale hash",
        tests=["tests/test_registry.py::test_a_student_hash_changes_with_its_temperature_alone"],
    ),
    dict(
        id="registry-seed-offset-ignored",
        file="advlib/registry.py",
        original="        seed=profile.seed + (spec.seed_offset if spec else 0),",
        replacement="        seed=profile.seed,",
        description="seed copies train with the main model's seed",
        tests=["tests/test_registry.py::test_seed_copies_differ_from_their_recipe_only_in_seed_and_epochs"],
    ),
    dict(
        id="registry-env-profile-fallback",
        file="advlib/registry.py",
        original="    if profile is None:\n        raise ValueError(",
        replacement="    if profile is None:\n        return PROFILES[os.environ.get('ADVLIB_PROFILE') or 'full']\n        raise ValueError(",
        description="library functions silently fall back to $ADVLIB_PROFILE",
        tests=["tests/test_registry.py::test_profile_selection"],
    ),
    # ------------------------------------------------------------ advlib/measurements.py
    dict(
        id="measurements-subset-unseeded",
        file="advlib/measurements.py",
        original="    return np.sort(np.random.default_rng(profile.seed).choice(total, size=size, replace=False))",
        replacement="    return np.sort(np.random.default_rng().choice(total, size=size, replace=False))",
        description="the attack subset is drawn without the profile's seed",
        tests=["tests/test_measurements.py::test_attack_subset_is_chapter_nine_subset"],
    ),
    dict(
        id="measurements-stale-entries-count",
        file="advlib/measurements.py",
        original="        if measurement and entry.get(\"models\") == registry.model_hashes(measurement.models, profile):",
        replacement="        if measurement:",
        description="a measurement of a retrained model still counts",
        tests=["tests/test_measurements.py::test_too_few_or_stale_seeds_give_no_verdict"],
    ),
    # -------------------------------------------------------------- advlib/statistics.py
    dict(
        id="statistics-pooled-variance",
        file="advlib/statistics.py",
        original="    first_term, second_term = first.std**2 / first.count, second.std**2 / second.count",
        replacement="    first_term = second_term = (first.std**2 + second.std**2) / 2 / min(first.count, second.count)",
        description="Welch's t with a pooled variance",
        tests=["tests/test_measurements.py::test_welch_t_matches_a_hand_computation"],
    ),
    dict(
        id="statistics-permutation-strict",
        file="advlib/statistics.py",
        original="    p_value = float(np.mean(gaps >= observed - 1e-12))",
        replacement="    p_value = float(np.mean(gaps > observed))",
        description="the permutation test does not count splits as extreme as the observed one",
        tests=["tests/test_measurements.py::test_permutation_test_matches_a_count_by_hand"],
    ),
    dict(
        id="statistics-wilson-normal",
        file="advlib/statistics.py",
        original="    half_width = z * math.sqrt(accuracy * (1 - accuracy) / size + z * z / (4 * size * size)) / denominator",
        replacement="    half_width = z * math.sqrt(accuracy * (1 - accuracy) / size)\n    centre = accuracy",
        description="a normal (Wald) interval instead of Wilson's",
        tests=["tests/test_measurements.py::test_wilson_interval_matches_textbook_values"],
    ),
    # ------------------------------------------------------------ advlib/expectations.py
    dict(
        id="expectations-goal-fgsm-at-least",
        file="advlib/expectations.py",
        original="fgsm, fgsm > report_best, True),",
        replacement="fgsm, fgsm >= report_best - 0.001, True),",
        description="the goal counts an FGSM accuracy just below the report's 0.598 as above it",
        tests=["tests/test_expectations.py"],
    ),
    # ------------------------------------------------------------------ advlib/text.py
    dict(
        id="text-relation-reversed",
        file="advlib/text.py",
        original='    if ours > other:\n        return "higher than"',
        replacement='    if ours < other:\n        return "higher than"',
        description="relation() says higher when the number is lower",
        tests=["tests/test_book_helpers.py::test_relation_phrases"],
    ),
    dict(
        id="text-source-keeps-path",
        file="advlib/text.py",
        original='        return "a local JPEG copy of CIFAR-10"',
        replacement="        return text",
        description="a recorded data source is shown with the path of the machine that made it",
        tests=["tests/test_book_helpers.py::test_source_kind_never_names_a_path"],
    ),
    # ---------------------------------------------------------------- advlib/worst_case.py
    dict(
        id="worst-case-not-per-image",
        file="advlib/worst_case.py",
        original="    robust = correct & ~any_broken",
        replacement="    robust = correct & ~broken[suite[0][0]]",
        description="the worst case takes one attack's result instead of the per-image worst case",
        tests=["tests/test_worst_case.py::test_the_worst_case_of_fgsm_and_random_signs_matches_the_closed_form"],
    ),
    # ----------------------------------------------------------- advlib/attack_registry.py
    dict(
        id="attack-registry-drops-options",
        file="advlib/attack_registry.py",
        original="    chosen = {key: value for key, value in options.items() if takes_anything or key in accepted}",
        replacement="    chosen = {key: value for key, value in options.items() if key in ('seed',) and key in accepted}",
        description="the registry drops options such as steps and loss on their way to the attack",
        tests=["tests/test_attack_registry.py::test_run_passes_only_the_options_an_attack_takes"],
    ),
]
