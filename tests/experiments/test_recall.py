"""Lesson 05, section 4: the word-recall task's sentences, its ten readers and their sizes (fast).

What the lesson claims about the trained readers is asserted over seeds 0-4 by
tests/claims/test_lesson05_recall_claims.py (a claims test: make claims).
"""
import pytest
import torch

from course_lib.experiments import recall as R


def _generator(seed=0):
    return torch.Generator().manual_seed(seed)


def _asking_another_colour(tokens):
    """The same sentence (one row) with the question changed to another colour of its list."""
    other = tokens.clone()
    colours = tokens[0, 0:-3:4]
    other[0, -2] = colours[colours != tokens[0, -2]][0]
    return other


@pytest.mark.parametrize("k", [1, 2, 5, 8, 10])
def test_sentences_follow_the_grammar(k):
    tokens, labels = R.sentences(200, k, _generator())
    assert tokens.shape == (200, R.length_of(k)) == (200, 4 * k + 2) and labels.shape == (200,)
    for row, label in zip(tokens, labels):
        words = R.words_of(row)
        assert words[-3:] == [";", words[-2], "?"] and words[-2] in R.COLOURS
        pairs = " ".join(words[:-3]).split(" , ")
        assert len(pairs) == k
        table = {}
        for pair in pairs:
            colour, is_, number = pair.split(" ")
            assert colour in R.COLOURS and is_ == "is" and number in R.NUMBERS
            table[colour] = number
        assert len(table) == k                       # no colour twice in one sentence
        assert table[words[-2]] == R.NUMBERS[int(label)]   # the label is the asked colour's number


def test_sentences_are_seeded_and_the_asked_pair_moves():
    a, b = R.sentences(300, 6, _generator(3)), R.sentences(300, 6, _generator(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    where = R.asked_position(a[0]) // 4
    counts = torch.bincount(where, minlength=6)
    # every pair is asked about, none in much more than 1 in 6 of the sentences
    assert counts.min() > 0 and counts.max() < 0.3 * 300, counts
    assert bool((a[0][torch.arange(300), R.asked_position(a[0])] == a[0][:, -2]).all())
    test = R.make_task(pairs=[2, 3], n_test=5)[1]
    assert list(test) == [2, 3] and test[3][0].shape == (5, 14)


@pytest.mark.parametrize("reader", R.READERS)
def test_shapes_and_weights(reader):
    model = R.build(reader, seed=0)
    tokens, _ = R.sentences(7, 4, _generator())
    logits, weights = model(tokens)
    assert logits.shape == (7, R.N_CLASSES)
    if reader in ("attention", "fixed index", "fixed mixing"):
        assert weights.shape == (7, 4 * 4 - 1)       # one weight per word before ';'
        torch.testing.assert_close(weights.sum(-1), torch.ones(7))
    elif reader == "sigmoid gate":                   # a gate per word: no unit total
        assert weights.shape == (7, 4 * 4 - 1) and bool(((weights > 0) & (weights < 1)).all())
    else:
        assert weights is None
    if reader == "fixed index":
        assert bool((weights[:, 0] == 1).all())


def test_fixed_readers_give_every_sentence_the_same_weights_and_attention_does_not():
    tokens, _ = R.sentences(50, 5, _generator())
    for reader in ("fixed index", "fixed mixing"):
        model = R.build(reader, seed=0)
        with torch.no_grad():
            model.mixing.add_(torch.randn(model.mixing.shape)) if reader == "fixed mixing" else None
        weights = model(tokens)[1]
        torch.testing.assert_close(weights, weights[:1].expand_as(weights))
    weights = R.build("attention", seed=0)(tokens)[1]
    assert (weights - weights[:1]).abs().max() > 1e-3


def test_attention_reads_the_list_only_from_the_asked_word():
    """The query comes from the asked colour: a sentence whose list is the same but whose question
    differs gets different weights; the words after ';' are never read."""
    model = R.build("attention", seed=1)
    tokens, _ = R.sentences(1, 5, _generator())
    other = _asking_another_colour(tokens)
    assert (model(tokens)[1] - model(other)[1]).abs().max() > 1e-4
    assert model(tokens)[1].shape[1] == tokens.shape[1] - 3


def test_the_question_first_gru_reads_the_question_before_the_list():
    """Its final state after the list depends on the asked word; the question-last GRU's final
    state sees the asked word too, but only after the list, which is the point of the pair."""
    model = R.build("GRU, question first", seed=0)
    tokens, _ = R.sentences(1, 3, _generator())
    other = _asking_another_colour(tokens)
    seen = []
    model.gru.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    model(tokens)
    order = torch.cat([tokens[:, -2:], tokens[:, :-2]], 1)  # the asked word, '?', then the list
    x = model.embed(order) + model.position.weight[:tokens.shape[1]]   # positions after that
    torch.testing.assert_close(seen[0], x)
    assert R.words_of(order[0])[1] == "?"
    assert (model(tokens)[0] - model(other)[0]).abs().max() > 1e-5


def test_the_mixer_puts_the_question_in_the_same_slot_whatever_the_length():
    """Right-aligned: for 2 pairs as for 8 the asked word is in slot -2 and '?' in slot -1, and the
    mixer's only reading across words is its fixed token mixing (no weights from content)."""
    model = R.build("mixer, 2 blocks", seed=0)
    seen = []
    model.embed.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    for k in (2, 8):
        tokens, _ = R.sentences(3, k, _generator())
        seen.clear()
        model.mix(tokens)
        padded = seen[0]
        assert padded.shape == (3, R.length_of(max(R.PAIRS)))
        assert torch.equal(padded[:, -2], tokens[:, -2]) and bool((padded[:, -1] == R.TOKEN["?"]).all())
        assert bool((padded[:, :-tokens.shape[1]] == R.PAD).all())
    mixings = [block["tokens"] for block in model.blocks]
    assert all(m.weight.shape == (R.length_of(8), R.length_of(8)) for m in mixings)
    assert not any(isinstance(m, torch.nn.Module) and hasattr(m, "query") for m in model.modules())


def test_question_and_word_max_sees_the_question_at_every_word():
    """Changing only the asked word changes the features at every word before the max."""
    model = R.build("question + word, max", seed=0)
    tokens, _ = R.sentences(1, 4, _generator())
    other = _asking_another_colour(tokens)
    seen = []
    model.second.register_forward_hook(lambda module, args, out: seen.append(out))
    model(tokens), model(other)
    assert seen[0].shape == (1, 4 * 4 - 1, model.second.out_features)
    assert bool(((seen[0] - seen[1]).abs().amax(-1) > 1e-6).all())


class _Oracle(torch.nn.Module):
    """Answers the asked colour's number (reads only the asked pair), or with ``bag=True`` the most
    frequent number of the list (reads every number): two readers whose answers_follow is known."""

    def __init__(self, bag=False):
        super().__init__()
        self.bag = bag

    def forward(self, tokens):
        numbers = tokens[:, 2:-2:4] - len(R.COLOURS)
        if self.bag:
            return torch.nn.functional.one_hot(numbers, R.N_CLASSES).sum(1).float(), None
        answer = numbers.gather(1, (R.asked_position(tokens) // 4)[:, None])[:, 0]
        return torch.nn.functional.one_hot(answer, R.N_CLASSES).float(), None


def test_answers_follow_tells_where_a_reader_reads():
    test = R.make_task(pairs=[2, 8], n_test=200)[1]
    assert R.answers_follow(_Oracle(), test) == {"asked": 1.0, "other": 0.0}
    bag = R.answers_follow(_Oracle(bag=True), test)
    assert bag["other"] > 0.2 and abs(bag["asked"] - bag["other"]) < 0.15, bag
    assert R.answers_follow(_Oracle(), test, k=2) == {"asked": 1.0, "other": 0.0}
    assert R.answers_follow(_Oracle(), test, seed=1) == {"asked": 1.0, "other": 0.0}


def test_parameter_counts_within_ten_percent():
    counts = {reader: R.count_parameters(R.build(reader)) for reader in R.READERS}
    target = counts["attention"]
    assert all(abs(n - target) <= 0.1 * target for n in counts.values()), counts


def test_weight_on_asked_measures_the_asked_pair():
    model = R.build("attention", seed=0)
    test = R.make_task(pairs=[3], n_test=20)[1]
    on_pair, even = R.weight_on_asked(model, test)[3]
    assert 0 <= on_pair <= 1 and even == pytest.approx(4 / 11)
    with pytest.raises(ValueError, match="reader"):
        R.weight_on_asked(R.build("mean"), test)


def test_metrics_report_every_reader_with_the_same_metrics():
    runs = R.metrics(R.fit_every_model(0, steps=2), R.make_task(pairs=[2, 3], n_test=8)[1])
    assert list(runs) == list(R.READERS)
    for values in runs.values():
        assert set(values) == {"parameters", "accuracy", "accuracy@2", "accuracy@3",
                               "moved by asked", "moved by other"}
        assert 0 <= values["accuracy"] <= 1


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="n_pairs"):
        R.sentences(3, 11, _generator())
    with pytest.raises(ValueError, match="n_pairs"):
        R.sentences(3, 0, _generator())
    with pytest.raises(ValueError, match="reader"):
        R.Recaller("attention pooling")
    with pytest.raises(ValueError, match="reader"):
        R.build("lstm")
    with pytest.raises(ValueError, match="tokens"):
        R.build("attention")(torch.zeros(2, 7, dtype=torch.long))
    with pytest.raises(ValueError, match="max_pairs"):
        R.build("attention")(R.sentences(2, 9, _generator())[0])
    with pytest.raises(ValueError, match="tokens"):
        R.asked_position(torch.zeros(5, dtype=torch.long))


def test_bag_guess_is_the_best_guess_from_the_numbers_alone():
    t = R.TOKEN
    n = len(R.COLOURS)

    def sentence(pairs, asked):
        words = []
        for colour, number in pairs:
            words += [t[colour], t["is"], t[number], t[","]]
        words[-1] = t[";"]
        return words + [t[asked], t["?"]]

    tokens = torch.tensor([sentence([("red", "3"), ("blue", "3")], "red"),       # one number: sure
                           sentence([("red", "3"), ("blue", "5")], "blue")])     # a tie: a coin
    labels = torch.tensor([3 - 1, 5 - 1])
    assert int(tokens[0, 2]) - n == 2                    # "3" is number index 2
    assert R.bag_guess({2: (tokens, labels)})[2] == pytest.approx((1 + 0.5) / 2)
    three = torch.tensor([sentence([("red", "3"), ("blue", "3"), ("gold", "5")], "gold"),
                          sentence([("red", "3"), ("blue", "3"), ("gold", "5")], "red")])
    assert R.bag_guess({3: (three, torch.tensor([4, 2]))})[3] == pytest.approx(0.5)


def _reading(accuracy, asked, other):
    return {"accuracy": accuracy, **{f"accuracy@{k}": accuracy for k in R.PAIRS},
            "moved by asked": asked, "moved by other": other}


def test_claims_hold_for_a_perfect_reader_and_fail_for_a_guess():
    perfect = {"attention": _reading(1.0, 1.0, 0.0)}
    blind = {r: _reading(0.3, 0.35, 0.3) for r in R.BLIND_READERS}
    content = {r: _reading(0.95, 0.95, 0.02) for r in R.CONDITIONED_READERS[1:]}
    on_pair = {8: (0.9, 4 / 31)}
    assert all(R.claims({**perfect, **blind, **content}, on_pair).values())
    assert len(R.claims({**perfect, **blind, **content}, on_pair)) == 6
    # the attention reader's own lines, and where its answers come from
    assert len(R.claims(perfect, on_pair)) == 3
    assert len(R.claims({"attention": {k: 1.0 for k in perfect["attention"] if "moved" not in k}},
                        on_pair)) == 2                    # a run without answers_follow
    assert not all(R.claims(perfect, {8: (0.2, 4 / 31)}).values())
    for reader, key, value in (("GRU", "accuracy@8", 0.9), ("max", "moved by asked", 0.5),
                               ("mean", "moved by other", 0.5), ("sigmoid gate", "accuracy", 0.8),
                               ("question + word, max", "moved by other", 0.3),
                               ("mixer, 2 blocks", "accuracy", 0.5),
                               ("attention", "moved by asked", 0.5)):
        runs = {**perfect, **blind, **content}
        runs[reader] = {**runs[reader], key: value}
        assert not all(R.claims(runs, on_pair).values()), (reader, key)
    # the question-first GRU has no line: whatever it scores, the claims stand
    runs = {**perfect, **blind, **content, "GRU, question first": _reading(0.1, 0.3, 0.3)}
    assert all(R.claims(runs, on_pair).values())


def test_claims_refuse_an_even_share_their_sentence_does_not_state():
    """The sentence about the weight on the asked pair is written out whole (so that the Chinese
    edition can translate it), even share included: an on_pair with another even share is an
    error that names it, not a sentence with a stale number."""
    perfect = {"attention": _reading(1.0, 1.0, 0.0)}
    assert "(spread evenly: 0.13)" in " ".join(R.claims(perfect, {8: (0.9, 4 / 31)}))
    with pytest.raises(ValueError, match=r"on_pair\[8\]\[1\].*0\.2500"):
        R.claims(perfect, {8: (0.9, 0.25)})
