"""Analysis of finished sweeps: sensitivity indices, scenario discovery, reports and plots.
It reads what the framework wrote; the framework never imports it."""
