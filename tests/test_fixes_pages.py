"""Faults a user test found on the pages and the CLI, each pinned: results
typed one after another go to the next unplayed match and never default to
a played one, a correction that reopens a played match asks once more and
says what it reopened, refusals name the form's labels, a JSON box refuses
NaN, an empty rejection reason is refused before the confirmation, the
import explains its words, ``university list`` shows the ids that dashboard
links need, Disqualify asks once more, the status actions start at the
left, seeds are promised only when stored, tables are headed in words with
a dash for a missing value, names read as typed in every heading, counts
of one are singular, a form drawn before another session's save is refused
and redrawn, and a click another session made stale says nothing changed."""

from __future__ import annotations

import json

from sqlalchemy import select, update

from tests import test_pages_act
from tests.test_pages_act import (
    count,
    field,
    make_agents,
    make_competition,
    make_proposals,
    make_university,
    match_box,
    open_page,
    open_proposals,
    statuses,
    submit_schedule,
    texts,
)
from tests.test_pages_watch import tick_rows
from tests.test_queries import build_scene
from university_models import cli, ui
from university_models.db import read_session, transaction
from university_models.models import (
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    TrainingDataCollection,
    University,
    UniversityAgent,
)
from university_models.services import competitions, curriculum

# The Act pages' fixtures: the app pointed at the test's database.
configured = test_pages_act.configured
sqlite_configured = test_pages_act.sqlite_configured


def submit_result(app, competition_id: str, first: float, second: float):
    app.number_input(key=field(app, "result_score1")).set_value(first)
    app.number_input(key=field(app, "result_score2")).set_value(second)
    app.button(
        key=f"FormSubmitter:record_result_{competition_id}-Record result"
    ).click()
    return app.run()


def scores_by_match(engine) -> dict[int, tuple[float | None, float | None]]:
    with read_session(engine) as session:
        rows = session.execute(
            select(
                CompetitionMatch.match_number,
                CompetitionMatch.participant1_score,
                CompetitionMatch.participant2_score,
            )
        ).all()
    return {number: (one, two) for number, one, two in rows}


def test_results_typed_one_after_another_go_to_the_next_unplayed_match(
    configured,
):
    university_id = make_university(configured)
    agent_ids = make_agents(configured, university_id, "Farah", "Bob", "Cyd")
    competition_id = make_competition(configured, university_id, agent_ids, start=True)
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()
    with read_session(configured) as session:
        matches = {
            m.match_number: m.id for m in session.scalars(select(CompetitionMatch))
        }
    assert match_box(app).value == matches[1]

    submit_result(app, competition_id, 5.0, 4.0)

    assert not app.exception
    message = texts(app.success)
    assert message.startswith("Result of match #1 (")
    assert "recorded: 5 – 4, " in message and message.endswith(" wins.")
    assert "correct the result" not in message
    # The picker moved on and the scores are empty for the next entry.
    assert match_box(app).value == matches[2]
    assert app.number_input(key=field(app, "result_score1")).value is None
    assert app.number_input(key=field(app, "result_score2")).value is None

    submit_result(app, competition_id, 1.0, 1.0)

    assert not app.exception
    assert "Result of match #2" in texts(app.success)
    assert "a draw" in texts(app.success)
    assert scores_by_match(configured) == {1: (5.0, 4.0), 2: (1.0, 1.0), 3: (None,) * 2}
    assert match_box(app).value == matches[3]


def test_a_played_match_is_corrected_only_when_chosen(sqlite_configured):
    university_id = make_university(sqlite_configured)
    agent_ids = make_agents(sqlite_configured, university_id, "Ada", "Bob", "Cyd")
    competition_id = make_competition(
        sqlite_configured, university_id, agent_ids, start=True
    )
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()
    submit_result(app, competition_id, 3.0, 1.0)
    with read_session(sqlite_configured) as session:
        first = session.scalars(
            select(CompetitionMatch.id).where(CompetitionMatch.match_number == 1)
        ).one()

    match_box(app).set_value(first)
    submit_result(app, competition_id, 0.0, 2.0)

    assert not app.exception
    assert "Result of match #1" in texts(app.success)
    assert scores_by_match(sqlite_configured)[1] == (0.0, 2.0)
    assert scores_by_match(sqlite_configured)[2] == (None, None)


def test_a_result_without_scores_is_refused_naming_the_empty_field(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    agent_ids = make_agents(sqlite_configured, university_id, "Ada", "Bob")
    competition_id = make_competition(
        sqlite_configured, university_id, agent_ids, start=True
    )
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()
    app.number_input(key=field(app, "result_score1")).set_value(2.0)
    app.button(
        key=f"FormSubmitter:record_result_{competition_id}-Record result"
    ).click()
    app.run()

    assert not app.exception
    assert "fill in Score of the second side" in texts(app.error)
    assert scores_by_match(sqlite_configured) == {1: (None, None)}


def test_completing_with_unplayed_matches_names_the_cancel_checkbox(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    agent_ids = make_agents(sqlite_configured, university_id, "Ada", "Bob")
    competition_id = make_competition(
        sqlite_configured, university_id, agent_ids, start=True
    )
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()
    app.button(key="competition_complete").click().run()

    assert not app.exception
    assert 'tick "Cancel unplayed matches"' in texts(app.error)
    assert "force" not in texts(app.error)
    with read_session(sqlite_configured) as session:
        assert session.get(Competition, competition_id).status == "active"


def test_a_full_competition_offers_the_observer_choice_it_names(sqlite_configured):
    university_id = make_university(sqlite_configured)
    ada, bob = make_agents(sqlite_configured, university_id, "Ada", "Bob")
    competition_id = make_competition(sqlite_configured, university_id, [ada])
    with transaction(sqlite_configured) as session:
        session.get(Competition, competition_id).max_participants = 1
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()
    app.selectbox(key="participant_agent").set_value(bob)
    form = f"FormSubmitter:add_participant_{competition_id}-Add participant"
    app.button(key=form).click().run()

    assert not app.exception
    assert 'choose "observer" under "Takes part as"' in texts(app.error)
    assert "max_participants" not in texts(app.error)
    assert count(sqlite_configured, CompetitionParticipant) == 1

    app.selectbox(key="participant_type").set_value("observer")
    app.button(key=form).click().run()

    assert not app.exception
    with read_session(sqlite_configured) as session:
        roles = {
            p.agent_id: p.participant_type
            for p in session.scalars(select(CompetitionParticipant))
        }
    assert roles == {ada: "competitor", bob: "observer"}


def test_scheduling_past_the_maximum_names_the_form_fields(sqlite_configured):
    university_id = make_university(sqlite_configured)
    ada, bob = make_agents(sqlite_configured, university_id, "Ada", "Bob")
    app = open_page("competitions")
    app.text_input(key=field(app, "competition_name")).input("Full")
    app.number_input(key="competition_max_participants").set_value(1)
    app.multiselect(key=field(app, "competition_participants")).select(ada).select(bob)
    app.button(key="FormSubmitter:schedule_competition-Schedule competition").click()
    app.run()

    assert not app.exception
    assert "raise Maximum participants or pick fewer participants" in texts(app.error)
    assert count(sqlite_configured, Competition) == 0


def test_an_agent_configuration_with_nan_is_refused_on_the_page(sqlite_configured):
    make_university(sqlite_configured)
    app = open_page("agents")
    app.text_input(key=field(app, "agent_name")).input("Ada")
    app.text_area(key=field(app, "agent_configuration")).input('{"x": NaN}')
    app.button(key="FormSubmitter:create_agent-Create agent").click()
    app.run()

    assert not app.exception
    assert "Configuration holds NaN" in texts(app.error)
    assert count(sqlite_configured, UniversityAgent) == 0
    assert app.text_area(key=field(app, "agent_configuration")).value == '{"x": NaN}'


def test_bulk_reject_without_a_reason_is_refused_before_the_confirmation(
    sqlite_configured,
):
    with transaction(sqlite_configured) as session:
        scene = build_scene(session, "Lyceum")
    with read_session(sqlite_configured) as session:
        before = sorted(
            session.scalars(select(TrainingDataCollection.validation_status))
        )
    app = open_page("training_data", university=scene.university_id)
    app.radio(key="queue_action").set_value("reject").run()
    app.text_input(key="queue_reason").input("   ").run()
    app.button(key="queue_review").click().run()

    assert not app.exception
    assert "To reject records, give a reason." in texts(app.error)
    assert not [b for b in app.button if b.key == "queue_confirm"]
    assert not any("Confirm to go ahead" in w.value for w in app.warning)
    with read_session(sqlite_configured) as session:
        after = sorted(
            session.scalars(select(TrainingDataCollection.validation_status))
        )
    assert after == before


def test_the_import_explains_winner_sides_and_repeated_records(sqlite_configured):
    make_university(sqlite_configured)
    app = open_page("competitions")
    caption = texts(app.caption)
    assert "names a side, not an agent" in caption
    assert "`score_a` and `score_b` may be given instead" in caption

    battles = b"agent_a,agent_b,winner\nx,y,agent_a\nx,y,agent_a\nx,y,tie\n"
    app.file_uploader(key="import_file").upload("battles.csv", battles, "text/csv")
    app.run()
    app.text_input(key="import_name").input("Repeats")
    app.selectbox(key="import_type").set_value("head_to_head")
    next(b for b in app.button if b.label == "Import").click()
    app.run()

    assert not app.exception
    message = texts(app.success)
    assert "3 records read" in message
    assert "1 repeated record (kept as real data)" in message
    assert "1 tie" in message
    assert count(sqlite_configured, CompetitionMatch) == 3


def test_university_list_shows_the_id_dashboard_links_need(configured, capsys):
    university_id = make_university(configured, name="Athena")

    assert cli.main(["university", "list"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[-1] == "id"
    assert lines[1].split()[0] == "Athena"
    assert lines[1].split()[-1] == university_id


def test_recording_through_the_service_still_moves_the_picker(sqlite_configured):
    """The default follows the database, not the form: a result recorded
    elsewhere also moves the picker on."""
    university_id = make_university(sqlite_configured)
    agent_ids = make_agents(sqlite_configured, university_id, "Ada", "Bob", "Cyd")
    competition_id = make_competition(
        sqlite_configured, university_id, agent_ids, start=True
    )
    with transaction(sqlite_configured) as session:
        first, second = session.scalars(
            select(CompetitionMatch.id).order_by(CompetitionMatch.match_number)
        ).all()[:2]
        competitions.record_match_result(
            session, first, participant1_score=1.0, participant2_score=0.0
        )

    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()

    assert not app.exception
    assert match_box(app).value == second


# -- Disqualify asks once more --------------------------------------------------------


def participant_of(engine, competition_id: str, name: str) -> str:
    with read_session(engine) as session:
        return session.scalars(
            select(CompetitionParticipant.id)
            .join(UniversityAgent)
            .where(
                CompetitionParticipant.competition_id == competition_id,
                UniversityAgent.name == name,
            )
        ).one()


def disqualified(engine) -> list[str]:
    with read_session(engine) as session:
        return list(
            session.scalars(
                select(UniversityAgent.name)
                .join(CompetitionParticipant)
                .where(CompetitionParticipant.status == "disqualified")
            )
        )


def test_one_click_on_disqualify_writes_nothing_and_names_the_competitor(
    configured,
):
    university_id = make_university(configured)
    agent_ids = make_agents(configured, university_id, "Ada", "Bob", "Cyd")
    competition_id = make_competition(configured, university_id, agent_ids, start=True)
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()
    app.selectbox(key="participant_disqualify_choice").set_value(
        participant_of(configured, competition_id, "Bob")
    ).run()

    app.button(key="participant_disqualify").click().run()

    assert not app.exception
    question = texts(app.warning)
    assert "Disqualify Bob from Cup?" in question
    assert "results so far stand" in question
    assert "forfeited to its opponents" in question
    assert disqualified(configured) == []

    app.button(key="participant_disqualify_confirm").click().run()

    assert not app.exception
    assert "Bob disqualified from Cup." in texts(app.success)
    assert disqualified(configured) == ["Bob"]


def test_a_pending_disqualification_is_dropped_by_another_choice_or_keep(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    agent_ids = make_agents(sqlite_configured, university_id, "Ada", "Bob", "Cyd")
    competition_id = make_competition(
        sqlite_configured, university_id, agent_ids, start=True
    )
    other_id = make_competition(
        sqlite_configured, university_id, agent_ids, name="Other"
    )
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()
    app.button(key="participant_disqualify").click().run()
    assert "Disqualify Ada" in texts(app.warning)

    # Another competitor: the question about Ada is gone, not moved to Bob.
    app.selectbox(key="participant_disqualify_choice").set_value(
        participant_of(sqlite_configured, competition_id, "Bob")
    ).run()
    assert not app.warning
    assert not [b for b in app.button if b.key == "participant_disqualify_confirm"]

    # Another competition and back: gone too.
    app.button(key="participant_disqualify").click().run()
    app.selectbox(key="competition_open").set_value(other_id).run()
    app.selectbox(key="competition_open").set_value(competition_id).run()
    assert not app.warning

    app.button(key="participant_disqualify").click().run()
    app.button(key="participant_disqualify_keep").click().run()

    assert not app.exception
    assert not app.warning
    assert disqualified(sqlite_configured) == []


# -- Status actions start at the left --------------------------------------------------


def row_of_actions(app) -> list[list[str]]:
    """The keys of the widgets in each column of the row that holds the
    Cancel competition button, column by column."""

    def rows(block):
        children = list(block.children.values())
        if children and all(getattr(c, "type", "") == "column" for c in children):
            yield [
                [w.key for w in (*column.button, *column.checkbox)]
                for column in children
            ]
        for child in children:
            if hasattr(child, "children"):
                yield from rows(child)

    return next(
        row
        for row in rows(app.main)
        if any("competition_cancel" in keys for keys in row)
    )


def test_the_status_actions_start_in_the_first_column(sqlite_configured):
    university_id = make_university(sqlite_configured)
    agent_ids = make_agents(sqlite_configured, university_id, "Ada", "Bob")
    scheduled = make_competition(sqlite_configured, university_id, agent_ids)
    active = make_competition(
        sqlite_configured, university_id, agent_ids, name="Live", start=True
    )
    app = open_page("competitions")

    app.selectbox(key="competition_open").set_value(scheduled).run()
    assert row_of_actions(app) == [
        ["competition_start"],
        ["competition_cancel"],
        [],
        [],
    ]

    app.selectbox(key="competition_open").set_value(active).run()
    assert not app.exception
    assert row_of_actions(app) == [
        ["competition_complete"],
        ["competition_force"],
        ["competition_cancel"],
        [],
    ]


# -- The schedule form promises seeds only when the box is ticked ---------------------


def seeds_by_name(engine) -> dict[str, int | None]:
    with read_session(engine) as session:
        return dict(
            session.execute(
                select(UniversityAgent.name, CompetitionParticipant.seed_ranking).join(
                    CompetitionParticipant
                )
            ).all()
        )


def test_seeds_are_promised_and_stored_only_when_the_box_is_ticked(configured):
    university_id = make_university(configured)
    ada, bob = make_agents(configured, university_id, "Ada", "Bob")
    app = open_page("competitions")
    app.selectbox(key="competition_type").set_value("head_to_head").run()
    participants = app.multiselect(key=field(app, "competition_participants"))
    assert "seed" not in participants.label.lower()

    # A round robin does not use seeds: the box starts unticked, none stored.
    assert app.checkbox(key="competition_seeded_head_to_head").value is False
    app.text_input(key=field(app, "competition_name")).input("League")
    participants.select(bob).select(ada)
    submit_schedule(app)
    assert not app.exception
    assert seeds_by_name(configured) == {"Ada": None, "Bob": None}


def test_a_tournament_starts_seeded_in_the_order_picked(sqlite_configured):
    university_id = make_university(sqlite_configured)
    ada, bob = make_agents(sqlite_configured, university_id, "Ada", "Bob")
    app = open_page("competitions")
    app.selectbox(key="competition_type").set_value("tournament").run()

    seeded = app.checkbox(key="competition_seeded_tournament")
    assert seeded.value is True
    assert "the first is seed 1" in seeded.label
    app.text_input(key=field(app, "competition_name")).input("Cup")
    app.multiselect(key=field(app, "competition_participants")).select(bob).select(ada)
    submit_schedule(app)
    assert not app.exception
    assert seeds_by_name(sqlite_configured) == {"Bob": 1, "Ada": 2}


# -- Tables show spaced labels and a dash for a missing value -------------------------


def headers(table) -> list[str]:
    """The column headers a person reads over an ``st.dataframe``."""
    config = json.loads(table.proto.columns)
    return [config.get(name, {}).get("label", name) for name in table.value.columns]


def table_with(app, column: str):
    """The one table on the page that has ``column``."""
    [table] = [t for t in app.dataframe if column in t.value.columns]
    return table


def test_competition_and_profile_tables_show_labels_and_dashes(configured):
    university_id = make_university(configured)
    ada, bob = make_agents(configured, university_id, "Ada", "Bob")
    league = make_competition(configured, university_id, [ada, bob], start=True)
    make_competition(
        configured,
        university_id,
        [ada],
        name="Alone",
        competition_type="solo",
        start=True,
    )
    with transaction(configured) as session:
        for match in session.scalars(select(CompetitionMatch)):
            competitions.record_match_result(
                session,
                match.id,
                participant1_score=2.0,
                participant2_score=None if match.participant2_id is None else 1.0,
            )

    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(league).run()
    assert not app.exception
    participants = table_with(app, "participant_type")
    assert headers(participants) == [
        "agent",
        "takes part as",
        "seed",
        "status",
        "final score",
        "ranking",
    ]
    matches = table_with(app, "participant1_score")
    assert headers(matches) == [
        "match",
        "round",
        "first side",
        "second side",
        "score of the first side",
        "score of the second side",
        "winner",
        "status",
        "completed (UTC)",
        "walkover",
    ]
    for table in (participants, matches):
        assert not [h for h in headers(table) if "_" in h]
        # Display only: the frame keeps its missing values, shown as a dash.
        assert table.proto.placeholder == ui.MISSING

    app = open_page("agents")
    app.selectbox(key="profile_agent").set_value(ada).run()
    assert not app.exception
    record = table_with(app, "own_score")
    assert "own score" in headers(record) and "opponent's score" in headers(record)
    assert not [h for h in headers(record) if "_" in h]
    assert record.proto.placeholder == ui.MISSING
    # The solo match has no opponent: missing in the frame, a dash on screen.
    assert record.value["opponent"].isna().any()

    app = open_page("leaderboard")
    [box] = [box for box in app.selectbox if box.label == "Competition"]
    box.select(league).run()
    assert not app.exception
    standings = table_with(app, "score_for")
    assert {"seed", "score for", "score against", "score difference"} <= set(
        headers(standings)
    )
    assert not [h for h in headers(standings) if "_" in h]
    assert standings.proto.placeholder == ui.MISSING


def test_the_last_import_table_shows_spaced_labels(sqlite_configured):
    make_university(sqlite_configured)
    app = open_page("competitions")
    app.file_uploader(key="import_file").upload(
        "battles.jsonl", test_pages_act.arena_battles(5), "application/json"
    )
    app.run()
    app.text_input(key="import_name").input("Arena sample")
    app.selectbox(key="import_type").set_value("head_to_head")
    next(b for b in app.button if b.label == "Import").click()
    app.run()

    assert not app.exception
    report = table_with(app, "agents_created")
    assert headers(report) == [
        "records",
        "agents created",
        "matches written",
        "duplicates",
        "ties",
        "unscored tasks skipped",
        "seconds",
    ]


def rejected_count(engine, university_id: str) -> int:
    with read_session(engine) as session:
        return len(
            session.scalars(
                select(TrainingDataCollection.id).where(
                    TrainingDataCollection.university_id == university_id,
                    TrainingDataCollection.validation_status == "rejected",
                )
            ).all()
        )


def test_a_bulk_change_the_preview_knows_is_refused_offers_no_confirm(
    sqlite_configured,
):
    with transaction(sqlite_configured) as session:
        scene = build_scene(session, "Lyceum", scale=2)
        # Two rejected records, the user's case (the scene has none).
        session.execute(
            update(TrainingDataCollection)
            .where(TrainingDataCollection.validation_status == "anonymized")
            .values(validation_status="rejected", anonymized=False)
        )
    app = open_page("training_data", university=scene.university_id)
    app.selectbox(key="queue_status").select("rejected").run()
    assert len(app.dataframe[0].value) == 2
    tick_rows(app, [0, 1])
    app.radio(key="queue_action").set_value("anonymize").run()
    app.button(key="queue_review").click().run()

    assert not app.exception
    assert not [b for b in app.button if b.key == "queue_confirm"]
    assert any(
        "2 rejected of them cannot be anonymized" in c.value
        and "until you untick those rows" in c.value
        for c in app.caption
    )

    # Applied to all matching records, the advice is to narrow the filters.
    app.radio(key="queue_scope").set_value("matching").run()
    app.button(key="queue_review").click().run()
    assert not [b for b in app.button if b.key == "queue_confirm"]
    assert any("until you narrow the filters" in c.value for c in app.caption)
    assert rejected_count(sqlite_configured, scene.university_id) == 2


def test_apply_to_without_ticks_is_all_matching_after_a_visit_elsewhere(
    sqlite_configured,
):
    # Streamlit forgot the "Apply to" radio on a run that did not draw it,
    # while the page still remembered "no ticks": back on the page, the radio
    # stood on "the 0 selected rows" and the review asked to select rows.
    with transaction(sqlite_configured) as session:
        scene = build_scene(session, "Lyceum")
    app = open_page("training_data", university=scene.university_id)
    assert app.radio(key="queue_scope").value == "matching"
    app.switch_page("pages/overview.py").run()
    app.switch_page("pages/training_data.py").run()
    app.selectbox(key="queue_status").select("All").run()
    app.radio(key="queue_action").set_value("validate").run()

    assert app.radio(key="queue_scope").value == "matching"
    app.button(key="queue_review").click().run()
    assert not app.exception
    assert not any("Select rows in the table first" in w.value for w in app.warning)
    assert any("validate **3 training records**" in w.value for w in app.warning)


def test_a_bulk_approval_is_dropped_when_a_proposal_is_decided_on_the_page(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    first, _ = make_proposals(sqlite_configured, university_id, "A", "B")
    app = open_proposals(decider="Bob")
    app.button(key="bulk_approve_start").click().run()
    assert "Approve **2** pending proposals as **Bob**?" in texts(app.warning)

    app.text_input(key=f"reject_reason_{first}").input("Duplicate")
    app.button(key=f"reject_{first}").click().run()

    assert not app.exception
    assert "Rejected 'A'." in texts(app.success)
    assert not [b for b in app.button if b.key == "bulk_approve_confirm"]
    assert app.button(key="bulk_approve_start").label == (
        "Approve the 1 pending proposal..."
    )
    app.button(key="bulk_approve_start").click().run()
    assert "Approve **1** pending proposal as **Bob**?" in texts(app.warning)
    app.button(key="bulk_approve_confirm").click().run()
    assert not app.exception
    assert "Approved 1 proposal." in texts(app.success)
    assert statuses(sqlite_configured) == {
        "A": ("rejected", "Bob"),
        "B": ("approved", "Bob"),
    }


def test_a_confirm_made_stale_by_another_session_says_nothing_was_approved(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    first, _ = make_proposals(sqlite_configured, university_id, "A", "B")
    mine = open_proposals(decider="Bob")
    mine.button(key="bulk_approve_start").click().run()
    theirs = open_proposals(decider="Carol")
    theirs.button(key=f"approve_{first}").click().run()
    assert "Approved 'A'." in texts(theirs.success)

    mine.button(key="bulk_approve_confirm").click().run()

    assert not mine.exception
    assert "Nothing was approved: the pending proposals changed" in texts(mine.warning)
    assert statuses(sqlite_configured) == {
        "A": ("approved", "Carol"),
        "B": ("pending", None),
    }


def test_a_click_on_a_proposal_decided_in_another_session_says_nothing_changed(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    (first,) = make_proposals(sqlite_configured, university_id, "A")
    mine = open_proposals(decider="Bob")
    theirs = open_proposals(decider="Carol")
    theirs.button(key=f"approve_{first}").click().run()

    # Bob's page still shows A pending; his click finds it decided.
    mine.button(key=f"approve_{first}").click().run()

    assert not mine.exception
    assert not mine.success
    assert "Nothing changed: 'A' was decided or changed in another session" in (
        texts(mine.warning)
    )
    assert statuses(sqlite_configured) == {"A": ("approved", "Carol")}

    # The notice answers that click only.
    mine.run()
    assert not mine.warning


# -- Names from people read as typed in every heading and sentence --------------------


def test_path_level_competition_and_group_names_are_shown_literally(configured):
    university_id = make_university(configured)
    ada, bob, cat, dan = make_agents(
        configured, university_id, "Ada", "**Bob**", "Cat", "[Dan](x)"
    )
    with transaction(configured) as session:
        path = curriculum.create_path(session, university_id, name="**Core**")
        curriculum.add_level(
            session, path.id, name="# One", challenges=[{"prompt": "Say hello"}]
        )
        curriculum.enrol_agent(session, bob, path.id)
    # Two competitions that never share an agent: two rating groups.
    cup = make_competition(
        configured, university_id, [ada, bob], name="Cup **b**", start=True
    )
    make_competition(configured, university_id, [cat, dan], name="Other", start=True)
    with transaction(configured) as session:
        for match in session.scalars(select(CompetitionMatch)):
            competitions.record_match_result(
                session, match.id, participant1_score=2.0, participant2_score=1.0
            )

    app = open_page("agents")
    app.selectbox(key="profile_agent").set_value(bob).run()
    assert not app.exception
    position = next(m.value for m in app.markdown if m.value.startswith("Path "))
    assert ui.literal("**Core**") in position and ui.literal("# One") in position

    app = open_page("leaderboard")
    assert not app.exception
    [warning] = app.warning
    assert ui.literal("**Bob**") in warning.value
    assert ui.literal("[Dan](x)") in warning.value
    [box] = [box for box in app.selectbox if box.label == "Competition"]
    box.select(cup).run()
    assert not app.exception
    headings = [element.value for element in app.subheader]
    assert f"Standings of {ui.literal('Cup **b**')}" in headings
    assert f"Pairwise win rates in {ui.literal('Cup **b**')}" in headings


# -- Counts and advice read as a person would write them ------------------------------


def test_an_empty_leaderboard_asks_to_widen_filters_only_when_some_are_set(
    sqlite_configured,
):
    make_university(sqlite_configured)

    app = open_page("leaderboard")

    assert not app.exception
    [advice] = app.info
    assert advice.value.startswith("No completed matches yet.")
    assert "widen the filters" not in advice.value

    [box] = [box for box in app.selectbox if box.label == "Agent type"]
    box.select("researcher").run()
    [advice] = app.info
    assert "match these filters" in advice.value
    assert advice.value.endswith("or widen the filters.")


def test_one_row_one_level_and_one_challenge_are_counted_in_the_singular(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    with transaction(sqlite_configured) as session:
        path = curriculum.create_path(session, university_id, name="Basics")
        curriculum.add_level(
            session, path.id, name="One", challenges=[{"prompt": "Say hello"}]
        )

    make_proposals(sqlite_configured, university_id, "Only one")

    app = open_page("curriculum")
    assert not app.exception
    [box] = [box for box in app.selectbox if box.label == "Curriculum path"]
    assert box.options == ["Basics (1 level)"]

    app = open_page("exports")
    app.selectbox(key="export_report").select("proposals").run()
    assert not app.exception
    assert app.button[0].label == "Prepare the CSV of 1 row"


def open_agent_settings(agent_id: str):
    app = open_page("agents")
    return app.selectbox(key="profile_agent").set_value(agent_id).run()


def test_an_agent_form_opened_before_another_save_is_refused_and_redrawn(
    sqlite_configured,
):
    # Two tabs on one agent: B's form still held A's old name and sent it
    # back with its description, undoing A's rename without a word.
    university_id = make_university(sqlite_configured)
    (doc,) = make_agents(sqlite_configured, university_id, "Doc")
    first, second = open_agent_settings(doc), open_agent_settings(doc)

    first.text_input(key=field(first, f"edit_agent_name_{doc}")).input("Doc Scribe")
    test_pages_act.save_agent(first, doc)
    assert "Saved Doc Scribe." in texts(first.success)
    second.text_area(key=field(second, f"edit_agent_description_{doc}")).input(
        "Writes minutes."
    )
    test_pages_act.save_agent(second, doc)

    assert not second.exception
    assert (
        "Agent 'Doc Scribe' was changed by someone else after this form was "
        "opened: its current values are now shown; make your change again."
    ) in texts(second.error)
    assert not texts(second.success)
    with read_session(sqlite_configured) as session:
        agent = session.get(UniversityAgent, doc)
        assert (agent.name, agent.description) == ("Doc Scribe", None)
    # The form now shows the agent as it is, and a save from it goes through.
    assert (
        second.text_input(key=field(second, f"edit_agent_name_{doc}")).value
        == "Doc Scribe"
    )
    assert (
        second.text_area(key=field(second, f"edit_agent_description_{doc}")).value == ""
    )
    second.text_area(key=field(second, f"edit_agent_description_{doc}")).input(
        "Writes minutes."
    )
    test_pages_act.save_agent(second, doc)
    assert "Saved Doc Scribe." in texts(second.success)
    with read_session(sqlite_configured) as session:
        agent = session.get(UniversityAgent, doc)
        assert (agent.name, agent.description) == ("Doc Scribe", "Writes minutes.")


def save_university(app, university_id: str):
    app.button(
        key=f"FormSubmitter:edit_university_{university_id}-Save changes"
    ).click()
    return app.run()


def test_a_university_form_opened_before_another_save_is_refused_and_redrawn(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    first = open_page("universities", university=university_id)
    second = open_page("universities", university=university_id)

    first.number_input(key=field(first, f"edit_max_agents_{university_id}")).set_value(
        7
    )
    save_university(first, university_id)
    assert "Saved the settings of Test U" in texts(first.success)
    second.text_area(key=field(second, f"edit_description_{university_id}")).input(
        "Evening school"
    )
    save_university(second, university_id)

    assert not second.exception
    assert (
        "University 'Test U' was changed by someone else after this form was "
        "opened: its current values are now shown; make your change again."
    ) in texts(second.error)
    with read_session(sqlite_configured) as session:
        university = session.get(University, university_id)
        assert (university.max_agents, university.description) == (7, None)
    assert (
        second.number_input(key=field(second, f"edit_max_agents_{university_id}")).value
        == 7
    )
    second.text_area(key=field(second, f"edit_description_{university_id}")).input(
        "Evening school"
    )
    save_university(second, university_id)
    assert "Saved the settings of Test U" in texts(second.success)
    with read_session(sqlite_configured) as session:
        university = session.get(University, university_id)
        assert (university.max_agents, university.description) == (
            7,
            "Evening school",
        )


def test_saving_an_agent_twice_from_one_form_is_not_a_conflict(sqlite_configured):
    university_id = make_university(sqlite_configured)
    (doc,) = make_agents(sqlite_configured, university_id, "Doc")
    app = open_agent_settings(doc)

    app.text_input(key=field(app, f"edit_agent_name_{doc}")).input(" Doc Scribe ")
    test_pages_act.save_agent(app, doc)
    assert (
        app.text_input(key=field(app, f"edit_agent_name_{doc}")).value == "Doc Scribe"
    )
    app.text_area(key=field(app, f"edit_agent_description_{doc}")).input(
        "Writes minutes."
    )
    test_pages_act.save_agent(app, doc)

    assert not app.error
    assert "Saved Doc Scribe." in texts(app.success)


# -- A correction that reopens a played match asks once more -------------------------


def match_ids(engine) -> dict[int, str]:
    with read_session(engine) as session:
        return {m.match_number: m.id for m in session.scalars(select(CompetitionMatch))}


def statuses_by_match(engine) -> dict[int, str]:
    with read_session(engine) as session:
        return dict(
            session.execute(
                select(CompetitionMatch.match_number, CompetitionMatch.status)
            ).all()
        )


def played_cup(engine) -> tuple[str, dict[int, str]]:
    """A four-agent tournament played out: Ada beat Dara in match #1, Basil
    beat Cyd in match #2, and Ada beat Basil 2 – 1 in the final, match #3."""
    university_id = make_university(engine)
    agent_ids = make_agents(engine, university_id, "Ada", "Basil", "Cyd", "Dara")
    competition_id = make_competition(
        engine, university_id, agent_ids, competition_type="tournament", start=True
    )
    for number in (1, 2, 3):
        with transaction(engine) as session:
            competitions.record_match_result(
                session,
                match_ids(engine)[number],
                participant1_score=2.0,
                participant2_score=1.0,
            )
    return competition_id, match_ids(engine)


def open_competition(competition_id: str):
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()
    return app


def test_the_picker_never_defaults_to_a_played_match(sqlite_configured):
    university_id = make_university(sqlite_configured)
    agent_ids = make_agents(
        sqlite_configured, university_id, "Ada", "Basil", "Cyd", "Dara"
    )
    competition_id = make_competition(
        sqlite_configured,
        university_id,
        agent_ids,
        competition_type="tournament",
        start=True,
    )
    app = open_competition(competition_id)
    # The user trial: match #1, match #2, then the final, one after another.
    submit_result(app, competition_id, 2.0, 1.0)
    submit_result(app, competition_id, 2.0, 1.0)
    matches = match_ids(sqlite_configured)

    # The final is waiting: it comes first, the corrections after it.
    picker = match_box(app)
    assert picker.value == matches[3]
    assert picker.options[0].startswith("match #3 (Ada vs Basil)")
    assert all("(correct the result)" in label for label in picker.options[1:])

    submit_result(app, competition_id, 2.0, 1.0)

    # Every match is played: the picker waits for a choice.
    assert not app.exception
    assert "Result of match #3 (Ada vs Basil) recorded" in texts(app.success)
    assert match_box(app).value is None
    submit_result(app, competition_id, 1.0, 3.0)
    assert "Choose the match whose result to correct." in texts(app.error)
    assert set(statuses_by_match(sqlite_configured).values()) == {"completed"}
    assert scores_by_match(sqlite_configured)[1] == (2.0, 1.0)


def test_a_correction_that_reopens_the_played_final_asks_before_writing(
    sqlite_configured,
):
    competition_id, matches = played_cup(sqlite_configured)
    before = scores_by_match(sqlite_configured)
    app = open_competition(competition_id)

    match_box(app).set_value(matches[1])
    submit_result(app, competition_id, 1.0, 3.0)

    assert not app.exception
    question = texts(app.warning)
    assert "Correcting match #1 (Ada vs Dara) changes its winner" in question
    assert "reopens match #3 (Ada vs Basil, played 2 – 1)" in question
    assert not texts(app.success)
    assert scores_by_match(sqlite_configured) == before

    app.button(key="result_correction_confirm").click().run()

    assert not app.exception
    assert texts(app.success) == (
        "Result of match #1 (Ada vs Dara) corrected: 1 – 3, Dara wins. "
        "Match #3 was reopened and its result 2 – 1 discarded; record it again."
    )
    assert scores_by_match(sqlite_configured) == {
        1: (1.0, 3.0),
        2: (2.0, 1.0),
        3: (None, None),
    }
    assert statuses_by_match(sqlite_configured)[3] == "scheduled"
    assert not [b for b in app.button if b.key == "result_correction_confirm"]
    # The reopened final waits for its result again, and the picker is on it.
    assert match_box(app).value == matches[3]


def test_confirming_a_correction_question_made_stale_elsewhere_writes_nothing(
    sqlite_configured,
):
    competition_id, matches = played_cup(sqlite_configured)
    app = open_competition(competition_id)
    match_box(app).set_value(matches[1])
    submit_result(app, competition_id, 1.0, 3.0)
    assert "reopens match #3 (Ada vs Basil, played 2 – 1)" in texts(app.warning)

    # Someone corrects the final after the question was asked.
    with transaction(sqlite_configured) as session:
        competitions.record_match_result(
            session, matches[3], participant1_score=0.0, participant2_score=2.0
        )
    before = scores_by_match(sqlite_configured)
    app.button(key="result_correction_confirm").click().run()

    assert not app.exception
    assert "would now reopen match 3 (played 0 – 2), not what you confirmed" in (
        texts(app.error)
    )
    assert not texts(app.success)
    assert scores_by_match(sqlite_configured) == before
    assert not [b for b in app.button if b.key == "result_correction_confirm"]


def test_keeping_the_results_at_the_correction_question_writes_nothing(
    sqlite_configured,
):
    competition_id, matches = played_cup(sqlite_configured)
    before = scores_by_match(sqlite_configured)
    app = open_competition(competition_id)
    match_box(app).set_value(matches[1])
    submit_result(app, competition_id, 1.0, 3.0)
    assert "reopens match #3" in texts(app.warning)

    app.button(key="result_correction_keep").click().run()

    assert not app.exception
    assert "reopens match #3" not in texts(app.warning)
    assert not [b for b in app.button if b.key == "result_correction_confirm"]
    assert not texts(app.success)
    assert scores_by_match(sqlite_configured) == before
    assert set(statuses_by_match(sqlite_configured).values()) == {"completed"}


def test_the_correction_question_is_dropped_when_the_scores_change(
    sqlite_configured,
):
    competition_id, matches = played_cup(sqlite_configured)
    app = open_competition(competition_id)
    match_box(app).set_value(matches[1])
    submit_result(app, competition_id, 1.0, 3.0)
    assert "reopens match #3" in texts(app.warning)

    # New scores that keep Ada the winner: nothing to ask, written at once.
    submit_result(app, competition_id, 4.0, 3.0)

    assert not app.exception
    assert "reopens match #3" not in texts(app.warning)
    assert texts(app.success) == (
        "Result of match #1 (Ada vs Dara) corrected: 4 – 3, Ada wins."
    )
    assert scores_by_match(sqlite_configured)[3] == (2.0, 1.0)


def test_the_correction_question_is_dropped_with_another_competition(
    sqlite_configured,
):
    competition_id, matches = played_cup(sqlite_configured)
    app = open_competition(competition_id)
    match_box(app).set_value(matches[1])
    submit_result(app, competition_id, 1.0, 3.0)
    assert "reopens match #3" in texts(app.warning)

    app.selectbox(key="competition_open").set_value(None).run()
    app.selectbox(key="competition_open").set_value(competition_id).run()

    assert not app.exception
    assert "reopens match #3" not in texts(app.warning)
    assert not [b for b in app.button if b.key == "result_correction_confirm"]


def test_corrections_that_discard_nothing_do_not_ask(sqlite_configured):
    competition_id, matches = played_cup(sqlite_configured)
    app = open_competition(competition_id)

    # Ada still beats Dara: the final stands.
    match_box(app).set_value(matches[1])
    submit_result(app, competition_id, 5.0, 0.0)
    assert not app.exception
    assert not [b for b in app.button if b.key == "result_correction_confirm"]
    assert "corrected: 5 – 0, Ada wins." in texts(app.success)

    # The final feeds no later match: its winner may change.
    match_box(app).set_value(matches[3])
    submit_result(app, competition_id, 0.0, 1.0)
    assert not [b for b in app.button if b.key == "result_correction_confirm"]
    assert "corrected: 0 – 1, Basil wins." in texts(app.success)


def test_a_round_robin_correction_that_changes_the_winner_does_not_ask(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    agent_ids = make_agents(sqlite_configured, university_id, "Eve", "Finn", "Gus")
    competition_id = make_competition(
        sqlite_configured, university_id, agent_ids, start=True
    )
    matches = match_ids(sqlite_configured)
    with transaction(sqlite_configured) as session:
        for match_id in matches.values():
            competitions.record_match_result(
                session, match_id, participant1_score=2.0, participant2_score=1.0
            )
    app = open_competition(competition_id)

    match_box(app).set_value(matches[1])
    submit_result(app, competition_id, 0.0, 3.0)

    assert not app.exception
    assert not [b for b in app.button if b.key == "result_correction_confirm"]
    assert "Result of match #1" in texts(app.success)
    assert "corrected: 0 – 3" in texts(app.success)
    assert scores_by_match(sqlite_configured) == {
        1: (0.0, 3.0),
        2: (2.0, 1.0),
        3: (2.0, 1.0),
    }


# -- A result form drawn before the matches changed ----------------------------------


def test_a_result_form_drawn_before_its_match_became_a_walkover_records_nothing(
    configured,
):
    university_id = make_university(configured)
    agent_ids = make_agents(configured, university_id, "Ada", "Basil", "Cyd", "Dara")
    competition_id = make_competition(configured, university_id, agent_ids, start=True)
    app = open_competition(competition_id)
    shown = match_box(app)
    assert shown.options[0].startswith("match #1 (Ada vs Basil)")

    # Meanwhile, in another session, Ada is disqualified: match #1 becomes
    # a walkover and leaves the picker.
    with transaction(configured) as session:
        competitions.disqualify_participant(
            session, participant_of(configured, competition_id, "Ada")
        )
    ui.clear_caches()
    submit_result(app, competition_id, 5.0, 4.0)

    assert not app.exception
    assert "changed since this form was drawn" in texts(app.error)
    # Ada's matches are walkovers (no scores); no other match took the result.
    assert set(scores_by_match(configured).values()) == {(None, None)}


def test_a_result_form_drawn_before_someone_else_recorded_does_not_overwrite_it(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    agent_ids = make_agents(sqlite_configured, university_id, "Ada", "Basil")
    competition_id = make_competition(
        sqlite_configured, university_id, agent_ids, start=True
    )
    app = open_competition(competition_id)
    (match_id,) = match_ids(sqlite_configured).values()

    # Meanwhile, in another session, the match gets its result.
    with transaction(sqlite_configured) as session:
        competitions.record_match_result(
            session, match_id, participant1_score=9.0, participant2_score=1.0
        )
    ui.clear_caches()
    submit_result(app, competition_id, 3.0, 4.0)

    assert "changed since this form was drawn" in texts(app.error)
    assert scores_by_match(sqlite_configured) == {1: (9.0, 1.0)}
    # What was typed stays, and the form now shows the match as played.
    assert app.number_input(key=field(app, "result_score1")).value == 3.0
    picker = match_box(app)
    assert "(correct the result)" in picker.options[0]


def test_a_correction_says_which_later_matches_it_removed_rather_than_reopened(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    names = ["Ada", "Basil", "Cyd", "Dara", "Eve", "Finn", "Gus", "Hal"]
    agent_ids = make_agents(sqlite_configured, university_id, *names)
    competition_id = make_competition(
        sqlite_configured,
        university_id,
        agent_ids,
        competition_type="tournament",
        start=True,
    )
    # The better seed wins every match, round after round, up to the final.
    for number in range(1, 8):
        with transaction(sqlite_configured) as session:
            competitions.record_match_result(
                session,
                match_ids(sqlite_configured)[number],
                participant1_score=2.0,
                participant2_score=1.0,
            )
    app = open_competition(competition_id)

    # Hal (seed 8) beat Ada (seed 1) in round 1 after all.
    match_box(app).set_value(match_ids(sqlite_configured)[1])
    submit_result(app, competition_id, 1.0, 3.0)
    app.button(key="result_correction_confirm").click().run()

    assert not app.exception
    message = texts(app.success)
    assert "Match #5 was reopened and its result 2 – 1 discarded" in message
    assert "Match #7 (2 – 1) was removed; the bracket draws it again" in message
