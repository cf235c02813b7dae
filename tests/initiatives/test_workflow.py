"""The records engine: snapshots, the review workflow, and restore."""

from __future__ import annotations

import copy
import datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from initiatives import workflow
from initiatives.models import (
    ChangeEvent,
    FocusArea,
    Initiative,
    Measurement,
    Milestone,
    Partnership,
    Plan,
    PublicationState,
    Revision,
)
from initiatives.snapshots import apply_snapshot, diff, snapshot, snapshot_at
from tests.conftest import AtlasMap
from tests.factories import (
    IndicatorFactory,
    InitiativeFactory,
    MeasurementFactory,
    MilestoneFactory,
    OrganizationFactory,
    PartnershipFactory,
)

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)


def _draft(atlas_map: AtlasMap, editor: User, **fields: object) -> Initiative:
    values = {"jurisdiction": atlas_map.chicago, "title": "Open data portal", "slug": "portal"}
    values.update(fields)
    record = workflow.record_create(model=Initiative, values=values, data={}, actor=editor)
    assert isinstance(record, Initiative)
    return record


def _published(atlas_map: AtlasMap) -> Initiative:
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, title="Wi-Fi for all", slug="wifi"
    )
    MilestoneFactory.create(
        initiative=initiative, title="Pilot", due_date=datetime.date(2026, 6, 1)
    )
    indicator = IndicatorFactory.create(initiative=initiative)
    MeasurementFactory.create(indicator=indicator, measured_on=datetime.date(2025, 1, 1), value=5)
    PartnershipFactory.create(initiative=initiative)
    return initiative


class TestSnapshots:
    def test_round_trip_writes_nothing(self, atlas_map: AtlasMap, chicago_editor: User) -> None:
        initiative = _published(atlas_map)
        rows_before = Initiative.history.count() + Milestone.history.count()
        apply_snapshot(initiative, snapshot(initiative), actor=chicago_editor, reason="same")
        assert Initiative.history.count() + Milestone.history.count() == rows_before

    def test_apply_changes_fields_children_and_m2m(
        self, atlas_map: AtlasMap, chicago_editor: User
    ) -> None:
        initiative = _published(atlas_map)
        area = FocusArea.objects.first()
        assert area is not None
        data = snapshot(initiative)
        data["fields"]["title"] = "Wi-Fi everywhere"
        data["focus_areas"] = [area.pk]
        data["milestones"][0]["due_date"] = "2026-09-01"
        data["milestones"].append(
            {"id": None, "title": "Launch", "due_date": None, "completed_on": None}
        )
        data["indicators"][0]["measurements"].append(
            {"id": None, "measured_on": "2026-01-01", "value": "7.5000", "source_url": ""}
        )
        data["partnerships"] = []

        apply_snapshot(initiative, data, actor=chicago_editor, reason="edited")

        initiative.refresh_from_db()
        assert initiative.title == "Wi-Fi everywhere"
        assert list(initiative.focus_areas.all()) == [area]
        assert sorted(initiative.milestones.values_list("title", flat=True)) == ["Launch", "Pilot"]
        assert initiative.milestones.get(title="Pilot").due_date == datetime.date(2026, 9, 1)
        assert Measurement.objects.filter(indicator__initiative=initiative).count() == 2
        assert not initiative.partnerships.exists()
        deleted = Partnership.history.filter(history_type="-").get()
        assert deleted.history_user == chicago_editor
        assert snapshot(initiative) == {
            **data,
            "milestones": snapshot(initiative)["milestones"],
            "indicators": snapshot(initiative)["indicators"],
        }

    def test_an_invalid_child_writes_nothing(
        self, atlas_map: AtlasMap, chicago_editor: User
    ) -> None:
        initiative = _published(atlas_map)
        data = snapshot(initiative)
        data["fields"]["title"] = "Changed"
        data["milestones"].append({"id": None, "title": "", "due_date": None, "completed_on": None})
        with pytest.raises(ValidationError):
            apply_snapshot(initiative, data, actor=chicago_editor, reason="edited")
        initiative.refresh_from_db()
        assert initiative.title == "Wi-Fi for all"
        assert initiative.milestones.count() == 1

    def test_diff_names_fields_and_children(self, atlas_map: AtlasMap) -> None:
        initiative = _published(atlas_map)
        before = snapshot(initiative)
        after = copy.deepcopy(before)
        after["fields"]["title"] = "New title"
        after["milestones"][0]["title"] = "Pilot phase"
        after["partnerships"] = []
        changes = diff(before, after, model=Initiative)
        assert [(c.section, c.field, c.kind) for c in changes] == [
            ("", "title", "changed"),
            ("milestones", "title", "changed"),
            ("partnerships", "", "removed"),
        ]


class TestWorkflow:
    def test_draft_to_review_to_published(
        self, atlas_map: AtlasMap, chicago_editor: User, chicago_reviewer: User
    ) -> None:
        record = _draft(atlas_map, chicago_editor)
        assert record.publication_state == PublicationState.DRAFT
        workflow.record_submit(record=record, actor=chicago_editor)
        record.refresh_from_db()
        assert record.publication_state == PublicationState.REVIEW

        workflow.record_return(record=record, actor=chicago_reviewer, note="Add a source.")
        record.refresh_from_db()
        assert record.publication_state == PublicationState.DRAFT
        assert record.review_note == "Add a source."

        workflow.record_submit(record=record, actor=chicago_editor)
        workflow.record_publish(record=record, actor=chicago_reviewer)
        record.refresh_from_db()
        assert record.publication_state == PublicationState.PUBLISHED
        assert record.published_at is not None
        assert record.review_note == ""
        event = ChangeEvent.objects.get()
        assert event.kind == ChangeEvent.Kind.INITIATIVE_PUBLISHED
        assert event.initiative == record

    def test_editors_cannot_publish_and_reviewers_cannot_edit(
        self, atlas_map: AtlasMap, chicago_editor: User, chicago_reviewer: User
    ) -> None:
        record = _draft(atlas_map, chicago_editor)
        workflow.record_submit(record=record, actor=chicago_editor)
        with pytest.raises(PermissionDenied):
            workflow.record_publish(record=record, actor=chicago_editor)
        with pytest.raises(PermissionDenied):
            workflow.record_save_changes(record=record, data={}, actor=chicago_reviewer)

    def test_other_jurisdictions_are_refused(
        self, atlas_map: AtlasMap, chicago_editor: User, nyc_editor: User
    ) -> None:
        record = _draft(atlas_map, chicago_editor)
        with pytest.raises(PermissionDenied):
            workflow.record_submit(record=record, actor=nyc_editor)

    def test_returning_needs_a_note(
        self, atlas_map: AtlasMap, chicago_editor: User, chicago_reviewer: User
    ) -> None:
        record = _draft(atlas_map, chicago_editor)
        workflow.record_submit(record=record, actor=chicago_editor)
        with pytest.raises(ValidationError) as caught:
            workflow.record_return(record=record, actor=chicago_reviewer, note="  ")
        assert "note" in caught.value.message_dict

    def test_published_changes_wait_in_a_revision(
        self, atlas_map: AtlasMap, chicago_editor: User, chicago_reviewer: User
    ) -> None:
        initiative = _published(atlas_map)
        data = snapshot(initiative)
        data["fields"]["title"] = "Wi-Fi everywhere"
        data["fields"]["status"] = Initiative.Status.COMPLETED
        data["milestones"][0]["completed_on"] = "2026-02-01"

        revision = workflow.record_save_changes(record=initiative, data=data, actor=chicago_editor)

        assert isinstance(revision, Revision)
        initiative.refresh_from_db()
        assert initiative.title == "Wi-Fi for all"
        assert workflow.working_snapshot(initiative)["fields"]["title"] == "Wi-Fi everywhere"
        with pytest.raises(ValidationError):
            workflow.record_publish(record=initiative, actor=chicago_reviewer)

        workflow.record_submit(record=initiative, actor=chicago_editor)
        workflow.record_publish(record=initiative, actor=chicago_reviewer)

        initiative.refresh_from_db()
        assert initiative.title == "Wi-Fi everywhere"
        assert initiative.milestones.get().completed_on == datetime.date(2026, 2, 1)
        revision.refresh_from_db()
        assert revision.state == Revision.State.PUBLISHED
        assert revision.decided_by == chicago_reviewer
        assert workflow.open_revision(initiative) is None
        kinds = set(ChangeEvent.objects.values_list("kind", flat=True))
        assert kinds == {
            ChangeEvent.Kind.INITIATIVE_UPDATED,
            ChangeEvent.Kind.STATUS_CHANGED,
            ChangeEvent.Kind.MILESTONE_COMPLETED,
        }

    def test_a_second_edit_updates_the_open_revision(
        self, atlas_map: AtlasMap, chicago_editor: User
    ) -> None:
        initiative = _published(atlas_map)
        data = snapshot(initiative)
        data["fields"]["title"] = "First"
        workflow.record_save_changes(record=initiative, data=data, actor=chicago_editor)
        data["fields"]["title"] = "Second"
        workflow.record_save_changes(record=initiative, data=data, actor=chicago_editor)
        assert Revision.objects.get().data["fields"]["title"] == "Second"

    def test_discarding_leaves_the_record(self, atlas_map: AtlasMap, chicago_editor: User) -> None:
        initiative = _published(atlas_map)
        data = snapshot(initiative)
        data["fields"]["title"] = "Nope"
        revision = workflow.record_save_changes(record=initiative, data=data, actor=chicago_editor)
        assert isinstance(revision, Revision)
        workflow.revision_discard(revision=revision, actor=chicago_editor)
        assert workflow.open_revision(initiative) is None
        initiative.refresh_from_db()
        assert initiative.title == "Wi-Fi for all"

    def test_archived_records_come_back_as_drafts(
        self, atlas_map: AtlasMap, chicago_editor: User
    ) -> None:
        from initiatives.services import initiative_archive

        initiative = _published(atlas_map)
        initiative_archive(initiative=initiative, actor=chicago_editor)
        with pytest.raises(ValidationError):
            workflow.record_save_changes(
                record=initiative, data=snapshot(initiative), actor=chicago_editor
            )
        workflow.record_unarchive(record=initiative, actor=chicago_editor)
        initiative.refresh_from_db()
        assert initiative.publication_state == PublicationState.DRAFT

    def test_plans_follow_the_same_steps(self, atlas_map: AtlasMap, chicago_chair: User) -> None:
        plan = workflow.record_create(
            model=Plan,
            values={"jurisdiction": atlas_map.chicago, "title": "Road map", "slug": "road-map"},
            data={},
            actor=chicago_chair,
        )
        workflow.record_submit(record=plan, actor=chicago_chair)
        workflow.record_publish(record=plan, actor=chicago_chair)
        plan.refresh_from_db()
        assert plan.publication_state == PublicationState.PUBLISHED
        data = snapshot(plan)
        data["fields"]["summary"] = "Ten years of digital services."
        workflow.record_save_changes(record=plan, data=data, actor=chicago_chair)
        workflow.record_submit(record=plan, actor=chicago_chair)
        workflow.record_publish(record=plan, actor=chicago_chair)
        plan.refresh_from_db()
        assert plan.summary == "Ten years of digital services."
        assert ChangeEvent.objects.filter(kind=ChangeEvent.Kind.PLAN_UPDATED).count() == 1


class TestRestore:
    def test_restore_brings_back_fields_children_and_old_ids(
        self, atlas_map: AtlasMap, chicago_editor: User, chicago_reviewer: User
    ) -> None:
        with time_machine.travel(T0, tick=False):
            initiative = _published(atlas_map)
            milestone = initiative.milestones.get()
            partner = OrganizationFactory.create()
            Partnership.objects.all().delete()
            PartnershipFactory.create(initiative=initiative, organization=partner)
        history_rows = Initiative.history.count() + Milestone.history.count()

        with time_machine.travel(T0 + datetime.timedelta(days=1), tick=False):
            data = snapshot(initiative)
            data["fields"]["title"] = "Renamed"
            data["fields"]["status"] = Initiative.Status.COMPLETED
            data["milestones"] = []
            data["partnerships"] = []
            apply_snapshot(initiative, data, actor=chicago_editor, reason="edited")

        with time_machine.travel(T0 + datetime.timedelta(days=2), tick=False):
            workflow.record_restore(record=initiative, when=T0, actor=chicago_reviewer)

        initiative.refresh_from_db()
        assert initiative.title == "Wi-Fi for all"
        # Completed is final in the lifecycle, but a restore may undo a wrong step.
        assert initiative.status == Initiative.Status.ACTIVE
        restored = initiative.milestones.get()
        assert restored.pk == milestone.pk
        assert list(initiative.partnerships.values_list("organization", flat=True)) == [partner.pk]
        # Nothing of the history is gone: the restore only added rows.
        assert Initiative.history.count() + Milestone.history.count() > history_rows
        latest = initiative.history.first()
        assert latest is not None
        assert latest.history_user == chicago_reviewer
        assert latest.history_change_reason.startswith("restored")
        assert snapshot_at(initiative, T0)["fields"]["title"] == "Wi-Fi for all"

    def test_restoring_a_published_record_takes_a_reviewer(
        self, atlas_map: AtlasMap, chicago_editor: User
    ) -> None:
        initiative = _published(atlas_map)
        with pytest.raises(PermissionDenied):
            workflow.record_restore(record=initiative, when=timezone.now(), actor=chicago_editor)

    def test_a_moment_before_the_record_existed_is_refused(
        self, atlas_map: AtlasMap, chicago_reviewer: User
    ) -> None:
        with time_machine.travel(T0, tick=False):
            initiative = _published(atlas_map)
        with pytest.raises(ValidationError):
            workflow.record_restore(
                record=initiative,
                when=T0 - datetime.timedelta(days=1),
                actor=chicago_reviewer,
            )


@pytest.mark.django_db
def test_saving_a_published_record_unchanged_opens_no_revision(
    atlas_map: AtlasMap, chicago_editor: User
) -> None:
    initiative = _published(atlas_map)
    result = workflow.record_save_changes(
        record=initiative, data=snapshot(initiative), actor=chicago_editor
    )
    assert result == initiative
    assert not Revision.objects.exists()


@pytest.mark.django_db
def test_archiving_discards_waiting_changes(atlas_map: AtlasMap, chicago_editor: User) -> None:
    from initiatives.services import initiative_archive

    initiative = _published(atlas_map)
    data = snapshot(initiative)
    data["fields"]["title"] = "Waiting"
    revision = workflow.record_save_changes(record=initiative, data=data, actor=chicago_editor)
    assert isinstance(revision, Revision)
    initiative_archive(initiative=initiative, actor=chicago_editor)
    revision.refresh_from_db()
    assert revision.state == Revision.State.DISCARDED
    assert workflow.open_revision(initiative) is None


@pytest.mark.django_db
class TestNothingUnseenIsPublished:
    def test_editing_a_record_in_review_sends_it_back_to_draft(
        self, atlas_map: AtlasMap, chicago_editor: User, chicago_reviewer: User
    ) -> None:
        record = _draft(atlas_map, chicago_editor)
        workflow.record_submit(record=record, actor=chicago_editor)
        record.refresh_from_db()
        data = snapshot(record)
        data["fields"]["title"] = "Swapped after submission"
        workflow.record_save_changes(record=record, data=data, actor=chicago_editor)
        record.refresh_from_db()
        assert record.publication_state == PublicationState.DRAFT
        with pytest.raises(ValidationError):
            workflow.record_publish(record=record, actor=chicago_reviewer)

    def test_editing_a_revision_in_review_sends_it_back_to_draft(
        self, atlas_map: AtlasMap, chicago_editor: User, chicago_reviewer: User
    ) -> None:
        initiative = _published(atlas_map)
        data = snapshot(initiative)
        data["fields"]["title"] = "Benign"
        workflow.record_save_changes(record=initiative, data=data, actor=chicago_editor)
        workflow.record_submit(record=initiative, actor=chicago_editor)
        data["fields"]["title"] = "Swapped"
        revision = workflow.record_save_changes(record=initiative, data=data, actor=chicago_editor)
        assert isinstance(revision, Revision)
        assert revision.state == Revision.State.DRAFT
        with pytest.raises(ValidationError):
            workflow.record_publish(record=initiative, actor=chicago_reviewer)

    def test_a_stale_page_cannot_publish_or_overwrite(
        self, atlas_map: AtlasMap, chicago_editor: User, chicago_reviewer: User
    ) -> None:
        initiative = _published(atlas_map)
        data = snapshot(initiative)
        data["fields"]["title"] = "Seen by the reviewer"
        workflow.record_save_changes(record=initiative, data=data, actor=chicago_editor)
        workflow.record_submit(record=initiative, actor=chicago_editor)
        seen = workflow.edit_version(initiative)

        # The editor changes and resubmits while the reviewer's page is open.
        data["fields"]["title"] = "Not seen by the reviewer"
        workflow.record_save_changes(
            record=initiative, data=data, actor=chicago_editor, version=seen
        )
        workflow.record_submit(record=initiative, actor=chicago_editor)

        with pytest.raises(ValidationError) as caught:
            workflow.record_publish(record=initiative, actor=chicago_reviewer, version=seen)
        assert caught.value.code == "stale"
        with pytest.raises(ValidationError):
            workflow.record_save_changes(
                record=initiative, data=data, actor=chicago_editor, version=seen
            )
        workflow.record_publish(
            record=initiative,
            actor=chicago_reviewer,
            version=workflow.edit_version(initiative),
        )
        initiative.refresh_from_db()
        assert initiative.title == "Not seen by the reviewer"

    def test_a_restore_waits_for_open_changes(
        self, atlas_map: AtlasMap, chicago_editor: User, chicago_reviewer: User
    ) -> None:
        initiative = _published(atlas_map)
        data = snapshot(initiative)
        data["fields"]["title"] = "Waiting"
        workflow.record_save_changes(record=initiative, data=data, actor=chicago_editor)
        with pytest.raises(ValidationError):
            workflow.record_restore(record=initiative, when=timezone.now(), actor=chicago_reviewer)
