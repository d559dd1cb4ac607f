"""collector: see README."""
