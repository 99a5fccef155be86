"""tools/lesson_times.py: the instructor guide's time table comes from the notebooks' metadata."""
from pathlib import Path

import nbformat
import pytest

import lesson_times

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("text, expected", [
    ("**Estimated time:** about 15 s to run, 45-60 minutes to study. Exercises: ...", (45, 60)),
    ("**Estimated time:** runs in about 10 s; study time 20 minutes.", (20, 20)),
    ("**Estimated time:** 30-45 minutes. Lesson: `notebooks/01_similarity.ipynb`.", (30, 45)),
    ("**Estimated time:** about 20 s to run, 60 minutes to study.", (60, 60)),
    ("No estimate here.", None),
])
def test_study_time_is_read_from_the_estimated_time_line(text, expected):
    assert lesson_times.study_time("# Title\n\n" + text) == expected


def _notebook(path: Path, first_cell: str, run_seconds=None, cells=(), peak=None, cpu=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(first_cell)] + [nbformat.v4.new_code_cell(c) for c in cells]
    if run_seconds is not None:
        nb.metadata["course"] = {"run_seconds": run_seconds, "peak_memory_mib": peak,
                                 "cpu_seconds": cpu}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_table_and_schedules_follow_the_metadata(tmp_path):
    _notebook(tmp_path / "notebooks/01_similarity.ipynb",
              "# 01 · Similarity\n\n**Estimated time:** about 15 s to run, 40-60 minutes to study.",
              run_seconds=12.3, peak=420.4, cpu=15.2)
    _notebook(tmp_path / "exercises/01_similarity_exercises.ipynb", "> Exercise notebook.",
              run_seconds=2.0, cells=["check('a', f)", "x = 1", "check('b', g)",
                                      "if check('a', f):  # an experiment re-checks exercise a\n    pass"], peak=300.2)
    _notebook(tmp_path / "solutions/01_similarity_solutions.ipynb",
              "# 01 · exercises\n\n**Estimated time:** 30-45 minutes.")
    (tmp_path / "README.md").write_text("| `02_weights` | softmax | 45 min |\n", encoding="utf-8")
    lessons = {l.stem: l for l in lesson_times.collect(tmp_path)}
    one = lessons["01_similarity"]
    assert (one.run_s, one.study, one.exercises, one.exercise_time) == (12.3, (40, 60), 2, (30, 45))
    assert lessons["02_weights"].planned and lessons["02_weights"].study == (45, 45)
    table = lesson_times.time_table(list(lessons.values()))
    assert "| `01_similarity` | 12 s | 420 MiB | 15 s | 40–60 min | 2 | 30–45 min | 2 s, 300 MiB |" in table
    half = lesson_times.schedule(list(lessons.values()), "half")
    assert "| 09:00 | 09:25 | `01_similarity`" in half  # 60 % of 40 min = 24 -> 25 min
    full = lesson_times.schedule(list(lessons.values()), "full")
    assert "| 09:00 | 09:30 | `01_similarity`" in full  # 75 % of 40 min = 30 min


def test_the_half_day_reaches_local_versus_global_and_the_full_day_everything():
    """The half day must reach lesson 04 (the vision content); it ends by lunch."""
    lessons = lesson_times.collect(ROOT)
    half = lesson_times.schedule(lessons, "half")
    full = lesson_times.schedule(lessons, "full")
    assert "`04_local_vs_global`: lead through" in half and "`04_local_vs_global` exercises" in half
    assert "05_adaptivity" not in half
    end = half.strip().splitlines()[-1].split("|")[1].strip()
    assert end <= "12:45", f"the half day (from 09:00, one break) ends at {end}"
    for stem in lesson_times.PLANNED:
        assert f"`{stem}`: lead through" in full, stem


def test_the_hub_recipe_follows_the_measurements(tmp_path):
    import hub_sizing

    lessons = [lesson_times.Lesson("00_start_here", peak_mib=300.0, cpu_s=2.0),   # no exercises: no pair
               lesson_times.Lesson("01_similarity", peak_mib=420.0, cpu_s=15.0, exercise_peak_mib=300.0),
               lesson_times.Lesson("04_local_vs_global", peak_mib=1050.0, cpu_s=40.0,
                                   exercise_peak_mib=500.0)]
    hub = {"date": "2026-12-01", "what": "5 learners", "cpus": 2, "load_average_before": 1.0,
           "limits": {"mem_limit_gib": 2, "cpu_limit": 1, "enforced": False},
           "hub_and_proxy_mib": 190.0,
           "users": [{"server_mib": 150.0, "peak_mib": 860.0, "wall_seconds": 90.0,
                      "runs": [{"notebook": "c/notebooks/00_start_here.ipynb", "kernel_peak_mib": 295.0}]}]}
    numbers = hub_sizing.sizing(lessons, hub)
    # heaviest pair: 1050 + 500 + server 150 = 1700 MiB -> 2 GiB; median pair (720 + 1550) / 2
    # = 1135 + 150 = 1285 MiB -> 1.5 GiB; CPU: 30 learners x 40 s / 120 s = 10 cores.
    assert numbers["mem_limit_gib"] == 2.0 and numbers["mem_guarantee_gib"] == 1.5
    assert numbers["cores"] == 10 and numbers["cpu_limit"] == 1
    text = hub_sizing.recipe(lessons, hub)
    assert 'c.Spawner.mem_limit = "2G"' in text and "limit: 2G" in text and "guarantee: 1.5G" in text
    assert "`04_local_vs_global`" in text and "repo2docker" in text
    assert "The median of the 2 pairs, 1135 MiB" in text
    # 30 x 1.5 GiB + 2 GiB for the system + the hub's 190 MiB = 47.2 GiB: 48, in the table and the text
    assert "| 48 GiB of RAM with the hub" in text and "48 GiB of RAM and 10 cores" in text
    assert hub_sizing.recipe(lessons, None).startswith("*No measurements yet")


def test_update_rewrites_only_the_generated_part(tmp_path):
    guide = tmp_path / "guide.md"
    guide.write_text(f"intro\n\n{lesson_times.BEGIN}\nold\n{lesson_times.END}\n\noutro\n", encoding="utf-8")
    assert lesson_times.update_file(guide, ROOT)
    text = guide.read_text(encoding="utf-8")
    assert text.startswith("intro\n") and text.endswith("\noutro\n") and "old" not in text
    assert "Measured times and resources per lesson" in text
    assert not lesson_times.update_file(guide, ROOT), "a second run changes nothing"


def test_the_instructor_guide_has_the_generated_part():
    text = (ROOT / "docs" / "instructor_guide.md").read_text(encoding="utf-8")
    assert lesson_times.BEGIN in text and lesson_times.END in text


def test_the_tool_prints_on_a_console_that_is_not_utf8():
    """A Windows console (cp1252) or an ASCII terminal cannot show every character of the tables."""
    import os
    import subprocess
    import sys

    for encoding in ("ascii", "cp1252"):
        env = dict(os.environ, PYTHONIOENCODING=encoding, PYTHONUTF8="0")
        result = subprocess.run([sys.executable, str(ROOT / "tools" / "lesson_times.py")],
                                capture_output=True, env=env, timeout=120)
        assert result.returncode == 0, result.stderr.decode(encoding, "replace")[-2000:]
        assert b"Measured times and resources per lesson" in result.stdout


def _table_study_times(markdown: str) -> dict:
    """{lesson stem: (low, high) minutes} from a Markdown table whose rows start with `NN_topic`."""
    found = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 1 and cells[0].startswith("`") and cells[0].strip("`") in lesson_times.PLANNED:
            found[cells[0].strip("`")] = lesson_times._minutes(cells[-1])
    return found


def test_the_lesson_tables_state_each_lessons_own_study_time():
    """Each lesson's "Estimated time" line is the one source of its study time: the README's table
    and the start notebook's map of the course must say the same (the guide's table is generated)."""
    start = nbformat.read(ROOT / "notebooks" / "00_start_here.ipynb", as_version=4)
    tables = {"README.md": _table_study_times((ROOT / "README.md").read_text(encoding="utf-8")),
              "notebooks/00_start_here.ipynb": _table_study_times(
                  "\n".join(c.source for c in start.cells if c.cell_type == "markdown"))}
    for lesson in lesson_times.collect(ROOT):
        if lesson.planned:
            continue
        for where, table in tables.items():
            assert table.get(lesson.stem) == lesson.study, (
                f"{where} gives {lesson.stem} {table.get(lesson.stem)} min of study; the lesson's own "
                f"'Estimated time' line says {lesson.study}")


def _times(table: str) -> list[tuple[str, str]]:
    """The (from, to) column of a schedule: what both languages must share."""
    return [tuple(c.strip() for c in line.strip("|").split("|")[:2])
            for line in table.splitlines()[2:]]


def test_the_chinese_half_day_plan_is_the_same_schedule_in_chinese(tmp_path):
    """One schedule, two languages: the Chinese rows have the English rows' times, follow the same
    measurements when they change, and say it in Chinese."""
    lessons = lesson_times.collect(ROOT)
    english, chinese = (lesson_times.schedule(lessons, "half", lang) for lang in ("en", "zh"))
    assert _times(chinese) == _times(english) and len(_times(english)) >= 10
    assert "`04_local_vs_global`：带领全班走读本课" in chinese and "休息" in chinese
    assert "lead through" not in chinese and "break" not in chinese
    first = lessons[0]
    first.study = (first.study[0] + 20, first.study[1] + 20)   # a lesson that takes longer to study
    longer_en, longer_zh = (lesson_times.schedule(lessons, "half", lang) for lang in ("en", "zh"))
    assert _times(longer_zh) == _times(longer_en) != _times(english)


def test_the_chinese_guide_holds_the_generated_plan_and_update_keeps_the_rest(tmp_path):
    committed = ROOT / "docs" / "instructor_guide.zh.md"
    text = committed.read_text(encoding="utf-8")
    assert lesson_times.ZH_BEGIN in text and lesson_times.BEGIN not in text
    copy = tmp_path / "guide.zh.md"
    copy.write_text(text, encoding="utf-8")
    assert not lesson_times.update_file(copy, ROOT), \
        "docs/instructor_guide.zh.md is not what `make guide` generates now: run make guide"
    guide = tmp_path / "other.zh.md"
    guide.write_text(f"前言\n\n{lesson_times.ZH_BEGIN}\n旧的\n{lesson_times.ZH_END}\n\n结尾\n", encoding="utf-8")
    assert lesson_times.update_file(guide, ROOT)
    new = guide.read_text(encoding="utf-8")
    assert new.startswith("前言\n") and new.endswith("\n结尾\n") and "旧的" not in new
    assert lesson_times.schedule(lesson_times.collect(ROOT), "half", "zh") in new
    assert "Measured times" not in new, "the Chinese guide holds the half-day plan only"


def test_the_tools_import_each_other_one_way_only():
    """lesson_times (the guide's writer) uses hub_sizing (the recipe); hub_sizing never imports
    lesson_times back, not even inside a function, and edits no sys.path to get at it."""
    import ast

    tree = ast.parse((ROOT / "tools" / "hub_sizing.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "lesson_times" not in imported
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "path"
                and isinstance(node.value, ast.Name) and node.value.id == "sys"]


def test_the_hub_recipe_prints_from_lesson_times(capsys):
    assert lesson_times.main(["--hub"]) == 0
    out = capsys.readouterr().out
    assert "Sizing a JupyterHub" in out or out.startswith("*No measurements yet")
