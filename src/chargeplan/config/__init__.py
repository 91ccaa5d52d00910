"""Configuration as data: scenario files and the charger catalogue, validated into frozen
objects.

:mod:`~chargeplan.config.scenario` (the scenario and its sections, :func:`load_scenario`),
:mod:`~chargeplan.config.sites` (the ``[sites]`` section and its extra candidate files),
:mod:`~chargeplan.config.catalogue` (charger types), :mod:`~chargeplan.config.solver` (the
``[solver]`` section and the solver's options, defined once), :mod:`~chargeplan.config.files`
(TOML, paths, ``extends``), :mod:`~chargeplan.config.validation` (pydantic errors as one line)
and :mod:`~chargeplan.config.defaults` (defaults several stages share, such as the metric CRS).
"""
