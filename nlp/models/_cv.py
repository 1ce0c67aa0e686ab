"""Inner cross-validation folds and fold bookkeeping shared by the estimators' out-of-fold steps."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from sklearn.model_selection import GroupKFold, KFold


def inner_splits(
    n_samples: int, n_splits: int, groups: Sequence | None, random_state: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Train and test indices of `n_splits` folds, grouped when there are enough groups.

    Parameters
    ----------
    n_samples : int
    n_splits : int
    groups : sequence or None
        Group of each sample (e.g. local authority). With at least `n_splits` distinct groups the
        folds keep each group whole, so out-of-fold predictions are as honest about unseen groups as
        the outer evaluation is; otherwise the folds are shuffled plain K-fold.
    random_state : int
        Seed of the shuffling of plain K-fold.

    Yields
    ------
    train, test : ndarray of int
    """
    placeholder = np.zeros((n_samples, 1))
    if groups is not None and len(set(groups)) >= n_splits:
        yield from GroupKFold(n_splits=n_splits).split(placeholder, groups=list(groups))
    else:
        yield from KFold(n_splits, shuffle=True, random_state=random_state).split(placeholder)


def rows_of(owner: np.ndarray, rows: np.ndarray, n_texts: int) -> tuple[np.ndarray, np.ndarray]:
    """Which sentences belong to the texts `rows`, and the position in `rows` of each one's text.

    Parameters
    ----------
    owner : ndarray of int
        Index of the text each sentence belongs to.
    rows : ndarray of int
        Indices of the texts kept (e.g. a test fold).
    n_texts : int

    Returns
    -------
    mask : ndarray of bool, shape (len(owner),)
    owner_in_rows : ndarray of int, shape (mask.sum(),)
    """
    position = np.full(n_texts, -1)
    position[rows] = np.arange(len(rows))
    mask = position[owner] >= 0
    return mask, position[owner[mask]]
