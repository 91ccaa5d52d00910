"""Solving: HiGHS through Pyomo, exact reductions, decomposition into regions, Dask, the rollout."""
