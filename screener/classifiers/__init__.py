"""Trained classifiers and their combination with the rules."""
