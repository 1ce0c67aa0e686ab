"""inspection-themes: themes and polarity for the findings of Ofsted children's services reports."""

from .about import __version__

__all__ = ["__version__"]
