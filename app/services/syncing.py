"""Sync as the window asks for it: one cycle with the configured central database."""

from __future__ import annotations

from app.services.context import ServiceContext


def sync_configured(ctx: ServiceContext) -> bool:
    return bool(ctx.config.central_url and ctx.sync_runner)


def sync_now(ctx: ServiceContext):  # noqa: ANN201 - app.sync.runner.SyncReport
    """Push and pull once; never raises for a central that is down (the report says so)."""
    if not sync_configured(ctx):
        from app.sync.runner import SyncReport

        return SyncReport(error="no central database is set for this station (central_url in "
                                "station.toml)")
    return ctx.sync_runner().run_once(ctx.config.central_url)
