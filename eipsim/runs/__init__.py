"""Application: one run's results folder (tables, summary, provenance, plots)."""
