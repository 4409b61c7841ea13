"""Experiments: policy-lever sweeps, global sensitivity analysis and scenario discovery.

``eipsim.experiments.load(DIR)`` reads a sweep folder back into pandas.
"""

from eipsim.experiments.framework.store import Sweep, load

__all__ = ["Sweep", "load", "load_experiment", "run_sweep"]


def __getattr__(name: str):
    # lazy: importing the package (e.g. for load) should not pull in SALib or the runner
    if name == "load_experiment":
        from eipsim.experiments.framework.spec import load_experiment

        return load_experiment
    if name == "run_sweep":
        from eipsim.experiments.framework.runner import run_sweep

        return run_sweep
    raise AttributeError(name)
