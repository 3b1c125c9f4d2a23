"""The daily swap summary of one site: built as data, rendered to HTML and CSV (no Qt here)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from html import escape

TYPES = ("laptop", "tablet", "desktop")
COURIER_CAP = 0.25


@dataclass(frozen=True)
class DailySummary:
    station: str
    site: str
    date: str
    generated_at: str
    counter_exchanges: int = 0
    courier_exchanges: int = 0
    issued: dict[str, int] = field(default_factory=dict)
    returned: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    received_into_stock: int = 0
    courier_collected: int = 0
    desktops_reclaimed: int = 0
    courier_laptops: int = 0
    laptops_issued: int = 0
    exceptions: tuple[dict, ...] = ()
    reclamations_raised: int = 0
    reclamations_closed: int = 0
    reclamations_open: int = 0
    awaiting_sanitisation: int = 0
    released: dict[str, int] = field(default_factory=dict)
    open_collections: tuple[dict, ...] = ()
    disputed_devices: int = 0
    disputed_people: int = 0
    unsynced_events: int = 0
    operators: tuple[dict, ...] = ()

    @property
    def exchanges(self) -> int:
        return self.counter_exchanges + self.courier_exchanges

    @property
    def overrides(self) -> int:
        return len({e["exchange_id"] for e in self.exceptions})

    @property
    def courier_share(self) -> float:
        return self.courier_laptops / self.laptops_issued if self.laptops_issued else 0.0

    @property
    def quiet(self) -> bool:
        return not (self.exchanges or self.received_into_stock or self.courier_collected
                    or self.desktops_reclaimed or sum(self.released.values())
                    or self.reclamations_closed)

    def figures(self) -> list[tuple[str, str, object]]:
        """(section, figure, value): every number on the summary, in order; the CSV's rows."""
        rows = [("Exchanges", "completed (all)", self.exchanges),
                ("Exchanges", "over the counter", self.counter_exchanges),
                ("Exchanges", "by courier", self.courier_exchanges)]
        for kind in TYPES:
            rows += [("Issued", kind, self.issued.get(kind, 0)),
                     ("Returned", kind, self.returned.get(kind, 0))]
        rows += [("Returned", "written off as lost", sum(self.lost.values())),
                 ("Stock", "received into stock", self.received_into_stock),
                 ("Courier", "old devices collected", self.courier_collected),
                 ("Courier", "courier laptops (station total)", self.courier_laptops),
                 ("Courier", "laptops issued (station total)", self.laptops_issued),
                 ("Courier", "courier share %", round(100 * self.courier_share, 1)),
                 ("Courier", "cap %", int(100 * COURIER_CAP)),
                 ("Courier", "open collections", len(self.open_collections)),
                 ("Exceptions", "overrides", self.overrides),
                 ("Exceptions", "exceptions", len(self.exceptions)),
                 ("Reclamation", "tasks raised", self.reclamations_raised),
                 ("Reclamation", "tasks closed", self.reclamations_closed),
                 ("Reclamation", "desktops reclaimed", self.desktops_reclaimed),
                 ("Reclamation", "tasks open", self.reclamations_open),
                 ("Sanitisation", "awaiting sanitisation", self.awaiting_sanitisation),
                 ("Sanitisation", "released for reuse", self.released.get("reuse", 0)),
                 ("Sanitisation", "released to WEEE", self.released.get("weee", 0)),
                 ("Sync", "disputed devices", self.disputed_devices),
                 ("Sync", "disputed people", self.disputed_people),
                 ("Sync", "events not yet synced", self.unsynced_events)]
        return rows

    def as_json(self) -> dict:
        return {"station": self.station, "site": self.site, "date": self.date,
                "figures": [{"section": s, "figure": f, "value": v} for s, f, v in self.figures()],
                "exceptions": list(self.exceptions), "open_collections": list(self.open_collections),
                "operators": list(self.operators), "no_activity": self.quiet}


def to_csv(summary: DailySummary) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["site", "date", "section", "figure", "value"])
    for section, figure, value in summary.figures():
        writer.writerow([summary.site, summary.date, section, figure, value])
    for e in summary.exceptions:
        writer.writerow([summary.site, summary.date, "Exception", f"{e['rule']} {e['time']} "
                         f"{e['person']} authorised by {e['authorised_by']}", e["reason"]])
    for op in summary.operators:
        writer.writerow([summary.site, summary.date, "Operator", f"{op['staff_id']} {op['name']}",
                         op["actions"]])
    return out.getvalue()


def to_html(summary: DailySummary) -> str:
    """HTML in the subset QTextDocument renders, for print, preview and PDF."""
    s = summary
    parts = [f"<h1>Daily swap summary: {escape(s.site)}</h1>",
             f"<p>{escape(s.date)} &middot; station {escape(s.station)} &middot; printed "
             f"{escape(s.generated_at)}</p>"]
    if s.quiet:
        parts.append("<p><b>No activity</b>: no exchanges, goods-in, collections, reclamations "
                     "or releases were recorded at this site on this date.</p>")
    share = f"{100 * s.courier_share:.1f}%"
    over = s.courier_share > COURIER_CAP
    parts.append(_table(["Figure", "Value"], [
        ("Exchanges completed", s.exchanges), ("&nbsp;&nbsp;over the counter", s.counter_exchanges),
        ("&nbsp;&nbsp;by courier", s.courier_exchanges),
        *((f"Issued: {k}s", s.issued.get(k, 0)) for k in TYPES),
        *((f"Returned: {k}s", s.returned.get(k, 0)) for k in TYPES),
        ("Written off as lost (R1 override)", sum(s.lost.values())),
        ("Received into stock", s.received_into_stock),
        ("Courier: old devices collected", s.courier_collected),
        ("Courier share of laptops (station, cap 25%)",
         f"{share} ({s.courier_laptops} of {s.laptops_issued})" + (" OVER CAP" if over else "")),
        ("Reclamation tasks raised / closed / open",
         f"{s.reclamations_raised} / {s.reclamations_closed} / {s.reclamations_open}"),
        ("Devices awaiting sanitisation", s.awaiting_sanitisation),
        ("Released for reuse / to WEEE",
         f"{s.released.get('reuse', 0)} / {s.released.get('weee', 0)}"),
        ("Disputed devices / people (sync conflicts)", f"{s.disputed_devices} / {s.disputed_people}"),
        ("Events not yet synced", s.unsynced_events)]))
    parts.append(f"<h2>Overrides and exceptions ({len(s.exceptions)})</h2>")
    parts.append(_table(["Time", "Rule", "Person", "Reason", "Authorised by"], [
        (e["time"], e["rule"], e["person"], escape(e["reason"]),
         f"{escape(e['authoriser_name'])} ({e['authorised_by']})") for e in s.exceptions])
        if s.exceptions else "<p>None.</p>")
    parts.append(f"<h2>Open courier collections ({len(s.open_collections)})</h2>")
    parts.append(_table(["Since", "Person", "Device awaited"], [
        (c["since"], f"{escape(c['name'])} ({c['person']})", c["tag"]) for c in s.open_collections])
        if s.open_collections else "<p>None.</p>")
    parts.append("<h2>Operators who worked</h2>")
    parts.append(_table(["Staff number", "Name", "Actions"], [
        (o["staff_id"], escape(o["name"]), o["actions"]) for o in s.operators])
        if s.operators else "<p>None.</p>")
    return ("<html><body style='font-family: DejaVu Sans, Arial; font-size: 10pt'>"
            + "\n".join(parts) + "</body></html>")


def _table(header: list[str], rows) -> str:  # noqa: ANN001 - rows of cells
    head = "".join(f"<th align='left'>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (f"<table border='1' cellspacing='0' cellpadding='3' width='100%'>"
            f"<tr>{head}</tr>{body}</table>")
