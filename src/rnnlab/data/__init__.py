"""Data sources and preparation: IMDb reviews (Q6) and household power (Q7)."""
