"""One progress line per step: what :func:`advlib.runs.pipeline.reproduce` and the studies print.

Each line ends in a tqdm meter (the share done, elapsed time and tqdm's estimate of the time
left); the meter never draws itself, so the lines stay readable in a log file.
"""

import math
import sys

from tqdm import tqdm

# The meter at the end of a progress line: percentage done, a bar, elapsed and the time left.
METER_FORMAT = "{percentage:3.0f}% of {desc} |{bar:20}| elapsed {elapsed}, ETA {remaining}"


def meter(total, what):
    """A tqdm progress meter over ``total`` units of ``what`` (``"the studies"``, ...); ``str()`` of it is one line.

    Advance it with ``update(units)``. It never draws itself (``delay`` is infinite): a live
    bar would share its line with what training and attacks print (Keras's own per-epoch
    bars among them), so each step prints ``str(meter)`` at the end of its own line
    instead, which stays readable in a terminal, a notebook and a log file. ``smoothing=0``
    makes tqdm estimate the time left from the average rate since the start, not from
    the last step alone.
    """
    return tqdm(total=total, desc=what, bar_format=METER_FORMAT, smoothing=0, delay=math.inf, file=sys.stdout)
