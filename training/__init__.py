"""Labelled data, weak supervision, training and evaluation of the theme classifier."""
