"""Package identity, kept apart so that packaging can read it without importing spaCy."""

__title__ = "inspection-themes"
__version__ = "0.3.2"
