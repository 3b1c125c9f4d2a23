"""Property tests of the rules: whatever exchanges are tried, in whatever order, the invariants hold.

A generated population (people, the register they hold, stock) and a generated sequence of
counter actions (exchanges that should go through, random ones that mostly should not, courier,
overrides, courier collections, desktop reclamations) are applied to a small in-memory station:
`decide_exchange()` decides, `ExchangeOutcome.changed` is applied to a dict of devices. After
every step:

- a device has a holder exactly when it is issued or on its way by courier; nothing in stock is
  held; a device issued once is never issued again (nothing brings it back to stock);
- courier laptops stay within 25% of all laptops issued (4C <= L, i.e. 3C <= N);
- what went through obeys the rules that cannot be overridden (R2, R5, R7, R8), and every
  overridden rule is recorded as an exception; a refusal changes nothing;
- a courier exchange can always be completed: its new devices wait for an old device that can
  still be collected.

The same actions are also run permuted. One test drives the real service layer on a SQLite file
with the model alongside and checks that both agree, step by step, and that a refusal leaves the
database exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.domain.courier import CourierAllowance
from app.domain.devices import BuildPolicy, Device, DeviceState, DeviceType
from app.domain.exchange import (ACCEPTED_HANDOVERS, ExchangeOutcome, ExchangeRequest, Override,
                                 check_exchange, decide_exchange)
from app.domain.people import Person
from app.domain.rules import BadInput, RuleRefused, StationError
from app.domain.tags import DEFAULT_TAG_PATTERN, AssetTag, clean_scan

SITE = "Hutton HQ"
OTHER_SITE = "Oldham Road"
LEAD = "L1"
REASON = "laptop stolen, crime ref 44/1234/25"
UNKNOWN_TAGS = ("XUNK-0001", "XUNK-0002")
HELD = (DeviceState.ISSUED, DeviceState.COURIER_PENDING)
POLICY = BuildPolicy()

#: RULE_PROPERTY_EXAMPLES=5000 for a deep run; the default keeps the file well under 30 s.
DOMAIN = settings(max_examples=int(os.environ.get("RULE_PROPERTY_EXAMPLES", 100)), deadline=None,
                  suppress_health_check=[HealthCheck.too_slow])


# -- the generated world ---------------------------------------------------------------------

@dataclass(frozen=True)
class Population:
    people: tuple[Person, ...]
    devices: tuple[Device, ...]


@st.composite
def populations(draw, other_sites: bool = True) -> Population:
    people, devices = [], []
    for i in range(draw(st.integers(3, 12))):
        person = Person(f"P{i:03d}", f"Person {i}", SITE, shielding=draw(st.booleans()),
                        assistive_tech=draw(st.integers(0, 4)) == 0)
        people.append(person)
        for kind, chance in ((DeviceType.LAPTOP, 5), (DeviceType.TABLET, 2),
                             (DeviceType.DESKTOP, 3)):
            if draw(st.integers(0, 5)) < chance:
                tag = f"{kind.value[0].upper()}OLD-{i:03d}"
                sole = kind is DeviceType.DESKTOP and draw(st.booleans())
                devices.append(Device(tag, f"SN-{tag}", kind, "old model", "Windows 8.1",
                                      DeviceState.ISSUED, holder=person.staff_id,
                                      sole_use=sole, site=SITE))
    devices.append(Device("DSHARED-01", "SN-DSHARED-01", DeviceType.DESKTOP, "shared", "Windows 10",
                          DeviceState.IN_SERVICE, site=SITE))
    stock_kinds = draw(st.lists(st.sampled_from([DeviceType.LAPTOP] * 4 + [DeviceType.TABLET,
                                                                          DeviceType.DESKTOP]),
                                min_size=4, max_size=24))
    for n, kind in enumerate(stock_kinds):
        os_name = draw(st.sampled_from(["Windows 11"] * 4 + ["Windows 10", "Windows 8.1"]))
        site = OTHER_SITE if other_sites and draw(st.integers(0, 9)) == 0 else SITE
        tag = f"NEW-{n:04d}"
        devices.append(Device(tag, f"SN-{tag}", kind, "new model", os_name,
                              DeviceState.IN_STOCK, site=site))
    return Population(tuple(people), tuple(devices))


# -- counter actions, resolved against the station's state when they are applied ---------------

@dataclass(frozen=True)
class Swap:
    """Hand back a held device and take a stock device of a type it stands for."""

    person: int
    kind: DeviceType
    pick_return: int
    pick_issue: int
    hand_back: bool = True
    courier: bool = False
    at_confirmed: bool = True
    override: bool = False


@dataclass(frozen=True)
class Anything:
    """Any tags at all, handed back and issued: mostly refused."""

    person: int
    returned: tuple[int, ...]
    issued: tuple[int, ...]
    unknown: int = 0
    courier: bool = False
    at_confirmed: bool = False
    override: bool = False


@dataclass(frozen=True)
class Collect:
    pick: int


@dataclass(frozen=True)
class Reclaim:
    pick: int


@dataclass(frozen=True)
class Attempt:
    """An exchange as the engineer scans it: a person, tags back, tags out, options."""

    person: str
    returned: tuple[str, ...]
    issued: tuple[str, ...]
    courier: bool
    at_confirmed: bool
    override: bool


idx = st.integers(0, 50)
swaps = st.builds(Swap, idx, st.sampled_from([DeviceType.LAPTOP] * 4 + [DeviceType.TABLET,
                                                                       DeviceType.DESKTOP]),
                  idx, idx, st.integers(0, 7).map(bool), st.integers(0, 2).map(lambda n: n == 0),
                  st.integers(0, 5).map(bool), st.integers(0, 7).map(lambda n: n == 0))
anything = st.builds(Anything, idx, st.lists(idx, max_size=2).map(tuple),
                     st.lists(idx, max_size=2).map(tuple), st.integers(0, 2), st.booleans(),
                     st.booleans(), st.booleans())
#: Mostly exchanges that should go through, so that sequences get somewhere (courier needs three
#: counter laptops first); the rest random attempts, collections and reclamations.
ACTION_MIX = {"swap": swaps, "anything": anything, "collect": st.builds(Collect, idx),
              "reclaim": st.builds(Reclaim, idx)}
actions = st.sampled_from(["swap"] * 6 + ["anything"] * 2 + ["collect", "reclaim"]).flatmap(
    ACTION_MIX.__getitem__)


@dataclass
class CourierCase:
    """A courier exchange still open: the old devices awaited, the new ones on their way."""

    person: str
    awaiting: list[str]
    issued: tuple[str, ...]


@dataclass
class ModelStation:
    """The station in memory: the rules decide, `ExchangeOutcome.changed` is applied."""

    people: dict[str, Person]
    devices: dict[str, Device]
    cases: list[CourierCase] = field(default_factory=list)
    open_tasks: set[str] = field(default_factory=set)
    allowance: CourierAllowance = field(default_factory=CourierAllowance)
    ever_issued: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, population: Population) -> "ModelStation":
        return cls({p.staff_id: p for p in population.people},
                   {d.tag: d for d in population.devices})

    # resolving actions

    def resolve(self, action) -> Attempt | tuple[str, str]:  # noqa: ANN001 - an action
        staff = sorted(self.people)
        tags = sorted(self.devices)
        if isinstance(action, Collect):
            awaited = sorted(t for case in self.cases for t in case.awaiting)
            return ("collect", pick(awaited, action.pick) or tags[action.pick % len(tags)])
        if isinstance(action, Reclaim):
            return ("reclaim", pick(sorted(self.open_tasks), action.pick)
                    or tags[action.pick % len(tags)])
        person = staff[action.person % len(staff)]
        if isinstance(action, Anything):
            returned = tuple(tags[i % len(tags)] for i in action.returned)
            returned += UNKNOWN_TAGS[:action.unknown]
            issued = tuple(tags[i % len(tags)] for i in action.issued)
            return Attempt(person, returned, issued, action.courier, action.at_confirmed,
                           action.override)
        handed = [d.tag for d in self.holdings(person)
                  if d.state is DeviceState.ISSUED and d.type in ACCEPTED_HANDOVERS[action.kind]]
        stock = [d.tag for d in self.devices.values()
                 if d.state is DeviceState.IN_STOCK and d.type is action.kind]
        back = pick(handed, action.pick_return) if action.hand_back else None
        new = pick(sorted(stock), action.pick_issue)
        return Attempt(person, (back,) if back else (), (new,) if new else (), action.courier,
                       action.at_confirmed, action.override)

    # what the service gathers for the rules

    def holdings(self, staff_id: str) -> list[Device]:
        return sorted((d for d in self.devices.values() if d.holder == staff_id),
                      key=lambda d: d.tag)

    def request(self, attempt: Attempt) -> ExchangeRequest:
        person = self.people[attempt.person]
        returned, unknown = [], []
        for tag in attempt.returned:
            (returned.append(self.devices[tag]) if tag in self.devices else unknown.append(tag))
        missing = [t for t in attempt.issued if t not in self.devices]
        if missing:
            raise BadInput(f"{missing[0]} is not a known device")
        holdings = tuple(self.holdings(person.staff_id))
        return ExchangeRequest(
            person=person, holdings=holdings, returned=tuple(returned),
            issued=tuple(self.devices[t] for t in attempt.issued), site=SITE,
            unknown_returns=tuple(unknown), courier=attempt.courier,
            at_confirmed=attempt.at_confirmed,
            override=Override(REASON, LEAD) if attempt.override else None,
            awaiting_collection=tuple(t for c in self.cases if c.person == person.staff_id
                                      for t in c.awaiting),
            awaited_by_courier=frozenset(t for c in self.cases for t in c.awaiting),
            open_reclamations=frozenset(d.tag for d in holdings if d.tag in self.open_tasks),
            allowance=self.allowance, policy=POLICY)

    # the three counter actions

    def exchange(self, attempt: Attempt) -> ExchangeOutcome | None:
        """Apply the exchange if the rules allow it; None (and no change) if refused."""
        before = self.snapshot()
        try:
            request = self.request(attempt)
            outcome = decide_exchange(request)
        except (RuleRefused, BadInput):
            assert self.snapshot() == before
            return None
        check_decision(request, outcome)
        changed = [d.tag for d in outcome.changed]
        assert len(changed) == len(set(changed)), f"a device changed twice: {changed}"
        for device in outcome.registered:
            assert device.tag not in self.devices
            self.devices[device.tag] = device
        for device in outcome.changed:
            self.devices[device.tag] = device
        for tag in outcome.issued:
            assert tag not in self.ever_issued, f"{tag} issued a second time"
            self.ever_issued.add(tag)
        if outcome.awaiting_collection:
            self.cases.append(CourierCase(attempt.person, list(outcome.awaiting_collection),
                                          outcome.issued))
        if not outcome.courier:  # a desktop handed back at the counter settles its task (R4)
            self.open_tasks -= {d.tag for d in request.returned}
        self.open_tasks |= set(outcome.reclamation_tasks)
        self.allowance = self.allowance.after(outcome.counter_laptops, outcome.courier_laptops)
        return outcome

    def collect(self, tag: str) -> bool:
        """What services.exchanges.collect does; False when the tag is not awaited."""
        case = next((c for c in self.cases if tag in c.awaiting), None)
        if case is None:
            return False
        self.devices[tag] = self.devices[tag].moved_to(DeviceState.RETURNED, None)
        self.open_tasks.discard(tag)  # a desktop collected settles its reclamation task (R4)
        case.awaiting.remove(tag)
        if not case.awaiting:
            self.cases.remove(case)
            for new in case.issued:
                device = self.devices[new]
                if device.state is DeviceState.COURIER_PENDING:
                    self.devices[new] = device.moved_to(DeviceState.ISSUED, device.holder)
        return True

    def reclaim(self, tag: str) -> bool:
        """What services.stock.reclaim does; False when the tag has no open task (R4)."""
        if tag not in self.open_tasks or any(tag in c.awaiting for c in self.cases):
            return False
        self.devices[tag] = self.devices[tag].moved_to(DeviceState.RETURNED, None)
        self.open_tasks.remove(tag)
        return True

    def apply(self, resolved) -> bool:  # noqa: ANN001 - Attempt or (action, tag)
        if isinstance(resolved, Attempt):
            return self.exchange(resolved) is not None
        name, tag = resolved
        return self.collect(tag) if name == "collect" else self.reclaim(tag)

    def snapshot(self) -> tuple:
        return (dict(self.devices), [(c.person, list(c.awaiting), c.issued) for c in self.cases],
                set(self.open_tasks), self.allowance, set(self.ever_issued))

    # the invariants

    def check(self) -> None:
        for d in self.devices.values():
            assert (d.holder is not None) == (d.state in HELD), f"holder and state disagree: {d}"
            if d.holder is not None:
                assert d.holder in self.people, d
        for tag in self.ever_issued:
            assert self.devices[tag].state is not DeviceState.IN_STOCK, tag
        a = self.allowance
        assert 4 * a.courier_laptops <= a.laptops_issued, a
        assert 3 * a.courier_laptops <= a.counter_laptops, a
        awaited = [t for c in self.cases for t in c.awaiting]
        assert len(awaited) == len(set(awaited)), "a device awaited by two courier exchanges"
        for case in self.cases:
            assert case.awaiting, f"courier exchange {case} waits for nothing: it never completes"
            for tag in case.awaiting:
                d = self.devices[tag]
                assert (d.state, d.holder) == (DeviceState.ISSUED, case.person), (
                    f"{tag} awaited from {case.person} but {d.state.value} to {d.holder}")
        pending = {t for t, d in self.devices.items() if d.state is DeviceState.COURIER_PENDING}
        assert pending == {t for c in self.cases for t in c.issued}
        for tag in self.open_tasks:
            d = self.devices[tag]
            assert d.type is DeviceType.DESKTOP and d.state in (DeviceState.ISSUED,
                                                                 DeviceState.LOST), (
                f"open reclamation task for {tag}, which is {d.state.value}: it cannot be reclaimed")


def pick(items: list[str], n: int) -> str | None:
    return items[n % len(items)] if items else None


def check_decision(req: ExchangeRequest, outcome: ExchangeOutcome) -> None:
    """What went through obeys every rule but the overridden R1/R3, recorded as exceptions."""
    broken = {v.code for v in check_exchange(req)}
    assert broken <= {"R1", "R3"}
    assert {e.rule for e in outcome.exceptions} == (broken if req.override else set())
    assert outcome.issued == tuple(d.tag for d in req.issued)
    for d in req.issued:
        assert d.state is DeviceState.IN_STOCK and d.site == req.site          # R2
        assert POLICY.approves(d.os)                                            # R7
    if req.issued and req.person.assistive_tech:
        assert req.at_confirmed                                                 # R8
    if outcome.courier:
        assert req.person.shielding                                             # R5
    if req.issued:
        assert not req.awaiting_collection                                      # R5
    laptops = sum(d.type is DeviceType.LAPTOP for d in req.issued)
    assert outcome.courier_laptops + outcome.counter_laptops == laptops


def run(population: Population, steps) -> ModelStation:  # noqa: ANN001 - actions
    station = ModelStation.of(population)
    station.check()
    for action in steps:
        resolved = station.resolve(action)
        station.apply(resolved)
        station.check()
    return station


# -- the pure domain -------------------------------------------------------------------------

@DOMAIN
@given(population=populations(), steps=st.lists(actions, min_size=10, max_size=50), data=st.data())
def test_no_sequence_of_exchanges_in_any_order_breaks_the_rules(population, steps, data):
    first = run(population, steps)
    shuffled = data.draw(st.permutations(steps), label="the same actions in another order")
    second = run(population, shuffled)
    for station in (first, second):
        a = station.allowance
        assert 4 * a.courier_laptops <= a.laptops_issued


@DOMAIN
@given(population=populations(), steps=st.lists(actions, min_size=5, max_size=30))
def test_a_refused_exchange_changes_nothing_and_says_which_rules(population, steps):
    station = ModelStation.of(population)
    for action in steps:
        resolved = station.resolve(action)
        if not isinstance(resolved, Attempt):
            station.apply(resolved)
            continue
        before = station.snapshot()
        try:
            request = station.request(resolved)
            violations = check_exchange(request)
        except BadInput:
            continue
        try:
            decide_exchange(request)
        except RuleRefused as refused:
            assert station.snapshot() == before
            assert refused.violations and set(refused.violations) <= set(violations)
            assert refused.error_code in {"R1", "R2", "R3", "R5", "R7", "R8"}
            assert not (request.override and all(v.overridable for v in violations))
            continue
        assert all(v.overridable for v in violations) and (request.override or not violations)
        assert station.exchange(resolved) is not None


# -- asset tags ------------------------------------------------------------------------------

valid_tags = st.from_regex(DEFAULT_TAG_PATTERN, fullmatch=True)
aim_prefixes = st.sampled_from(["", "]C0", "]A0", "]Q1", "]d2", "]E0", "]e0"])
suffixes = st.sampled_from(["", "\r", "\n", "\r\n", "\t", "\x04", " "])


@settings(max_examples=200, deadline=None)
@given(tag=valid_tags, aim=aim_prefixes, suffix=suffixes, lead=st.sampled_from(["", " ", "\t"]),
       lower=st.lists(st.booleans(), min_size=20, max_size=20))
def test_scanner_noise_around_any_valid_tag_is_stripped_and_cleaning_is_idempotent(
        tag, aim, suffix, lead, lower):
    typed = "".join(c.lower() if low else c for c, low in zip(tag, lower))
    scanned = lead + aim + typed + suffix
    assert clean_scan(scanned) == tag
    assert clean_scan(clean_scan(scanned)) == clean_scan(scanned)
    parsed = AssetTag.parse(scanned)
    assert parsed.value == tag and AssetTag.parse(parsed.value) == parsed
    assert AssetTag.matches(scanned)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=30))
def test_any_text_parses_to_a_tag_of_the_pattern_or_is_bad_input(text):
    try:
        parsed = AssetTag.parse(text)
    except BadInput as bad:
        assert "not an asset tag" in bad.user_message
        assert not AssetTag.matches(text)
        return
    assert AssetTag.matches(text)
    assert parsed.value == clean_scan(text) and AssetTag.parse(parsed.value) == parsed


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=30))
@example(text="\x00 ]C0LT-000123")
@example(text="]C0]C0LT-000123")
def test_cleaning_any_scanned_text_is_idempotent(text):
    assert clean_scan(clean_scan(text)) == clean_scan(text)


# -- the same through the real service layer on a SQLite file --------------------------------

ENGINEER_PINS = {"A1": "1111", "L1": "2222", "E1": "3333"}


@pytest.fixture(scope="module")
def empty_station(tmp_path_factory) -> Path:
    """A closed station data folder with operators A1 (admin), L1 (site lead), E1 (engineer)."""
    from app.bootstrap import open_station
    from app.services import auth
    from app.services import station as station_service

    data_dir = tmp_path_factory.mktemp("property-template") / "station"
    opened = open_station(data_dir, create=True)
    station_service.initialise(opened.context, "HQ-01", SITE)
    admin = auth.add_operator(opened.context, None, "A1", "Ada Admin", "admin", "1111")
    auth.add_operator(opened.context, admin, "L1", "Lee Lead", "site_lead", "2222")
    auth.add_operator(opened.context, admin, "E1", "Eve Engineer", "engineer", "3333")
    opened.close()
    return data_dir


def import_population(ctx, folder: Path, population: Population) -> None:  # noqa: ANN001
    from app.domain.people import Operator, Role
    from app.services import imports

    admin = Operator("A1", "Ada Admin", Role.ADMIN)
    yes = {True: "yes", False: "no"}
    people = [f"{p.staff_id},{p.name},{p.site},{yes[p.shielding]},{yes[p.assistive_tech]}"
              for p in population.people]
    register = [f"{d.tag},{d.serial},{d.type.value},{d.model},{d.os},{d.holder or ''},"
                f"{yes[d.sole_use]}" for d in population.devices if d.state is not DeviceState.IN_STOCK]
    stock = [f"{d.tag},{d.serial},{d.type.value},{d.model},{d.os},899.00"
             for d in population.devices if d.state is DeviceState.IN_STOCK]
    for kind, columns, rows, load in (
            ("people", imports.PEOPLE_COLUMNS, people, imports.import_people),
            ("devices", imports.DEVICE_COLUMNS, register, imports.import_devices),
            ("stock", imports.STOCK_COLUMNS, stock, imports.import_stock)):
        path = folder / f"{kind}.csv"
        path.write_text(",".join(columns) + "\n" + "".join(r + "\n" for r in rows), "utf-8")
        load(ctx, admin, path)


def stored(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)
                for t in tables}
    finally:
        conn.close()


def service_step(ctx, resolved) -> bool:  # noqa: ANN001 - service context, action
    """Do one counter action through the services; False when it was refused."""
    from app.domain.people import Operator, Role
    from app.services import exchanges, stock

    actor = Operator("E1", "Eve Engineer", Role.ENGINEER)
    try:
        if isinstance(resolved, Attempt):
            exchanges.record_exchange(ctx, actor, exchanges.ExchangeCommand(
                resolved.person, resolved.returned, resolved.issued, resolved.courier,
                resolved.at_confirmed, exchanges.OverrideRequest(REASON, LEAD, "2222")
                if resolved.override else None))
        elif resolved[0] == "collect":
            exchanges.collect(ctx, actor, resolved[1])
        else:
            stock.reclaim(ctx, actor, resolved[1])
    except StationError:
        return False
    return True


def check_stored(db: Path, model: ModelStation) -> None:
    """The stored data agrees with the model, and keeps the invariants on its own."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        devices = {tag: (DeviceState(state), holder) for tag, state, holder in conn.execute(
            "SELECT asset_tag, state, holder_staff_id FROM devices")}
        seqs = [s for (s,) in conn.execute("SELECT seq FROM events ORDER BY seq")]
        recorded = conn.execute("SELECT count(*) FROM events WHERE type = 'exchange.recorded'"
                                ).fetchone()[0]
        linked = conn.execute(
            "SELECT count(*) FROM exchanges x JOIN events e ON e.seq = x.event_seq "
            "AND e.type = 'exchange.recorded' "
            "AND json_extract(e.payload, '$.exchange_id') = x.exchange_id").fetchone()[0]
        exchanges = conn.execute("SELECT count(*) FROM exchanges").fetchone()[0]
        issued_twice = conn.execute(
            "SELECT asset_tag FROM exchange_items WHERE direction = 'issued' "
            "GROUP BY asset_tag HAVING count(*) > 1").fetchall()
        by_courier = dict(conn.execute(
            "SELECT x.courier, count(*) FROM exchange_items i JOIN exchanges x USING "
            "(exchange_id) WHERE i.direction = 'issued' AND i.device_type = 'laptop' "
            "GROUP BY x.courier").fetchall())
    finally:
        conn.close()
    assert devices == {tag: (d.state, d.holder) for tag, d in model.devices.items()}
    for state, holder in devices.values():
        assert (holder is not None) == (state in HELD)
    assert seqs == list(range(1, len(seqs) + 1))
    assert recorded == exchanges == linked
    assert issued_twice == []
    courier, counter = by_courier.get(1, 0), by_courier.get(0, 0)
    assert 3 * courier <= counter
    assert (counter, courier) == (model.allowance.counter_laptops, model.allowance.courier_laptops)


@settings(max_examples=int(os.environ.get("RULE_PROPERTY_SERVICE_EXAMPLES", 15)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(population=populations(other_sites=False), steps=st.lists(actions, min_size=5,
                                                                  max_size=15))
def test_the_service_layer_stores_what_the_rules_decide_and_nothing_when_refused(
        empty_station, population, steps):
    from app.bootstrap import open_station
    from app.persistence.engine import database_path

    folder = Path(tempfile.mkdtemp(prefix="rule-properties-"))
    try:
        data_dir = folder / "station"
        shutil.copytree(empty_station, data_dir)
        db = database_path(data_dir)
        opened = open_station(data_dir)
        try:
            import_population(opened.context, folder, population)
            model = ModelStation.of(population)
            check_stored(db, model)
            for action in steps:
                resolved = model.resolve(action)
                before = stored(db)
                done = service_step(opened.context, resolved)
                assert done == model.apply(resolved), resolved
                if not done:
                    assert stored(db) == before, f"{resolved} was refused but changed the database"
                check_stored(db, model)
                model.check()
        finally:
            opened.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- cases these properties found in app/ (each was a bug, now fixed) -------------------------

@pytest.fixture
def counter(empty_station, tmp_path):
    """P1..P9 each hold laptop OLD-000n (P1 and P9 shielding; P1 also sole-use desktop DSK-0001),
    NEW-0001..9 in stock, and P2..P4 exchanged over the counter (so R5 allows a courier)."""
    from app.bootstrap import open_station

    data_dir = shutil.copytree(empty_station, tmp_path / "station")
    opened = open_station(data_dir)
    people = tuple(Person(f"P{n}", f"Person {n}", SITE, shielding=n in (1, 9))
                   for n in range(1, 10))
    devices = tuple(Device(f"OLD-000{n}", f"SO{n}", DeviceType.LAPTOP, "EliteBook", "Windows 8.1",
                           DeviceState.ISSUED, holder=f"P{n}", site=SITE) for n in range(1, 10))
    devices += (Device("DSK-0001", "SD1", DeviceType.DESKTOP, "EliteDesk", "Windows 8.1",
                       DeviceState.ISSUED, holder="P1", sole_use=True, site=SITE),)
    devices += tuple(Device(f"NEW-000{n}", f"SN{n}", DeviceType.LAPTOP, "Latitude", "Windows 11",
                            DeviceState.IN_STOCK, site=SITE) for n in range(1, 10))
    import_population(opened.context, tmp_path, Population(people, devices))
    for n in (2, 3, 4):
        assert counter_step(opened.context, "exchange", f"P{n}", (f"OLD-000{n}",),
                            (f"NEW-000{n}",))
    yield opened
    opened.close()


def counter_step(ctx, action: str, *args, courier: bool = False,  # noqa: ANN001
                 override: bool = False) -> bool:
    """One action through the services; False if refused (a StationError), any other error
    propagates."""
    if action == "exchange":
        person, returned, issued = args
        return service_step(ctx, Attempt(person, returned, issued, courier, True, override))
    return service_step(ctx, (action, args[0]))


def state_of(ctx, tag: str) -> DeviceState:  # noqa: ANN001
    from app.services import lookup

    return lookup.find_device(ctx, tag).device.state


def test_an_override_cannot_hand_back_a_device_that_is_in_stock(counter):
    from app.services import exchanges

    with pytest.raises(StationError):
        exchanges.record_exchange(counter.context, _engineer(), exchanges.ExchangeCommand(
            "P1", ("NEW-0009",), ("NEW-0001",),
            override=exchanges.OverrideRequest(REASON, LEAD, "2222")))


def test_a_courier_exchange_only_awaits_a_device_the_person_holds(counter):
    ctx = counter.context
    counter_step(ctx, "exchange", "P9", ("OLD-0005",), ("NEW-0001",), courier=True, override=True)
    counter_step(ctx, "exchange", "P5", ("OLD-0005",), ("NEW-0005",))
    counter_step(ctx, "collect", "OLD-0005")
    assert state_of(ctx, "NEW-0001") in (DeviceState.IN_STOCK, DeviceState.ISSUED)


def test_a_courier_exchange_with_nothing_to_send_back_does_not_leave_the_laptop_pending(counter):
    ctx = counter.context
    counter_step(ctx, "exchange", "P9", (), ("NEW-0001",), courier=True, override=True)
    counter_step(ctx, "collect", "OLD-0009")
    assert state_of(ctx, "NEW-0001") in (DeviceState.IN_STOCK, DeviceState.ISSUED)


@pytest.mark.parametrize("who", ["P9", "P8"], ids=["the same person", "someone else"])
def test_a_device_awaited_by_courier_cannot_be_handed_back_at_the_counter_by_override(counter,
                                                                                       who):
    ctx = counter.context
    assert counter_step(ctx, "exchange", "P9", ("OLD-0009",), ("NEW-0001",), courier=True)
    assert not counter_step(ctx, "exchange", who, ("OLD-0009",), (), override=True)
    assert counter_step(ctx, "collect", "OLD-0009")
    assert state_of(ctx, "NEW-0001") is DeviceState.ISSUED


def test_handing_back_a_desktop_at_the_counter_settles_its_reclamation_task(counter):
    from app.services import stock

    ctx = counter.context
    assert counter_step(ctx, "exchange", "P1", ("OLD-0001",), ("NEW-0001",))
    assert [t.tag for t in stock.open_reclamation_tasks(ctx)] == ["DSK-0001"]
    counter_step(ctx, "exchange", "P1", ("DSK-0001",), ("NEW-0005",))
    counter_step(ctx, "reclaim", "DSK-0001")
    assert stock.open_reclamation_tasks(ctx) == []
    assert state_of(ctx, "DSK-0001") is DeviceState.RETURNED


def _engineer():
    from app.domain.people import Operator, Role

    return Operator("E1", "Eve Engineer", Role.ENGINEER)


def test_collecting_a_desktop_by_courier_settles_its_reclamation_task(counter):
    from app.services import stock

    ctx = counter.context
    assert counter_step(ctx, "exchange", "P1", ("OLD-0001",), ("NEW-0001",))
    assert [t.tag for t in stock.open_reclamation_tasks(ctx)] == ["DSK-0001"]
    assert counter_step(ctx, "exchange", "P1", ("DSK-0001",), ("NEW-0008",), courier=True)
    assert counter_step(ctx, "collect", "DSK-0001")
    counter_step(ctx, "reclaim", "DSK-0001")
    assert stock.open_reclamation_tasks(ctx) == []
    assert state_of(ctx, "DSK-0001") is DeviceState.RETURNED


def test_a_desktop_awaited_by_courier_is_collected_not_reclaimed(counter):
    ctx = counter.context
    assert counter_step(ctx, "exchange", "P1", ("OLD-0001",), ("NEW-0001",))
    assert counter_step(ctx, "exchange", "P1", ("DSK-0001",), ("NEW-0008",), courier=True)
    counter_step(ctx, "reclaim", "DSK-0001")
    counter_step(ctx, "collect", "DSK-0001")
    assert state_of(ctx, "NEW-0008") is DeviceState.ISSUED
