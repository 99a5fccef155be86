"""Run an experiment's ``run_seed`` for every seed and store the sweep (course_lib/experiments/sweeps.py says why).

    python tools/sweep.py lesson05_images course_lib.experiments.clutter:run_seed
    python tools/sweep.py lesson05_images course_lib.experiments.clutter:run_seed --seeds 0 1 2 3 4 --threads 2
    python tools/sweep.py --again lesson05_images        # re-run a stored sweep with its own settings

Prints every run as it finishes. Run it on a quiet machine after changing an experiment's models,
data or budget, then run ``make claims``: the claims tests compare the stored runs with training.
"""
from __future__ import annotations

import argparse
import sys
import time

import course_lib  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)
import torch

from course_lib.experiments import sweeps


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the sweep's name, e.g. lesson05_images")
    parser.add_argument("made_by", nargs="?", help="module:function, e.g. course_lib.experiments.clutter:run_seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(sweeps.SEEDS))
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: the course's setting)")
    parser.add_argument("--again", action="store_true",
                        help="re-run a stored sweep: its made_by and thread count")
    parser.add_argument("--budget", default=None,
                        help="module:NAME of the budget dict to store beside the runs")
    args = parser.parse_args(argv)

    made_by, threads = args.made_by, args.threads
    if args.again:
        stored = sweeps.load(args.name)
        made_by, threads = stored["made_by"], stored["threads"]
    if made_by is None:
        parser.error("made_by is required unless --again is given")
    if threads is None:
        threads = course_lib.use_course_threads()
    torch.set_num_threads(threads)
    run_seed = sweeps.run_function(made_by)
    budget = sweeps.run_function(args.budget) if args.budget else None

    runs = {}
    for seed in args.seeds:
        start = time.perf_counter()
        runs[seed] = run_seed(seed)
        summary = ", ".join(f"{model}: " + " ".join(f"{k}={v:.3f}" for k, v in metrics.items())
                            for model, metrics in runs[seed].items())
        print(f"seed {seed} ({time.perf_counter() - start:.0f} s, {threads} threads): {summary}",
              flush=True)
    path = sweeps.record(args.name, made_by, runs, budget=budget)
    print(f"stored {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
