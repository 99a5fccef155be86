"""Self-attention on the words of a sentence, with two heads built by hand (lesson 03).

Nothing here is learned: every number is a rule you can read, so the three steps can be followed
on language. Each word is a vector of six yes/no features (``FEATURES``), looked up in a small
lexicon. Two heads attend over the sentence:

  * the **content head** asks a question that depends on the word: a pronoun ("it") looks for a
    noun that is animate (something that can be tired or hungry); every other word asks nothing,
    so its weights are uniform. Queries ``Q = F W_q``, keys ``K = F`` (the features), values
    ``V = F``: after attention, "it" carries the features of the word it found.
  * the **position head** asks the same question for every word, "who is just before me?":
    queries and keys are one-hot position codes, ``q_i = e_(i-1)``, ``k_j = e_j``.

One layer has a limit, and the lesson shows it: "it" can only ask the question it carries itself.
Whether "it" means the cat or the mat in "... because it was soft" depends on a later word, which
"it" could only take into account after an earlier layer had mixed that word into it.

    result = sentence_attention("the cat sat on the mat because it was tired")
    result["weights"]        # (2 heads, n, n): content head, position head
    result["outputs"][0]     # (n, 6): each word's new features after the content head
"""
from __future__ import annotations

import numpy as np

from course_lib.attention.core import attend

FEATURES = ("noun", "animate", "verb", "pronoun", "adjective", "function word")
HEADS = ("content: a pronoun looks for an animate noun", "position: the word just before")

# Each word's features (all others 0). A small lexicon is enough for the lesson's sentences.
LEXICON = {
    "the": ("function word",), "a": ("function word",), "on": ("function word",),
    "because": ("function word",), "and": ("function word",), "my": ("function word",),
    "cat": ("noun", "animate"), "dog": ("noun", "animate"), "bird": ("noun", "animate"),
    "girl": ("noun", "animate"), "neighbour": ("noun", "animate"),
    "mat": ("noun",), "ball": ("noun",), "street": ("noun",), "box": ("noun",),
    "sat": ("verb",), "chased": ("verb",), "crossed": ("verb",), "was": ("verb",), "hit": ("verb",),
    "it": ("pronoun",), "she": ("pronoun",), "he": ("pronoun",),
    "tired": ("adjective",), "hungry": ("adjective",), "soft": ("adjective",),
    "red": ("adjective",), "round": ("adjective",), "old": ("adjective",),
}

# What each feature of the *query* word looks for in the keys: pronoun -> noun + animate.
LOOKS_FOR = {"pronoun": {"noun": 1.0, "animate": 1.0}}


def words_of(sentence) -> list[str]:
    """``"The cat sat."`` -> ``["the", "cat", "sat"]``, every word checked against the lexicon."""
    words = sentence.lower().replace(".", " ").replace(",", " ").split() \
        if isinstance(sentence, str) else [w.lower() for w in sentence]
    unknown = [w for w in words if w not in LEXICON]
    if not words or unknown:
        raise ValueError(f"sentence must use words of the lexicon; unknown: {unknown or '(empty)'}; "
                         f"known: {', '.join(sorted(LEXICON))}")
    return words


def word_features(words) -> np.ndarray:
    """``(n, len(FEATURES))``: 1 where the word has the feature."""
    table = np.zeros((len(words), len(FEATURES)))
    for i, word in enumerate(words):
        for feature in LEXICON[word]:
            table[i, FEATURES.index(feature)] = 1.0
    return table


def query_matrix() -> np.ndarray:
    """``W_q`` ``(features, features)``: row = a feature of the query word, column = a feature
    it looks for in the keys (``LOOKS_FOR`` as a matrix)."""
    w = np.zeros((len(FEATURES), len(FEATURES)))
    for feature, wanted in LOOKS_FOR.items():
        for target, strength in wanted.items():
            w[FEATURES.index(feature), FEATURES.index(target)] = strength
    return w


def sentence_attention(sentence, sharpness: float = 2.0) -> dict:
    """Both heads on one sentence.

    ``sharpness`` multiplies the scores (the inverse of a temperature, lesson 02).
    Returns ``words``, ``features`` ``(n, F)``, and for the two heads (content, position)
    ``scores`` ``(2, n, n)``, ``weights`` ``(2, n, n)`` and ``outputs`` ``(2, n, F)``
    (the values are the features, so each output row is a weighted average of features).
    """
    words = words_of(sentence)
    n = len(words)
    f = word_features(words)
    q_content, k_content = sharpness * f @ query_matrix(), f
    positions = np.eye(n)
    q_position = sharpness * 2 * np.roll(positions, -1, axis=1)   # row i is e_(i-1) ...
    q_position[0] = 0.0                                          # ... the first word has none
    scores, weights, outputs = [], [], []
    for q, k in ((q_content, k_content), (q_position, positions)):
        out, w = attend(q, k, f, kind="dot")                      # the three steps
        scores.append(q @ k.T)
        weights.append(w)
        outputs.append(out)
    return {"words": words, "features": f, "scores": np.stack(scores),
            "weights": np.stack(weights), "outputs": np.stack(outputs)}
