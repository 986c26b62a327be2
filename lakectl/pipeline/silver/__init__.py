"""Silver: cleaning, expectations, the batch functions and writer of transform, its tallies and dimensions."""
