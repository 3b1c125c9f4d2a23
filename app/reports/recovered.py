"""What a station's recovered events add to its reports (no SQL, no Qt here).

A station restored from an older copy fetches back from central the events it had recorded
after the copy was taken (`app.sync.recovery`). Only the events come back, not the rows they
wrote (exchanges, reclamation tasks, releases...), so the daily summary, the dashboard and
`status` add what those events did, folded here in the order they happened:

  * exchanges: over the counter or by courier, devices issued / returned / lost by type,
    exceptions, reclamation tasks raised, old devices still awaited from a courier;
  * reclamation tasks closed (a desktop reclaimed, collected from a courier, or handed back at
    the counter) while open, whether raised before the copy or in a recovered exchange;
  * courier collections, releases (reuse or WEEE), operators added.

Device types come from the station's register (pulled from central). Whether a task raised
before the copy was still open when the recovered events happened is told by the station's
own rows: open now, or closed after the last recovered event (that is, after the restore).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain import events


@dataclass(frozen=True)
class RecoveredEvent:
    seq: int
    type: str
    payload: dict
    operator: str | None
    occurred_at: str


@dataclass(frozen=True)
class RecoveredExchange:
    exchange_id: str
    site: str
    courier: bool
    occurred_at: str
    person: str
    items: tuple[tuple[str, str], ...]  # (direction, tag): returned | issued | lost
    exceptions: tuple[dict, ...]
    raised: int  # reclamation tasks raised

    @property
    def day(self) -> str:
        return self.occurred_at[:10]


@dataclass
class RecoveredFold:
    exchanges: list[RecoveredExchange] = field(default_factory=list)
    closures: list[tuple[str, str]] = field(default_factory=list)  # (tag, when) of task closes
    #: tasks raised before the copy that recovered events closed (the station's rows say open)
    closed_here: set[str] = field(default_factory=set)
    #: tasks raised by recovered exchanges and still open after them
    still_open: set[str] = field(default_factory=set)
    #: (exchange id, tag) -> (person, site, since): old devices still awaited from a courier
    awaited: dict[tuple[str, str], tuple[str, str, str]] = field(default_factory=dict)
    #: (exchange id, tag) of the station's own awaited devices that recovered events collected
    collected_here: set[tuple[str, str]] = field(default_factory=set)
    releases: list[tuple[str, str]] = field(default_factory=list)  # (route, day)
    reclaimed: list[tuple[str, str]] = field(default_factory=list)  # (tag, when)
    names: dict[str, str] = field(default_factory=dict)  # operators added, by staff id
    types: dict[str, str] = field(default_factory=dict)  # device types of the tags named


def fold(recovered: list[RecoveredEvent], types: dict[str, str],
         open_before: set[str]) -> RecoveredFold:
    """`recovered` in the order they happened; `types` maps asset tags to device types;
    `open_before` holds the tags whose reclamation task was open when the copy was taken."""
    out = RecoveredFold(types=dict(types))
    open_tasks = {tag: "before" for tag in open_before}

    def close(tag: str, when: str) -> None:
        origin = open_tasks.pop(tag, None)
        if origin is None:
            return
        out.closures.append((tag, when))
        if origin == "before":
            out.closed_here.add(tag)

    for e in recovered:
        p = e.payload
        if e.type == events.EXCHANGE_RECORDED:
            exchange_id = p.get("exchange_id", "")
            items = tuple((direction, tag) for direction in ("returned", "issued", "lost")
                          for tag in p.get(direction, []))
            out.exchanges.append(RecoveredExchange(
                exchange_id, p.get("site", ""), bool(p.get("courier")), e.occurred_at,
                p.get("person", ""), items, tuple(p.get("exceptions", [])),
                len(p.get("reclamation_tasks", []))))
            for tag in p.get("reclamation_tasks", []):
                open_tasks[tag] = "recovered"
            if not p.get("courier"):  # a desktop handed back at the counter settles its task
                for tag in p.get("returned", []):
                    if types.get(tag) == "desktop":
                        close(tag, e.occurred_at)
            for tag in p.get("awaiting_collection", []):
                out.awaited[(exchange_id, tag)] = (p.get("person", ""), p.get("site", ""),
                                                   e.occurred_at[:10])
        elif e.type == events.COURIER_COLLECTED:
            key = (p.get("exchange_id", ""), p.get("collected", ""))
            if out.awaited.pop(key, None) is None:
                out.collected_here.add(key)
            close(key[1], e.occurred_at)
        elif e.type == events.DESKTOP_RECLAIMED:
            out.reclaimed.append((p.get("tag", ""), e.occurred_at))
            close(p.get("tag", ""), e.occurred_at)
        elif e.type == events.DEVICE_RELEASED:
            out.releases.append((p.get("route", ""), (p.get("released_at") or e.occurred_at)[:10]))
        elif e.type == events.OPERATOR_ADDED:
            out.names[p.get("staff_id", "")] = p.get("name", "")
    out.still_open = {tag for tag, origin in open_tasks.items() if origin == "recovered"}
    return out


def tags_of(recovered: list[RecoveredEvent]) -> set[str]:
    """Every asset tag an exchange among `recovered` names (for their device types)."""
    return {tag for e in recovered if e.type == events.EXCHANGE_RECORDED
            for direction in ("returned", "issued", "lost") for tag in e.payload.get(direction, [])}
