"""Log-probabilities of a generated token and its best alternatives, from the raw logits
(the model's own distribution, before temperature and cut-offs, as OpenAI reports it). Pure."""

from __future__ import annotations

import numpy as np


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - float(np.max(logits))
    return shifted - np.log(np.sum(np.exp(shifted)))


def top_tokens(logprobs: np.ndarray, n: int) -> list[tuple[int, float]]:
    """The `n` most likely token ids with their log-probabilities, best first."""
    if n <= 0:
        return []
    n = min(n, logprobs.shape[0])
    best = np.argpartition(-logprobs, n - 1)[:n]
    best = best[np.argsort(-logprobs[best], kind="stable")]
    return [(int(i), float(logprobs[i])) for i in best]
