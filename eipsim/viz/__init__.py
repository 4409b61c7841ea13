"""Browser visualisation of eipsim (Solara, after Mesa's SolaraViz).

Nothing here is imported by the domain model. ``eipsim.viz.server.serve`` starts the app;
``eipsim/viz/app.py`` is also runnable with ``solara run``. Solara itself is imported only
by ``app.py`` and ``components.py``, so ``levers``, ``i18n`` and ``server`` work without the
``viz`` extra installed.
"""
