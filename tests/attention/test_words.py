"""The hand-built word attention of lesson 03 (course_lib.attention.words): what the lesson says it does."""
import numpy as np
import pytest

from course_lib.attention.words import FEATURES, LEXICON, sentence_attention, word_features, words_of

SENTENCE = "the cat sat on the mat because it was tired"


def test_weights_are_distributions_and_outputs_average_the_features():
    r = sentence_attention(SENTENCE)
    n = len(r["words"])
    assert r["weights"].shape == (2, n, n) and r["outputs"].shape == (2, n, len(FEATURES))
    np.testing.assert_allclose(r["weights"].sum(-1), 1.0)
    np.testing.assert_allclose(r["outputs"], r["weights"] @ r["features"])


def test_it_finds_the_animate_noun_wherever_it_is():
    for sentence, noun in [(SENTENCE, "cat"), ("the ball hit the old dog because it was tired", "dog")]:
        r = sentence_attention(sentence)
        it = r["words"].index("it")
        w = r["weights"][0, it]
        assert r["words"][int(w.argmax())] == noun and w.max() > 0.7
        assert r["outputs"][0, it, FEATURES.index("animate")] > 0.7    # "it" now carries "animate"
        others = [i for i, word in enumerate(r["words"]) if word != "it"]
        np.testing.assert_allclose(r["weights"][0, others], 1 / len(r["words"]))   # ask nothing


def test_position_head_looks_one_word_back():
    r = sentence_attention(SENTENCE)
    w = r["weights"][1]
    assert all(int(w[i].argmax()) == i - 1 for i in range(1, len(r["words"])))
    np.testing.assert_allclose(w[0], 1 / len(r["words"]))


def test_content_head_is_permutation_equivariant_position_head_is_not():
    words = SENTENCE.split()
    perm = np.random.default_rng(0).permutation(len(words))
    a = sentence_attention(words)
    b = sentence_attention([words[i] for i in perm])
    np.testing.assert_allclose(b["weights"][0], a["weights"][0][perm][:, perm])
    assert not np.allclose(b["weights"][1], a["weights"][1][perm][:, perm])


def test_sharpness_is_an_inverse_temperature():
    soft, sharp = (sentence_attention(SENTENCE, s)["weights"][0, 7] for s in (0.5, 4.0))
    assert sharp.max() > soft.max()


def test_unknown_words_are_named_with_the_lexicon():
    with pytest.raises(ValueError, match=r"unknown: \['zebra'\]"):
        sentence_attention("the zebra sat")
    assert words_of("The cat sat.") == ["the", "cat", "sat"]
    assert word_features(["cat"]).tolist() == [[1, 1, 0, 0, 0, 0]]
    assert all(set(f) <= set(FEATURES) for f in LEXICON.values())
