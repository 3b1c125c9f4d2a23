"""CSV imports are all or nothing, and name every bad row by its line."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.domain.rules import BadInput
from app.services import auth, imports
from tests.conftest import PINS, write_csv

PEOPLE_HEADER = "staff_id,name,site,shielding,assistive_tech"
DEVICE_HEADER = "asset_tag,serial,type,model,os,holder_staff_id,sole_use"
STOCK_HEADER = "asset_tag,serial,type,model,os,unit_cost"


@pytest.fixture
def admin(station):
    return auth.sign_in(station.context, "A1", PINS["A1"])


def counts(station) -> tuple[int, int, int]:
    with station.engine.connect() as conn:
        return tuple(conn.execute(text(f"select count(*) from {t}")).scalar()
                     for t in ("people", "devices", "events"))


def rejected(station, admin, loader, path) -> list[str]:
    before = counts(station)
    with pytest.raises(imports.ImportRejected) as error:
        loader(station.context, admin, path)
    assert counts(station) == before, "a rejected file must import nothing"
    assert "nothing was imported" in error.value.user_message
    return error.value.problems


def test_people_import_reads_booleans_in_every_spelling(station, admin, tmp_path):
    path = write_csv(tmp_path, "p.csv", PEOPLE_HEADER, "P1,A,Hutton HQ,yes,no",
                     "p2,B,Hutton HQ,TRUE,0", "P3,C,Hutton HQ,1,false")
    assert imports.import_people(station.context, admin, path).rows == 3
    with station.engine.connect() as conn:
        rows = conn.execute(text("select staff_id, shielding, assistive_tech from people "
                                 "order by staff_id")).all()
    assert rows == [("P1", 1, 0), ("P2", 1, 0), ("P3", 1, 0)]


def test_every_bad_row_is_named_and_nothing_is_imported(station, admin, tmp_path):
    write = write_csv(tmp_path, "p.csv", PEOPLE_HEADER, "P1,Ann,Hutton HQ,no,no")
    imports.import_people(station.context, admin, write)
    path = write_csv(tmp_path, "d.csv", DEVICE_HEADER,
                     "OLD-0001,S1,laptop,M,Windows 8.1,P1,no",
                     "OLD-0002,S2,phone,M,Windows 8.1,P1,no",
                     "OLD-0001,S3,laptop,M,Windows 8.1,P1,no",
                     "OLD-0004,S4,laptop,M,Windows 8.1,P404,no",
                     "OLD-0005,S5,desktop,M,Windows 8.1,P1,maybe",
                     "12,S6,laptop,M,Windows 8.1,P1,no",
                     "OLD-0007,S7,laptop,M")
    problems = rejected(station, admin, imports.import_devices, path)
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 4", "line 5", "line 6",
                                                    "line 7", "line 8"]
    assert "unknown device type 'phone'" in problems[0]
    assert "duplicate asset_tag OLD-0001" in problems[1]
    assert "holder P404 is not a known person" in problems[2]
    assert "sole_use 'maybe'" in problems[3]
    assert "not an asset tag" in problems[4]
    assert "wrong number of fields" in problems[5]


def test_missing_column_is_reported_on_the_header_line(station, admin, tmp_path):
    path = write_csv(tmp_path, "d.csv", "asset_tag,serial,type,model", "OLD-0001,S,laptop,M")
    problems = rejected(station, admin, imports.import_devices, path)
    assert problems == ["line 1: missing columns os, holder_staff_id, sole_use (expected "
                        "asset_tag,serial,type,model,os,holder_staff_id,sole_use)"]


def test_non_utf8_bytes_are_named_by_line(station, admin, tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(PEOPLE_HEADER.encode() + b"\nP1,Ann,Hutton HQ,no,no\nP2,Ren\xe9e,Hutton HQ,no,no\n")
    assert rejected(station, admin, imports.import_people, path) == [
        "line 3: not UTF-8 text (save the file as CSV UTF-8)"]


def test_stock_already_registered_and_bad_cost_are_refused(station, admin, tmp_path):
    first = write_csv(tmp_path, "s1.csv", STOCK_HEADER, "NEW-0001,S1,laptop,M,Windows 11,899.00")
    imports.import_stock(station.context, admin, first)
    again = write_csv(tmp_path, "s2.csv", STOCK_HEADER, "NEW-0002,S2,laptop,M,Windows 11,",
                      "NEW-0001,S1,laptop,M,Windows 11,899", "NEW-0003,S3,laptop,M,Windows 11,12.345",
                      "NEW-0004,S4,laptop,M,Windows 11,cheap")
    problems = rejected(station, admin, imports.import_stock, again)
    assert problems == ["line 3: asset_tag NEW-0001 is already registered",
                        "line 4: unit_cost '12.345' is not an amount in pounds",
                        "line 5: unit_cost 'cheap' is not an amount in pounds"]


def test_a_header_only_or_missing_file_is_bad_input(station, admin, tmp_path):
    assert rejected(station, admin, imports.import_people,
                    write_csv(tmp_path, "empty.csv", PEOPLE_HEADER)) == [
        "line 2: the file has a header but no rows"]
    with pytest.raises(BadInput, match="cannot read"):
        imports.import_people(station.context, admin, tmp_path / "nope.csv")


def test_import_is_one_event_with_the_file_hash(station, admin, tmp_path):
    path = write_csv(tmp_path, "p.csv", PEOPLE_HEADER, "P1,Ann,Hutton HQ,no,no")
    result = imports.import_people(station.context, admin, path)
    with station.engine.connect() as conn:
        event = conn.execute(text("select type, operator, payload from events order by seq desc"
                                  " limit 1")).one()
    assert event[0] == "people.imported" and event[1] == "A1"
    assert result.sha256 in event[2] and '"P1"' in event[2]
