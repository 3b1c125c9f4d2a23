"""The programme dashboard: refresh progress, policy limits, backlog and spend, as data + HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from html import escape

CAPITAL_BUDGET_PENCE = 14_700_000 * 100  # the £14.7M capital programme
COURIER_CAP = 0.25
TYPES = ("laptop", "tablet", "desktop")
CHART_URL = "chart:refreshed"


@dataclass(frozen=True)
class Dashboard:
    scope: str
    generated_at: str
    today: str
    register: dict[tuple[str, str], int] = field(default_factory=dict)   # (site, type) -> devices
    refreshed: dict[tuple[str, str], int] = field(default_factory=dict)
    by_day: tuple[tuple[str, int], ...] = ()
    courier_laptops: int = 0
    laptops_issued: int = 0
    backlog_returned_at: tuple[str, ...] = ()
    reclamations_open: int = 0
    exceptions_by_site: dict[str, int] = field(default_factory=dict)
    spend_pence: int = 0
    stock_received_pence: int = 0
    uncosted_stock: int = 0
    budget_pence: int = CAPITAL_BUDGET_PENCE

    def total(self, table: dict[tuple[str, str], int], kind: str | None = None,
              site: str | None = None) -> int:
        return sum(n for (s, t), n in table.items()
                   if (kind is None or t == kind) and (site is None or s == site))

    @property
    def sites(self) -> list[str]:
        return sorted({s for s, _t in self.register} | {s for s, _t in self.refreshed})

    @property
    def percent_refreshed(self) -> float:
        registered = self.total(self.register)
        return 100.0 * self.total(self.refreshed) / registered if registered else 0.0

    @property
    def courier_share(self) -> float:
        return self.courier_laptops / self.laptops_issued if self.laptops_issued else 0.0

    def backlog_ages(self) -> list[int]:
        today = date.fromisoformat(self.today)
        return [(today - date.fromisoformat(at[:10])).days if at else 0
                for at in self.backlog_returned_at]

    def backlog_buckets(self) -> dict[str, int]:
        ages = self.backlog_ages()
        return {"under 7 days": sum(a < 7 for a in ages),
                "7 to 30 days": sum(7 <= a <= 30 for a in ages),
                "over 30 days": sum(a > 30 for a in ages)}

    def cumulative(self, days: int = 30) -> list[tuple[str, int, int]]:
        """(date, refreshed that day, refreshed so far) for each of the last `days` days."""
        today = date.fromisoformat(self.today)
        per_day = dict(self.by_day)
        first = today.toordinal() - days + 1
        running = sum(n for d, n in self.by_day if date.fromisoformat(d).toordinal() < first)
        out = []
        for ordinal in range(first, today.toordinal() + 1):
            day = date.fromordinal(ordinal).isoformat()
            running += per_day.get(day, 0)
            out.append((day, per_day.get(day, 0), running))
        return out


def to_html(d: Dashboard, chart_url: str | None = CHART_URL) -> str:
    pounds = lambda pence: f"£{pence / 100:,.0f}"  # noqa: E731
    spend_share = 100.0 * d.spend_pence / d.budget_pence if d.budget_pence else 0.0
    ages = d.backlog_ages()
    rows = [(escape(site or "(no site)"),
             *(f"{d.total(d.refreshed, t, site)} / {d.total(d.register, t, site)}" for t in TYPES),
             d.exceptions_by_site.get(site, 0)) for site in d.sites]
    parts = [
        f"<h1>Programme dashboard</h1><p>{escape(d.scope)} &middot; {escape(d.generated_at)}</p>",
        f"<p><b>{d.total(d.refreshed):,}</b> of <b>{d.total(d.register):,}</b> register devices "
        f"refreshed ({d.percent_refreshed:.1f}%).</p>",
        _table(["Site", *(f"{t}s refreshed / register" for t in TYPES), "Exceptions"], rows)
        if rows else "<p>No register loaded yet.</p>",
    ]
    if chart_url and d.by_day:
        parts.append(f"<h2>Refreshed over the last 30 days</h2>"
                     f"<p><img src='{chart_url}' width='600'></p>")
    courier = (f"{100 * d.courier_share:.1f}% ({d.courier_laptops} of {d.laptops_issued} "
               f"laptops; cap {int(100 * COURIER_CAP)}%)"
               + (" — OVER CAP" if d.courier_share > COURIER_CAP else ""))
    buckets = d.backlog_buckets()
    parts.append(_table(["Policy and backlog", "Now"], [
        ("Courier share of laptops", courier),
        ("Devices awaiting sanitisation", f"{len(ages)} (oldest {max(ages, default=0)} days)"),
        *((f"&nbsp;&nbsp;waiting {k}", v) for k, v in buckets.items()),
        ("Reclamation tasks open", d.reclamations_open),
        ("Exceptions (overrides)", sum(d.exceptions_by_site.values())),
        ("Spend on devices issued", f"{pounds(d.spend_pence)} of {pounds(d.budget_pence)} "
                                    f"capital budget ({spend_share:.2f}%)"),
        ("Stock received (value)", pounds(d.stock_received_pence)
         + (f"; {d.uncosted_stock} devices without a unit cost" if d.uncosted_stock else "")),
    ]))
    return ("<html><body style='font-family: DejaVu Sans, Arial; font-size: 10pt'>"
            + "\n".join(parts) + "</body></html>")


def _table(header: list[str], rows) -> str:  # noqa: ANN001 - rows of cells
    head = "".join(f"<th align='left'>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (f"<table border='1' cellspacing='0' cellpadding='3' width='100%'>"
            f"<tr>{head}</tr>{body}</table>")
