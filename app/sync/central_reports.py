"""The daily swap summary from the central database: one site, or the whole programme.

Central holds every station's events (JSONB payloads) and the device/person projections, so the
same `DailySummary` as a station's is built here with SQL over the day's events. Events are
found by type and local date (`left(occurred_at, 10)`, indexed by central c0007); the site of an
event is its station's.
"""

from __future__ import annotations

from datetime import datetime

from app.domain.rules import BadInput
from app.reports.daily import DailySummary
from app.sync import central

PROGRAMME = "all sites"

_DAY = """
WITH sites AS (SELECT DISTINCT station_id, site FROM station_stream),
day AS (
    SELECT e.type, e.payload, e.operator, e.occurred_at, s.site
    FROM event e JOIN sites s USING (station_id)
    WHERE left(e.occurred_at, 10) = %(day)s AND e.type = ANY(%(types)s)
      AND (%(site)s::text IS NULL OR s.site = %(site)s)
)
"""

_EXCHANGES = _DAY + """
SELECT count(*) FILTER (WHERE NOT (payload->>'courier')::boolean),
       count(*) FILTER (WHERE (payload->>'courier')::boolean),
       coalesce(sum(jsonb_array_length(payload->'reclamation_tasks')), 0)
FROM day WHERE type = 'exchange.recorded'
"""

_ITEMS = _DAY + """
SELECT item.direction, d.type, count(*)
FROM day,
     LATERAL (SELECT 'issued' AS direction, t FROM jsonb_array_elements_text(payload->'issued') t
              UNION ALL SELECT 'returned', t FROM jsonb_array_elements_text(payload->'returned') t
              WHERE NOT (payload->>'courier')::boolean
              UNION ALL SELECT 'lost', t FROM jsonb_array_elements_text(payload->'lost') t)
             AS item(direction, tag)
     JOIN device_state d ON d.asset_tag = item.tag
WHERE day.type = 'exchange.recorded'
GROUP BY item.direction, d.type
"""

_EXCEPTIONS = _DAY + """
SELECT x->>'rule', x->>'reason', x->>'authorised_by', payload->>'person',
       payload->>'exchange_id', substr(occurred_at, 12, 5)
FROM day, jsonb_array_elements(payload->'exceptions') x
WHERE type = 'exchange.recorded' ORDER BY occurred_at
"""

_OTHER = _DAY + """
SELECT count(*) FILTER (WHERE type = 'device.received')
         + coalesce(sum(jsonb_array_length(payload->'rows')) FILTER (WHERE type = 'stock.imported'), 0),
       count(*) FILTER (WHERE type = 'courier.collected'),
       count(*) FILTER (WHERE type = 'desktop.reclaimed'),
       count(*) FILTER (WHERE type = 'device.released' AND payload->>'route' = 'reuse'),
       count(*) FILTER (WHERE type = 'device.released' AND payload->>'route' = 'weee')
FROM day
"""

_OPERATORS = _DAY + """
, names AS (SELECT payload->>'staff_id' AS staff_id, max(payload->>'name') AS name
            FROM event WHERE type = 'operator.added' GROUP BY 1)
SELECT day.operator, coalesce(max(names.name), day.operator), count(*)
FROM day LEFT JOIN names ON names.staff_id = day.operator
WHERE day.operator IS NOT NULL GROUP BY day.operator ORDER BY day.operator
"""

_STANDING = """
WITH sites AS (SELECT DISTINCT station_id, site FROM station_stream)
SELECT (SELECT coalesce(sum(counter_laptops + courier_laptops), 0) FROM station_stream
        WHERE %(site)s::text IS NULL OR site = %(site)s),
       (SELECT coalesce(sum(courier_laptops), 0) FROM station_stream
        WHERE %(site)s::text IS NULL OR site = %(site)s),
       (SELECT count(*) FROM device_state WHERE state = 'returned'
        AND (%(site)s::text IS NULL OR site = %(site)s)),
       (SELECT count(*) FROM device_state WHERE disputed
        AND (%(site)s::text IS NULL OR site = %(site)s)),
       (SELECT count(*) FROM person_state WHERE disputed
        AND (%(site)s::text IS NULL OR site = %(site)s))
"""

_TYPES = ["exchange.recorded", "device.received", "stock.imported", "courier.collected",
          "desktop.reclaimed", "device.released", "operator.added"]


def programme_daily_summary(central_url: str, day: str, site: str | None = None) -> DailySummary:
    """The day at one site (`site`) or at every site (None), from central."""
    import psycopg

    conn = central.connect(central_url, application_name="report")
    try:
        if site and not conn.execute("SELECT 1 FROM station_stream WHERE site = %s LIMIT 1",
                                     (site,)).fetchone():
            raise BadInput(f"unknown site '{site}': no station of that site has synced to "
                           "central")
        args = {"day": day, "site": site or None, "types": _TYPES}
        counter, courier, raised = conn.execute(_EXCHANGES, args).fetchone()
        items: dict[str, dict[str, int]] = {}
        for direction, kind, n in conn.execute(_ITEMS, args):
            items.setdefault(direction, {})[kind] = n
        received, collected, reclaimed, reuse, weee = conn.execute(_OTHER, args).fetchone()
        issued_total, courier_total, backlog, disputed_d, disputed_p = conn.execute(
            _STANDING, args).fetchone()
        exceptions = tuple({"rule": r, "reason": why, "authorised_by": by, "authoriser_name": by,
                            "person": who, "exchange_id": ex, "time": at}
                           for r, why, by, who, ex, at in conn.execute(_EXCEPTIONS, args))
        operators = tuple({"staff_id": s, "name": n, "actions": c}
                          for s, n, c in conn.execute(_OPERATORS, args))
    except psycopg.Error as exc:
        from app.sync.push import central_error

        raise central_error("reading the daily summary", exc) from None
    finally:
        conn.close()
    return DailySummary(
        station="central", site=site or PROGRAMME, date=day,
        generated_at=datetime.now().strftime("%Y-%m-%d %H:%M"),
        counter_exchanges=counter, courier_exchanges=courier,
        issued=items.get("issued", {}), returned=items.get("returned", {}),
        lost=items.get("lost", {}), received_into_stock=received, courier_collected=collected,
        desktops_reclaimed=reclaimed, courier_laptops=courier_total, laptops_issued=issued_total,
        exceptions=exceptions, reclamations_raised=raised, reclamations_closed=reclaimed,
        awaiting_sanitisation=backlog, released={k: v for k, v in (("reuse", reuse),
                                                                   ("weee", weee)) if v},
        disputed_devices=disputed_d, disputed_people=disputed_p, operators=operators)


# -- the programme dashboard ---------------------------------------------------------------------

_BOARD = """
WITH sites AS (SELECT DISTINCT station_id, site FROM station_stream),
ex AS (SELECT e.payload, e.occurred_at, s.site FROM event e JOIN sites s USING (station_id)
       WHERE e.type = 'exchange.recorded'),
issued AS (SELECT DISTINCT t AS tag FROM ex, jsonb_array_elements_text(payload->'issued') t),
handed AS (SELECT ex.site, t AS tag, left(ex.occurred_at, 10) AS day, ex.occurred_at
           FROM ex, jsonb_array_elements_text((payload->'returned') || (payload->'lost')) t)
"""

_REGISTER = _BOARD + """
SELECT coalesce(d.site, ''), d.type, count(*) FROM device_state d
WHERE d.state <> 'in_stock' AND d.asset_tag NOT IN (SELECT tag FROM issued)
GROUP BY 1, 2
"""

_REFRESHED = _BOARD + """
SELECT h.site, d.type, count(*) FROM handed h JOIN device_state d ON d.asset_tag = h.tag
GROUP BY 1, 2
"""

_BY_DAY = _BOARD + "SELECT day, count(*) FROM handed GROUP BY day ORDER BY day"

_BACKLOG = _BOARD + """
SELECT coalesce(max(h.occurred_at), '') FROM device_state d LEFT JOIN handed h ON h.tag = d.asset_tag
WHERE d.state = 'returned' GROUP BY d.asset_tag
"""

_EXCEPTIONS_BY_SITE = _BOARD + """
SELECT site, count(*) FROM ex, jsonb_array_elements(payload->'exceptions') GROUP BY site
"""

_SPEND = _BOARD + """
SELECT coalesce(sum(unit_cost_pence) FILTER (WHERE asset_tag IN (SELECT tag FROM issued)), 0),
       coalesce(sum(unit_cost_pence) FILTER (WHERE state = 'in_stock'
                                             OR asset_tag IN (SELECT tag FROM issued)), 0),
       count(*) FILTER (WHERE unit_cost_pence IS NULL AND (state = 'in_stock'
                                             OR asset_tag IN (SELECT tag FROM issued)))
FROM device_state
"""


def programme_dashboard(central_url: str):  # noqa: ANN201 - app.reports.dashboard.Dashboard
    """The whole programme's dashboard, from central's events and projections."""
    import psycopg

    from app.reports.dashboard import Dashboard

    conn = central.connect(central_url, application_name="report")
    try:
        register = {(s, t): n for s, t, n in conn.execute(_REGISTER)}
        refreshed = {(s, t): n for s, t, n in conn.execute(_REFRESHED)}
        by_day = tuple((d, n) for d, n in conn.execute(_BY_DAY))
        backlog = tuple(sorted(r[0] for r in conn.execute(_BACKLOG)))
        exceptions = dict(conn.execute(_EXCEPTIONS_BY_SITE).fetchall())
        spend, received, uncosted = conn.execute(_SPEND).fetchone()
        issued, courier = conn.execute(
            "SELECT coalesce(sum(counter_laptops + courier_laptops), 0), "
            "coalesce(sum(courier_laptops), 0) FROM station_stream").fetchone()
        open_tasks = conn.execute(
            "SELECT (SELECT coalesce(sum(jsonb_array_length(payload->'reclamation_tasks')), 0) "
            "FROM event WHERE type = 'exchange.recorded') - "
            "(SELECT count(*) FROM event WHERE type = 'desktop.reclaimed')").fetchone()[0]
    except psycopg.Error as exc:
        from app.sync.push import central_error

        raise central_error("reading the programme dashboard", exc) from None
    finally:
        conn.close()
    now = datetime.now()
    return Dashboard(scope="the whole programme (central database)",
                     generated_at=now.strftime("%Y-%m-%d %H:%M"), today=now.date().isoformat(),
                     register=register, refreshed=refreshed, by_day=by_day,
                     courier_laptops=courier, laptops_issued=issued,
                     backlog_returned_at=backlog, reclamations_open=max(0, open_tasks),
                     exceptions_by_site=exceptions, spend_pence=spend,
                     stock_received_pence=received, uncosted_stock=uncosted)
