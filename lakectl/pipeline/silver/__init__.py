"""Silver: cleaning, expectations, dimensions."""
