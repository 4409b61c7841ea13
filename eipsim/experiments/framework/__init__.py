"""The experiment framework: specs, designs, seeds, the runner, backends, workers and the
Parquet store. It runs models; it does not analyse them (see ``eipsim.experiments.analysis``)."""
