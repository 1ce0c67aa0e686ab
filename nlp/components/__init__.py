"""spaCy components of the report pipeline. Importing this package registers them."""

from . import findings, report_metadata, report_tokenizer, sentences, theme_classifier  # noqa: F401  (registration side effects)
