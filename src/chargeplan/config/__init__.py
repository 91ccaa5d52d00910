"""Configuration as data: scenario files and the charger catalogue, validated into frozen
objects."""
