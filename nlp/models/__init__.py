"""scikit-learn estimators behind the theme classifier component."""

from .finding_classifier import FindingClassifier, FindingLabels
from .polarity import PolarityClassifier
from .themes import ThemeClassifier

__all__ = ["FindingClassifier", "FindingLabels", "PolarityClassifier", "ThemeClassifier"]
