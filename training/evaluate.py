"""The keyword baseline of the default (Ofsted) taxonomy: the schema's cue words as rules.

The model's own honest evaluation, cross-validation grouped by local authority, is `nlp.train`;
its measures are `nlp.scoring.evaluate`. The baseline is scored by the same folds-free measures
next to it, in the model card of the committed models.
"""

from __future__ import annotations

from typing import Sequence

from nlp.lexicon import CONTRAST_PATTERN, STRENGTH_PATTERN, THEME_PATTERNS, WEAKNESS_PATTERN
from nlp.models import FindingLabels
from nlp.taxonomy import THEME_IDS


def keyword_baseline(texts: Sequence[str]) -> list[FindingLabels]:
    """The schema's words as rules: a theme when one of its cues occurs; polarity from cue counts."""
    results = []
    for text in texts:
        themes = [theme for theme, pattern in THEME_PATTERNS.items() if pattern.search(text)]
        strengths, weaknesses = len(STRENGTH_PATTERN.findall(text)), len(WEAKNESS_PATTERN.findall(text))
        if strengths and weaknesses and CONTRAST_PATTERN.search(text):
            polarity = "mixed"
        elif strengths > weaknesses:
            polarity = "strength"
        elif weaknesses:
            polarity = "weakness"
        else:
            polarity = "neutral"
        results.append(
            FindingLabels(
                themes=themes,
                polarity=polarity,
                theme_polarity={theme: polarity for theme in themes},
                scores={theme: float(theme in themes) for theme in THEME_IDS},
            )
        )
    return results
