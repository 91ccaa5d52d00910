"""Outputs: the crash-safe file layer, tables, maps, charts, the HTML report and the run
manifest."""
