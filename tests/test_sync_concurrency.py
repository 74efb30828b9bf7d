"""Concurrency on PostgreSQL: eight devices push while three others pull. Every change is pulled by every
puller exactly once, in rev order: the one change sequence commits in order, so a cursor never skips."""

from __future__ import annotations

import threading

import pytest
from sync_support import mutation, new_id, person_on_caseload, visit_fields

from server import sync
from server.db import database, is_sqlite, write_transaction
from server.models import AppliedMutation, Person, User, Visit
from server.sync.revisions import current_rev

PUSHERS, PULLERS, BATCHES, BATCH_SIZE = 8, 3, 12, 5


# SQLite has one writer at a time; this is about PostgreSQL's concurrent writers.
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_concurrent_pushes_and_pulls_never_skip_or_repeat(app, make_user, coordinator):
    assert not is_sqlite()
    workers = [make_user("peer_worker", name=f"Pusher {i}") for i in range(PUSHERS)]
    reader = make_user("peer_worker", name="Reader")
    people = []
    for w in workers:
        person = person_on_caseload(w)
        with write_transaction():
            person.assign_to(reader)  # the reader's caseload holds every pusher's person
        people.append(person)
    push_devices = [sync.register_device(w, "phone") for w in workers]
    pull_devices = [sync.register_device(reader, f"reader {i}") for i in range(PULLERS)]
    applied: list[tuple[str, int]] = []
    pulled: list[list[tuple[str, str, int]]] = [[] for _ in range(PULLERS)]
    errors: list[BaseException] = []
    pushing_done = threading.Event()
    lock = threading.Lock()

    def pusher(i):
        try:
            user = User.get_by_id(workers[i].id)
            for _ in range(BATCHES):
                batch = [mutation("visit", new_id(), visit_fields(people[i].uuid)) for _ in range(BATCH_SIZE)]
                results = sync.apply_batch(user, push_devices[i], batch)
                assert [r["status"] for r in results] == ["applied"] * BATCH_SIZE
                with lock:
                    applied.extend((m["record_id"], r["rev"]) for m, r in zip(batch, results, strict=True))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            database.close()

    def puller(i):
        try:
            user = User.get_by_id(reader.id)
            cursor = 0
            while True:
                finished = pushing_done.is_set()  # read before pulling: the last round sees every commit
                while True:
                    page = sync.pull_changes(user, pull_devices[i], cursor, 7)
                    revs = [c["rev"] for c in page["changes"]]
                    assert revs == sorted(revs) and all(r > cursor for r in revs)
                    pulled[i].extend((c["entity"], c["record_id"], c["rev"]) for c in page["changes"])
                    cursor = page["cursor"]
                    if not page["more"]:
                        break
                if finished:
                    return
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=pusher, args=(i,)) for i in range(PUSHERS)]
    readers = [threading.Thread(target=puller, args=(i,)) for i in range(PULLERS)]
    for t in readers + threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    pushing_done.set()
    for t in readers:
        t.join(timeout=120)
    assert not errors, errors
    assert len(applied) == PUSHERS * BATCHES * BATCH_SIZE == Visit.select().count()
    assert len({rev for _, rev in applied}) == len(applied)  # one change sequence, no rev shared
    expected = sorted(applied, key=lambda item: item[1])
    for seen in pulled:
        visits = [(rid, rev) for entity, rid, rev in seen if entity == "visit"]
        assert visits == expected  # every change exactly once, in rev order: no gaps, no repeats
        people_seen = [rid for entity, rid, _ in seen if entity == "person"]
        assert sorted(people_seen) == sorted(str(p.uuid) for p in people)
    assert current_rev() >= expected[-1][1]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_the_same_batch_sent_twice_at_once_is_applied_once(app, worker):
    """A phone's retry racing its own first attempt (the answer was slow, the phone gave up and sent again):
    both are checked before either holds the counter, yet each mutation is applied once; every answer is
    `applied` or `duplicate` of it, with the same rev."""
    person = person_on_caseload(worker)
    device = sync.register_device(worker, "phone")
    for round_ in range(5):
        batch = [mutation("visit", new_id(), visit_fields(person.uuid, notes=f"round {round_}")) for _ in range(20)]
        batch.append(mutation("person", person.uuid, {"preferred_contact": f"text, round {round_}"},
                              base_rev=Person.get_by_id(person.id).rev))
        answers: list[list[dict]] = []
        errors: list[BaseException] = []
        start = threading.Barrier(2)

        def send():
            try:
                user = User.get_by_id(worker.id)
                start.wait(timeout=30)
                answers.append(sync.apply_batch(user, device, batch))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                database.close()

        threads = [threading.Thread(target=send) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        first, second = answers
        for a, b in zip(first, second, strict=True):
            assert {a["status"], b["status"]} in ({"applied"}, {"applied", "duplicate"})
            assert a["rev"] == b["rev"]
        assert sum(r["status"] == "applied" for r in first + second) == len(batch)
        ids = [m["record_id"] for m in batch[:-1]]
        assert Visit.select().where(Visit.uuid.in_(ids)).count() == len(ids)
        assert AppliedMutation.select().where(AppliedMutation.mutation_id.in_([m["id"] for m in batch])).count() \
            == len(batch)
