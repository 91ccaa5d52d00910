"""Results: the plan as GeoDataFrames and the analysis of its coverage gaps."""
