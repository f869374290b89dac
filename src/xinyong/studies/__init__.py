"""Experiments, sensitivity, validation against the published record, overrides."""
