"""The stored-sweep protocol (course_lib/experiments/sweeps.py): what a lesson prints about seeds 1-4 comes from
these files, so the files must load, hold every seed and say how to re-make them."""
import json

import pytest

from course_lib.experiments import sweeps


def _runs(seeds=(0, 1, 2)):
    return {s: {"attention": {"accuracy": 0.9 + s / 100}, "max pool": {"accuracy": 0.5 - s / 100}}
            for s in seeds}


@pytest.fixture
def sweep_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(sweeps, "SWEEP_DIR", tmp_path)
    return tmp_path


def test_record_then_load_gives_the_runs_back(sweep_dir):
    path = sweeps.record("demo", "course_lib.experiments.sweeps:SEEDS", _runs(), budget={"steps": 10})
    assert path.parent == sweep_dir
    sweep = sweeps.load("demo")
    assert sweep["runs"] == _runs() and sweep["budget"] == {"steps": 10}
    assert sweeps.models_of(sweep) == ["attention", "max pool"]
    assert sweeps.ranges(sweep, "accuracy") == {"attention": (0.9, 0.92), "max pool": (0.48, 0.5)}


def test_table_shows_every_seed_not_only_the_range(sweep_dir):
    sweeps.record("demo", "m:f", _runs())
    text = sweeps.table(sweeps.load("demo"), "accuracy")
    assert "0.90 - 0.92" in text and "0.48 - 0.50" in text
    for seed in (0, 1, 2):
        assert f"seed {seed}" in text
    assert "0.91" in text and "0.49" in text        # seed 1's own values


def test_agrees_with_names_what_drifted(sweep_dir):
    sweeps.record("demo", "m:f", _runs())
    sweep = sweeps.load("demo")
    assert sweeps.agrees_with(sweep, 1, _runs()[1]) == []
    drifted = {"attention": {"accuracy": 0.7}, "max pool": {"accuracy": 0.49}}
    assert sweeps.agrees_with(sweep, 1, drifted) == ["attention/accuracy: stored 0.910, fresh 0.700"]
    assert "not stored" in sweeps.agrees_with(sweep, 7, _runs()[1])[0]


def test_bad_runs_and_names_are_refused_with_what_was_seen(sweep_dir):
    uneven = _runs()
    del uneven[2]["max pool"]
    with pytest.raises(ValueError, match="seed 2"):
        sweeps.record("demo", "m:f", uneven)
    with pytest.raises(ValueError, match="finite"):
        sweeps.record("demo", "m:f", {0: {"a": {"accuracy": float("nan")}}})
    with pytest.raises(ValueError, match="no sweep called 'nothing'"):
        sweeps.load("nothing")
    with pytest.raises(ValueError, match="name"):
        sweeps.sweep_path("../escape")
    with pytest.raises(ValueError, match="made_by"):
        sweeps.run_function("no_colon")


STORED = sorted(sweeps.SWEEP_DIR.glob("*.json"))


@pytest.mark.parametrize("path", STORED, ids=[p.stem for p in STORED])
def test_every_stored_sweep_covers_seeds_0_to_4_and_can_be_remade(path):
    """A claim's sweep holds seeds 0-4. A name ending in ``_lr`` is the record of the learning
    rates tried for every model on the tuning seed (0), which shows each rival had a fair chance."""
    sweep = sweeps.load(path.stem)
    assert sweep["name"] == path.stem
    expected = [0] if path.stem.endswith("_lr") else list(sweeps.SEEDS)
    assert sorted(sweep["runs"]) == expected
    assert callable(sweeps.run_function(sweep["made_by"]))
    assert len(sweeps.models_of(sweep)) >= 2, "a sweep puts a model beside at least one rival"
    json.loads(path.read_text())           # plain JSON, readable without the course


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_table_reads_in_the_learners_language_with_its_columns_lined_up(lang, sweep_dir, monkeypatch):
    """In Chinese the headers and the footer are Chinese, and the header row is as wide (in display
    cells: a Chinese character takes two) as the rows below it, as in English; the model names stay
    as typed in code."""
    from course_lib.basics.language import cells

    monkeypatch.setenv("COURSE_LANG", lang)
    sweeps.record("demo", "m:f", _runs())
    head, rule, *rows, footer = sweeps.table(sweeps.load("demo"), "accuracy").split("\n")
    assert cells(head) == cells(rule) == cells(rows[0]), (head, rows[0])
    assert rows[0].startswith("attention ") and rows[1].startswith("max pool ")
    chinese = any("\u4e00" <= ch <= "\u9fff" for ch in head + footer)
    assert chinese == (lang == "zh"), (head, footer)
    assert footer.startswith("(")            # a lesson cuts the footer off with .split("\n(")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_lesson_tables_line_up_in_both_languages(lang, monkeypatch):
    """Lesson 05's weight table and lesson 06's learning-rate tables, from the stored sweeps: the
    header, its rule and every row are equally wide in display cells, in Chinese too, and the
    Chinese edition's headers are Chinese."""
    from course_lib.basics.language import cells
    from course_lib.experiments import capstone, video

    monkeypatch.setenv("COURSE_LANG", lang)
    tables = [video.weight_table(sweeps.load("lesson05_video")),
              capstone.learning_rate_table(sweeps.load("lesson06_local_lr")),
              capstone.learning_rate_table(sweeps.load("lesson06_longrange_lr")),
              sweeps.table(sweeps.load("lesson06_local"), "train accuracy")]
    for text in tables:
        lines = text.split("\n")
        body = [line for line in lines if not line.startswith(("(", "（"))]     # all but the footer
        assert len({cells(line) for line in body}) == 1, text
        assert any("\u4e00" <= ch <= "\u9fff" for ch in lines[0]) == (lang == "zh"), lines[0]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_metric_labels_translate_the_word_and_keep_the_count(lang, monkeypatch):
    """A header names ``accuracy@8`` as 准确率@8 in Chinese (the word translated, the count kept),
    ``mass`` stays the key the lesson's text quotes, and English gets the keys unchanged."""
    monkeypatch.setenv("COURSE_LANG", lang)
    labels = [sweeps.metric_label(m) for m in ("accuracy", "accuracy@8", "exact@12", "mass")]
    assert labels == (["准确率", "准确率@8", "完全正确@12", "mass"] if lang == "zh"
                      else ["accuracy", "accuracy@8", "exact@12", "mass"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_seed_table_shows_one_seed_of_a_learning_rate_sweep_lined_up(lang, monkeypatch):
    """Lesson 05's learning-rate tables: every model and rate of seed 0, a column per metric, the
    header, the rule and every row equally wide in display cells."""
    from course_lib.basics.language import cells

    monkeypatch.setenv("COURSE_LANG", lang)
    sweep = sweeps.load("lesson05_recall_lr")
    lines = sweeps.seed_table(sweep, ("accuracy", "accuracy@8")).split("\n")
    assert len(lines) == 2 + len(sweep["runs"][0])
    assert len({cells(line) for line in lines}) == 1, lines
    first = next(iter(sweep["runs"][0]))
    assert lines[2].startswith(first) and lines[2].endswith(f"{sweep['runs'][0][first]['accuracy@8']:.2f}")
