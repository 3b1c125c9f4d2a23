"""The Sanitisation bench, driven offscreen: a match field by field, a mismatch that blocks
release, the review queue, a dropped file."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from app.ui.sanitisation_panel import SanitisationPanel
from app.ui.session import CounterSession
from tests.certificates import reports
from tests.certificates.station import bench, bench_template  # noqa: F401 - fixtures


@pytest.fixture
def panel(qtbot, bench, monkeypatch):  # noqa: F811 - the fixture imported above
    session = CounterSession(bench.ctx, bench.who("L1"))
    widget = SanitisationPanel(session)
    qtbot.addWidget(widget)
    widget.refresh()
    widget.picks = []
    monkeypatch.setattr(SanitisationPanel, "pick_report_file",
                        staticmethod(lambda parent: widget.picks.pop(0)))
    return widget


def scan(qtbot, panel, tag: str) -> None:
    qtbot.keyClicks(panel.scan_field, tag)
    qtbot.keyClick(panel.scan_field, Qt.Key.Key_Return)


def rows(panel) -> dict[str, tuple[str, str, str]]:
    table = panel.findChild(type(panel.table), "matchTable")
    return {table.item(r, 0).text(): tuple(table.item(r, c).text() for c in (1, 2, 3))
            for r in range(table.rowCount())}


def test_a_matching_report_is_shown_field_by_field_then_certified_and_released(
        qtbot, panel, bench):
    scan(qtbot, panel, "old-0001")
    assert "returned" in panel.device_label.text() and "WD-WX11A1234567" in panel.device_label.text()
    panel.picks.append(reports.blancco_raw(bench.folder / "r.xml"))
    with qtbot.waitSignal(panel.report_checked) as checked:
        qtbot.mouseClick(panel.findChild(type(panel.pick_button), "pickReportButton"),
                         Qt.MouseButton.LeftButton)
    assert checked.args[0].accepted
    shown = rows(panel)
    assert shown["System serial"] == ("5CG1234ABC", "5CG1234ABC", "✔ match")
    assert shown["Disk WD-WX11A1234567"][2] == "✔ match"
    assert shown["Disk USB-BOOT-0001"][2].startswith("– — USB boot media")
    assert not panel.release_button.isEnabled()
    with qtbot.waitSignal(panel.certificate_recorded):
        qtbot.mouseClick(panel.certify_button, Qt.MouseButton.LeftButton)
    assert "sanitised" in panel.device_label.text() and panel.release_button.isEnabled()
    panel.recipient_field.setText("Hutton Primary School")
    with qtbot.waitSignal(panel.device_released) as released:
        qtbot.mouseClick(panel.release_button, Qt.MouseButton.LeftButton)
    assert released.args[0].recipient == "Hutton Primary School"
    assert bench.state("OLD-0001") == "redistributed"


def test_a_mismatch_blocks_release_and_goes_to_the_review_queue(qtbot, panel, bench):
    scan(qtbot, panel, "OLD-0002")
    panel.picks.append(reports.usody_json(bench.folder / "one.json", serial="S3Z9NB0K123456"))
    qtbot.mouseClick(panel.pick_button, Qt.MouseButton.LeftButton)
    shown = rows(panel)
    assert shown["Disk S3Z9NB0K999999"][2].startswith("✘ MISMATCH")
    assert shown["Disk S3Z9NB0K123456"][2] == "✔ match"
    assert panel.last_outcome.text.startswith("one.json does not release OLD-0002")
    panel.validator_field.setText("A1")
    panel.validator_pin.setText("1111")
    with qtbot.waitSignal(panel.review_queued):
        qtbot.mouseClick(panel.certify_button, Qt.MouseButton.LeftButton)
    queue = panel.findChild(type(panel.review_list), "reviewQueueList")
    assert queue.count() == 1 and queue.item(0).text().startswith("OLD-0002 — one.json")
    assert "S3Z9NB0K999999" in queue.item(0).text()
    assert not panel.release_button.isEnabled() and bench.state("OLD-0002") == "returned"
    panel.recipient_field.setText("School")
    panel.release_button.setEnabled(True)  # even if forced, the service refuses
    qtbot.mouseClick(panel.release_button, Qt.MouseButton.LeftButton)
    assert panel.last_outcome.text.startswith("R6")
    assert panel.validator_pin.text() == ""


def test_an_unreadable_file_is_refused_and_nothing_can_be_recorded(qtbot, panel, bench):
    scan(qtbot, panel, "OLD-0001")
    bad = bench.folder / "bad.xml"
    bad.write_text("<root><report>")
    panel.picks.append(bad)
    qtbot.mouseClick(panel.pick_button, Qt.MouseButton.LeftButton)
    assert "malformed or truncated" in panel.last_outcome.text
    assert panel.table.rowCount() == 0 and not panel.certify_button.isEnabled()


def test_a_report_dropped_on_the_bench_is_checked(qtbot, panel, bench):
    scan(qtbot, panel, "OLD-0003")
    path: Path = reports.blancco_flattened(bench.folder / "phone.xml")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(panel.report_checked):
        panel.dropEvent(event)
    assert rows(panel)["System serial"][2] == "✔ match"
    assert panel.report_label.text() == "phone.xml"


def test_an_unknown_tag_is_refused_inline(qtbot, panel):
    scan(qtbot, panel, "ZZZ-9999")
    assert "not a known device" in panel.last_outcome.text
    assert panel.device_label.text() == "No device scanned"
