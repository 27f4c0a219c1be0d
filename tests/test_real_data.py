"""Real published results, imported through the command a user runs, on
SQLite and PostgreSQL: every record lands, the ratings do not depend on the
order of the file, averages equal a published leaderboard, and standings
equal a published league table."""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import unavailable
from university_models.cli import main
from university_models.config import published_data_dir
from university_models.db import read_session
from university_models.queries.leaderboard import BOOTSTRAP_ROUNDS
from university_models.ratings import bootstrap_intervals, leaderboard
from university_models.services.competitions import find_competition
from university_models.services.universities import find_university
from university_models.standings import compute_standings

#: The published data sets (the project's copies unless
#: UNIVERSITY_PUBLISHED_DATA names another folder).
DATA = published_data_dir()
UNIVERSITY = "Real Data U"


def data_file(name: str) -> Path:
    path = DATA / name
    if not path.is_file():
        unavailable(f"the real data set {path} is missing")
    return path


def test_published_copies_are_byte_for_byte_the_published_files():
    """The shipped copies equal what ``SHA256SUMS`` pins: nobody edited them."""
    sums = (published_data_dir() / "SHA256SUMS").read_text().splitlines()

    assert len(sums) == 6
    for line in sums:
        digest, name = line.split()
        content = (published_data_dir() / name).read_bytes()
        assert hashlib.sha256(content).hexdigest() == digest, name


@pytest.fixture
def cli(engine, monkeypatch, capsys):
    """Run ``python -m university_models ...`` against the test database;
    returns the exit code and what it printed."""
    monkeypatch.setenv(
        "UNIVERSITY_DATABASE_URL", engine.url.render_as_string(hide_password=False)
    )

    def run(*args: str) -> tuple[int, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    code, output = run("university", "create", UNIVERSITY, "--owner", "lab@example.org")
    assert code == 0, output
    return run


def import_file(cli, path: Path, competition: str, kind: str) -> dict[str, float]:
    """Import through the command; the numbers it reports, by label."""
    code, output = cli(
        "import-results",
        str(path),
        "--university",
        UNIVERSITY,
        "--competition",
        competition,
        "--type",
        kind,
    )
    assert code == 0, output
    return {
        label.strip(): float(value)
        for label, value in re.findall(r"^  ([a-z ()]+?)\s+([\d.]+)", output, re.M)
    }


def competition_id(engine, name: str) -> tuple[str, str]:
    with read_session(engine) as session:
        university = find_university(session, UNIVERSITY)
        return university.id, find_competition(session, university.id, name).id


def test_arena_hard_battles_all_imported_and_rated_independently_of_order(
    engine, cli, tmp_path
):
    battles = data_file("arena-hard-battles.jsonl")
    lines = battles.read_text(encoding="utf-8").splitlines(keepends=True)
    random.Random(2024).shuffle(lines)
    shuffled = tmp_path / "arena-hard-battles-shuffled.jsonl"
    shuffled.write_text("".join(lines), encoding="utf-8")

    report = import_file(cli, battles, "Arena-Hard", "head_to_head")
    again = import_file(cli, shuffled, "Arena-Hard shuffled", "head_to_head")

    assert report["records read"] == 1348
    assert report["matches written"] == 1348
    assert report["ties"] == 23
    # Rows repeat on purpose in this data set: repeated records are kept.
    assert report["duplicates (kept)"] == 995
    assert report["agents created"] == 4
    assert again["agents created"] == 0
    assert again["matches written"] == 1348

    university_id, original_id = competition_id(engine, "Arena-Hard")
    _, shuffled_id = competition_id(engine, "Arena-Hard shuffled")
    with read_session(engine) as session:
        first = leaderboard(session, university_id, competition_id=original_id)
        second = leaderboard(session, university_id, competition_id=shuffled_id)

    first, second = first.set_index("agent"), second.set_index("agent")
    assert sorted(first.index) == sorted(second.index)
    for column in ("rating", "rating_lower", "rating_upper"):
        difference = (first[column] - second.loc[first.index, column]).abs()
        assert difference.max() < 1e-9, column
    assert (first["rank"] == second.loc[first.index, "rank"]).all()
    assert first["matches"].sum() == 2 * 1348
    assert first["draws"].sum() == 2 * 23
    # The battles' verdicts: gpt-4o and claude-3.5-sonnet cannot be told
    # apart and share the top rank; claude-3-haiku is last.
    assert (
        first.loc["gpt-4o", "rank"] == first.loc["claude-3-5-sonnet-20240620", "rank"]
    )
    assert first["rating"].idxmin() == "claude-3-haiku-20240307"


def test_arena_hard_intervals_are_the_same_in_two_universities_and_on_either_engine(
    engine, cli
):
    # The fault: the bootstrap was seeded and ordered by the agents' random
    # ids, so the same file gave other "fixed seed" intervals in another
    # university, and SQLite and PostgreSQL differed too.
    battles = data_file("arena-hard-battles.jsonl")
    code, output = cli("university", "create", "Second U", "--owner", "b@example.org")
    assert code == 0, output
    import_file(cli, battles, "Arena-Hard", "head_to_head")
    code, output = cli(
        *("import-results", str(battles), "--university", "Second U"),
        *("--competition", "Arena-Hard", "--type", "head_to_head"),
    )
    assert code == 0, output

    with read_session(engine) as session:
        boards = [
            leaderboard(session, find_university(session, name).id)
            .set_index("agent")
            .sort_index()
            for name in (UNIVERSITY, "Second U")
        ]
    # What the file alone gives, without any database: the same on SQLite
    # and on PostgreSQL, since both runs of this test compare with it.
    sides = {"model_a": 0, "model_b": 1}
    counts: dict[tuple[str, str], list[int]] = {}
    for line in battles.read_text(encoding="utf-8").splitlines():
        battle = json.loads(line)
        cell = counts.setdefault((battle["model_a"], battle["model_b"]), [0, 0, 0])
        cell[sides.get(battle["winner"], 2)] += 1
    from_file = bootstrap_intervals(
        pd.DataFrame(
            [(a, b, *cell) for (a, b), cell in counts.items()],
            columns=["agent_a", "agent_b", "wins_a", "wins_b", "ties"],
        ),
        rounds=BOOTSTRAP_ROUNDS,
    ).set_index("agent")

    columns = ["rating", "rating_lower", "rating_upper", "rank"]
    pd.testing.assert_frame_equal(boards[0][columns], boards[1][columns])
    for column in ("rating_lower", "rating_upper"):
        pd.testing.assert_series_equal(
            boards[0][column], from_file.loc[boards[0].index, column]
        )


def test_alpacaeval_average_scores_equal_the_published_win_rates(engine, cli):
    scores = data_file("alpacaeval2-per-instruction-scores.csv")
    published = {}
    with open(
        data_file("alpacaeval2-leaderboard.csv"), encoding="utf-8", newline=""
    ) as handle:
        for row in csv.DictReader(handle):
            published[row[""]] = float(row["win_rate"]) / 100

    report = import_file(cli, scores, "AlpacaEval 2.0", "solo")

    university_id, alpaca_id = competition_id(engine, "AlpacaEval 2.0")
    with read_session(engine) as session:
        standings = compute_standings(session, alpaca_id).set_index("agent")
        board = leaderboard(session, university_id, competition_id=alpaca_id)

    assert report["matches written"] == 805 * 3 + 803
    assert sorted(standings["matches"]) == [803, 805, 805, 805]
    for agent, row in standings.iterrows():
        assert row["average_score"] == pytest.approx(published[agent], abs=5e-5)
    # The leaderboard agrees and, without pairwise matches, rates nobody.
    averages = board.set_index("agent")["average_score"]
    for agent, value in averages.items():
        assert value == pytest.approx(published[agent], abs=5e-5)
    assert board["rating"].isna().all()
    assert list(board["rank"]) == [1, 2, 3, 4]


def test_laliga_season_standings_equal_the_published_points(engine, cli, tmp_path):
    season = json.loads(
        data_file("laliga-2019-20-matches.json").read_text(encoding="utf-8")
    )
    final = json.loads(
        data_file("laliga-2019-20-final-points.json").read_text(encoding="utf-8")
    )
    flattened = tmp_path / "laliga-2019-20.jsonl"
    with open(flattened, "w", encoding="utf-8") as out:
        for match in season["matches"]:
            home, away = match["score"]["ft"]
            record = {
                "agent_a": match["team1"],
                "agent_b": match["team2"],
                "score_a": home,
                "score_b": away,
                "round": match["round"],
                "played_at": match["date"],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

    report = import_file(cli, flattened, "La Liga 2019/20", "head_to_head")

    _, league_id = competition_id(engine, "La Liga 2019/20")
    with read_session(engine) as session:
        standings = compute_standings(session, league_id).set_index("agent")

    assert report["matches written"] == 380
    assert report["agents created"] == 20
    expected = {club["id"]: club["rating"] for club in final["clubs"]}
    assert {club: int(points) for club, points in standings["points"].items()} == (
        expected
    )
    assert standings["matches"].eq(38).all()
