"""What a training record says about its cost: CPU time and the share of the machine it had.

Wall time alone counts whatever else ran on the machine (issue 31), so ``training.fit``
also records, per epoch, the process's CPU time and the load average at the start and
end, and ``training.contention`` turns a history into CPU seconds and a CPU share.
"""

import os
import time

import numpy as np
import pytest

from advlib import models
from advlib.training import recipes as training

CONFIG = training.TrainingConfig(epochs=2, batch_size=16, warmup_epochs=1, seed=3)


def test_fit_records_cpu_time_and_load_per_epoch():
    rng = np.random.default_rng(0)
    x = rng.random((64, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    model = models.build_cnn(seed=0)
    cpu_before = time.process_time()
    history = training.fit(model, lambda epoch, model: (x, training.one_hot(y)), CONFIG, epoch_size=len(x), verbose=0)
    cpu_spent = time.process_time() - cpu_before
    assert len(history["cpu_seconds"]) == len(history["seconds"]) == CONFIG.epochs
    assert all(value > 0 for value in history["cpu_seconds"])
    # The epochs' CPU time is part of what this process spent around the call (the rest:
    # compiling the model before the first epoch).
    assert sum(history["cpu_seconds"]) <= cpu_spent + 1e-6
    assert len(history["load_average"]) == CONFIG.epochs
    if hasattr(os, "getloadavg"):
        assert all(len(pair) == 2 and all(value >= 0 for value in pair) for pair in history["load_average"])


def test_contention_is_cpu_time_over_wall_time_times_cores():
    history = {"seconds": [10.0, 10.0], "cpu_seconds": [20.0, 10.0]}
    assert training.contention(history, cores=2) == {"cpu_seconds": 30.0, "wall_seconds": 20.0, "cpu_share": 0.75}
    assert training.contention(history, cores=1)["cpu_share"] == 1.5  # more than one core used


def test_contention_of_an_old_record_without_cpu_time_is_unknown():
    assert training.contention({"seconds": [5.0]}, cores=2) == {"cpu_seconds": None, "wall_seconds": 5.0,
                                                                "cpu_share": None}


def test_contention_refuses_zero_cores():
    with pytest.raises(ValueError, match="cores must be at least 1"):
        training.contention({"seconds": [1.0], "cpu_seconds": [1.0]}, cores=-1)
