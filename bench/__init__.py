"""Measurements of the Atlas under load, run by hand (``python -m bench.<name>``)."""
