"""Labelling a Hugging Face `datasets.Dataset` of finding texts.

    >>> from datasets import Dataset
    >>> from nlp.hf import label_dataset
    >>> labelled = label_dataset(Dataset.from_dict({"text": ["Return home interviews are timely."]}))  # doctest: +SKIP
    >>> labelled[0]["themes"], labelled[0]["polarity"]  # doctest: +SKIP

`Dataset.map(batched=True, num_proc=...)` runs the model in each worker process; the model is
loaded once per process (`nlp.classify.load_pipeline` is cached) and passed by path, so nothing
large is pickled.
"""

from __future__ import annotations

import json
import os

import datasets

from .classify import classify_texts, default_model_path, load_pipeline
from .errors import DatasetColumnsError

OUTPUT_COLUMNS = ("themes", "polarity", "theme_polarity", "scores")


def _label_batch(batch: dict, text_column: str, model: str) -> dict:
    labels = classify_texts(batch[text_column], load_pipeline(model))
    return {
        "themes": [label.themes for label in labels],
        "polarity": [label.polarity for label in labels],
        # Per-row mappings with varying keys do not fit Arrow's fixed structs: stored as JSON text.
        "theme_polarity": [json.dumps(label.theme_polarity) for label in labels],
        "scores": [json.dumps(label.scores) for label in labels],
    }


def label_dataset(
    dataset: datasets.Dataset,
    model: str | os.PathLike | None = None,
    text_column: str = "text",
    batch_size: int = 64,
    num_proc: int | None = None,
) -> datasets.Dataset:
    """Add `themes`, `polarity`, `theme_polarity` and `scores` columns to a Dataset of findings.

    dataset (Dataset): one finding per row.
    model (PathLike | None): model folder; default: the committed one.
    text_column (str): the column holding the finding text.
    batch_size (int): rows per call of the model.
    num_proc (int | None): worker processes for `Dataset.map`.
    RETURNS (Dataset): the input with the four label columns (mappings as JSON text).
    """
    if isinstance(dataset, datasets.DatasetDict):
        raise DatasetColumnsError(
            f"got a DatasetDict with splits {list(dataset)}; pass one split, e.g. label_dataset(dataset['train'])."
        )
    if text_column not in dataset.column_names:
        raise DatasetColumnsError(
            f"the dataset has no '{text_column}' column (it has {dataset.column_names}); "
            "pass text_column= the column that holds the finding text."
        )
    clashes = set(OUTPUT_COLUMNS) & set(dataset.column_names)
    if clashes:
        raise DatasetColumnsError(f"the dataset already has columns {sorted(clashes)}; rename or drop them first.")
    location = str(model if model is not None else default_model_path())
    return dataset.map(
        _label_batch,
        batched=True,
        batch_size=batch_size,
        num_proc=num_proc,
        fn_kwargs={"text_column": text_column, "model": location},
        desc="labelling findings",
    )
