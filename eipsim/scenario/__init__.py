"""The scenario layer: what a researcher writes, checked before any run.

The schema (``schema``), the sector/material/facility catalogues and their data
(``catalogue``, ``data/``), roster files and dotted overrides. The domain reads it; it
imports nothing from the domain or the applications.
"""
