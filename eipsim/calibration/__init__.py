"""Calibration and validation against patterns (issue 9): an application-layer package.

``patterns`` reads ``calibration/patterns.yaml`` and evaluates patterns over seeds;
``spec`` reads calibration files; ``abc`` runs ABC-SMC with pyabc; ``report`` writes the
posterior, plots and ``report.md``; ``posterior`` reads a calibration folder back (draws for
sweeps). Only the CLI imports this package.
"""
