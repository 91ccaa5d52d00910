"""Inputs: zones, sites and stations read and validated, demand and reach computed, the
problem assembled."""
