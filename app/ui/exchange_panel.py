"""The exchange screen: identify the person, scan what is handed back and issued, complete.

Every change of the draft asks the domain (through `counter.check_draft`) which rules still stop
completion; the banner says them in words and Complete stays disabled until none is left (or a
site lead has overridden the ones that may be). No rule is decided here.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QGridLayout, QHBoxLayout, QLineEdit, QPushButton,
                               QVBoxLayout, QWidget)

from app.services import counter, exchanges
from app.services.exchanges import ExchangeReceipt
from app.ui.exchange_words import completion_words, describe_check
from app.ui.feedback import Outcome, Tone, outcome_for_error
from app.ui.override_dialog import OverrideDialog
from app.ui.panel import Panel, buddy_label, named
from app.ui.person_box import PersonBox
from app.ui.scan_lists import ScannedList
from app.ui.session import CounterSession


class ExchangePanel(Panel):
    exchange_completed = Signal(object)   # ExchangeReceipt
    draft_changed = Signal(object)        # counter.Draft

    title = "Exchange"
    hint = "scan the person's staff badge, or type their staff number or name in Person (Alt+P)"

    def __init__(self, session: CounterSession, parent: QWidget | None = None):
        super().__init__(session, parent)
        self.draft = counter.Draft()
        self.check = counter.DraftCheck(empty=True)
        self.devices: dict = {}
        self.last_receipt: ExchangeReceipt | None = None
        self._last_list: ScannedList | None = None
        self._build()
        self._connect()
        self._render()

    # -- public API --------------------------------------------------------------------------

    def accept_scan(self, text: str, origin: QWidget | None = None) -> None:
        """A scan from the wedge, the camera or the scan field: a badge, or a device."""
        if self.person_box.person is None:
            first = "" if origin is self.person_box.field else (
                "identify the person first: scan their staff badge, or type their staff number "
                "or name in Person (Alt+P); ")
            self._identify(text, first)
        elif origin is self.person_box.field and self.person_box.finds_someone(text):
            self._identify(text)
        else:
            self._place(text)

    def focus_entry(self) -> None:
        self.scan_field.setFocus(Qt.FocusReason.OtherFocusReason)

    def new_exchange(self) -> None:
        """Clear the counter for the next person."""
        self.person_box.clear()
        self.draft, self.devices = counter.Draft(), {}
        self._render()
        self._recheck(Outcome(Tone.INFO, self.hint))
        self.focus_entry()

    def refresh(self) -> None:
        self._show_allowance()

    # -- building ----------------------------------------------------------------------------

    def _build(self) -> None:
        self.person_box = PersonBox(self.session, self)
        self.scan_field = named(QLineEdit(self), "Scan", "Scan or type an asset tag or a "
                                "manufacturer serial and press Enter", "scanField")
        self.scan_field.setPlaceholderText("Scan a device (or a staff badge); Enter")
        self.add_button = named(QPushButton("Add", self), "Add scan",
                                "Add the tag typed in the scan field", "addScanButton")
        self.return_list = ScannedList("returnList", "Returned", "Devices handed back", self)
        self.issue_list = ScannedList("issueList", "Issued", "New devices issued", self)
        self.remove_button = named(QPushButton("Re&move scan (Delete)", self), "Remove scan",
                                   "Remove the selected wrong scan before completing",
                                   "removeScanButton")
        self.courier_check = named(QCheckBox("Co&urier", self), "Courier", "Send the new "
                                   "device by courier (R5: shielding staff only)", "courierCheck")
        self.at_check = named(QCheckBox("&AT confirmed working on the new device (R8)", self),
                              "AT confirmed", "Tick when the person's assistive technology and "
                              "accessibility tools work on the new device", "atConfirmCheck")
        self.override_button = named(QPushButton("&Override…", self), "Override",
                                     "A site lead sets aside R1 or R3 with their PIN and a reason",
                                     "overrideButton")
        self.complete_button = named(QPushButton("&Complete (Ctrl+Enter)", self), "Complete",
                                     "Record the exchange", "completeButton")
        self.new_button = named(QPushButton("&New exchange (Ctrl+N)", self), "New exchange",
                                "Clear the counter for the next person", "newExchangeButton")
        for button in (self.add_button, self.remove_button, self.override_button,
                       self.complete_button, self.new_button):
            button.setAutoDefault(True)
        self._lay_out()
        self._set_tab_order()

    def _lay_out(self) -> None:
        scan_row = QHBoxLayout()
        scan_row.addWidget(buddy_label("&Scan:", self.scan_field, self))
        scan_row.addWidget(self.scan_field, 1)
        scan_row.addWidget(self.add_button)
        lists = QGridLayout()
        lists.addWidget(buddy_label("&Returned (handed back):", self.return_list, self), 0, 0)
        lists.addWidget(buddy_label("&Issued (new):", self.issue_list, self), 0, 1)
        lists.addWidget(self.return_list, 1, 0)
        lists.addWidget(self.issue_list, 1, 1)
        checks = QHBoxLayout()
        for widget in (self.remove_button, self.courier_check, self.at_check):
            checks.addWidget(widget)
        checks.addStretch(1)
        actions = QHBoxLayout()
        actions.addWidget(self.new_button)
        actions.addStretch(1)
        actions.addWidget(self.override_button)
        actions.addWidget(self.complete_button)
        column = QVBoxLayout(self)
        column.addWidget(self.person_box)
        column.addLayout(scan_row)
        column.addLayout(lists, 1)
        column.addLayout(checks)
        column.addLayout(actions)

    def _set_tab_order(self) -> None:
        chain = [self.person_box.field, self.person_box.results, self.person_box.holdings,
                 self.scan_field, self.add_button, self.return_list, self.issue_list,
                 self.remove_button, self.courier_check, self.at_check, self.override_button,
                 self.complete_button, self.new_button]
        for first, second in zip(chain, chain[1:]):
            QWidget.setTabOrder(first, second)

    def _connect(self) -> None:
        self.person_box.identified.connect(self._on_person_identified)
        self.person_box.failed.connect(self.report)
        self.scan_field.returnPressed.connect(self._on_scan_entered)
        self.add_button.clicked.connect(self._on_scan_entered)
        for scanned in (self.return_list, self.issue_list):
            scanned.removal_requested.connect(self._remove)
            scanned.itemSelectionChanged.connect(lambda s=scanned: self._remember_list(s))
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.courier_check.toggled.connect(self._on_courier_toggled)
        self.at_check.toggled.connect(self._on_at_toggled)
        self.override_button.clicked.connect(self._on_override_clicked)
        self.complete_button.clicked.connect(self._on_complete_clicked)
        self.new_button.clicked.connect(self.new_exchange)
        for keys, slot in (("Ctrl+Return", self._on_complete_clicked),
                           ("Ctrl+Enter", self._on_complete_clicked),
                           ("Ctrl+N", self.new_exchange)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    # -- slots -------------------------------------------------------------------------------

    def _on_scan_entered(self) -> None:
        text = self.scan_field.text()
        self.scan_field.clear()
        if text.strip():
            self.accept_scan(text)
        self.focus_entry()

    def _on_person_identified(self, found: counter.Identified) -> None:
        person = found.person
        if person.staff_id != self.draft.staff_id:
            self.draft, self.devices = counter.Draft(staff_id=person.staff_id), {}
            self._render()
        self._show_allowance()
        steps = "scan the device they hand back, then the new device"
        if found.awaiting_collection:
            steps = ("a courier exchange is open: nothing more can be issued until "
                     + ", ".join(found.awaiting_collection) + " is collected (Collections, Ctrl+4)")
        self._recheck(Outcome(Tone.INFO, f"{person.name} ({person.staff_id}): {steps}."))
        self.focus_entry()

    def _on_remove_clicked(self) -> None:
        tag = self._last_list.selected_tag() if self._last_list is not None else None
        if tag:
            self._remove(tag)
        self.focus_entry()

    def _on_courier_toggled(self, on: bool) -> None:
        self._change(replace(self.draft, courier=on), f"Courier {'on' if on else 'off'}.")

    def _on_at_toggled(self, on: bool) -> None:
        words = "confirmed" if on else "not confirmed"
        self._change(replace(self.draft, at_confirmed=on), f"Assistive technology {words}.")

    def _on_override_clicked(self) -> None:
        if not self.check.needs_override:
            return
        request = OverrideDialog.ask(self, self.session.ctx, self.check.violations)
        self.focus_entry()
        if request is None:
            self.report(Outcome(Tone.INFO, "override cancelled; nothing was recorded"))
            return
        rules = ", ".join(sorted({v.code for v in self.check.violations}))
        self._change(replace(self.draft, override=request),
                     f"Override of {rules} authorised by {request.lead_staff_id.upper()}.")

    def _on_complete_clicked(self) -> None:
        self._recheck(None, quiet=True)
        if not self.complete_button.isEnabled():
            why = self._describe(Outcome(Tone.INFO, "Not completed; nothing was saved."))
            self.report(Outcome(Tone.REFUSED, why.text))
            return
        operator, command = self.session.operator, self.draft.command()
        try:
            receipt = exchanges.record_exchange(self.session.ctx, operator, command)
        except Exception as exc:  # noqa: BLE001 - a refusal is shown, never a dialog
            if command.override is not None:
                self.draft = replace(self.draft, override=None)
                self._update_buttons()
            self.report(outcome_for_error(exc))
            return
        self._after_completion(receipt)

    # -- private -----------------------------------------------------------------------------

    def _identify(self, text: str, first: str = "") -> None:
        if not self.draft.empty:
            self.report(Outcome(Tone.REFUSED, f"{self.person_box.person.name}'s exchange is not "
                                "finished: complete it, or remove its scans, or press Ctrl+N "
                                "for a new exchange first"))
            return
        self.person_box.identify(text, first)

    def _place(self, text: str) -> None:
        try:
            placement = counter.place_scan(self.session.ctx, self.draft, text)
        except Exception as exc:  # noqa: BLE001 - bad input is a refusal in the banner
            self.report(outcome_for_error(exc))
            return
        if placement.badge is not None:
            self._identify(placement.badge.staff_id)
        elif placement.duplicate:
            self.report(Outcome(Tone.INFO, f"{placement.tag} is already in "
                                f"{placement.side.words}: scan the next device"))
        else:
            self.devices[placement.tag] = placement.device
            self._change(self.draft.with_scan(placement),
                         f"{placement.tag} → {placement.side.words}.", scanned=True)
        self.focus_entry()

    def _remember_list(self, scanned: ScannedList) -> None:
        if scanned.selected_tag():
            self._last_list = scanned

    def _remove(self, tag: str) -> None:
        self._change(self.draft.without(tag), f"Removed {tag}.")

    def _change(self, draft: counter.Draft, lead: str, scanned: bool = False) -> None:
        self.draft = draft
        self._render()
        self.draft_changed.emit(draft)
        self._recheck(Outcome(Tone.SCANNED if scanned else Tone.INFO, lead))

    def _recheck(self, lead: Outcome | None, quiet: bool = False) -> None:
        """Ask the domain what still stops completion; show it (unless quiet)."""
        self.check = counter.check_draft(self.session.ctx, self.draft)
        self._update_buttons()
        if not quiet and lead is not None:
            self.report(self._describe(lead))

    def _describe(self, lead: Outcome) -> Outcome:
        return describe_check(lead, self.check, self.draft)

    def _update_buttons(self) -> None:
        overridden = self.draft.override is not None
        self.complete_button.setEnabled(self.check.can_complete(overridden))
        self.override_button.setEnabled(self.check.needs_override and not overridden)
        self.remove_button.setEnabled(not self.draft.empty)

    def _render(self) -> None:
        self.return_list.show_devices(self.draft.returned, self.devices)
        self.issue_list.show_devices(self.draft.issued, self.devices)
        for check, on in ((self.courier_check, self.draft.courier),
                          (self.at_check, self.draft.at_confirmed)):
            check.blockSignals(True)
            check.setChecked(on)
            check.blockSignals(False)
        self._update_buttons()

    def _show_allowance(self) -> None:
        try:
            left = counter.courier_allowance(self.session.ctx).remaining
        except Exception:  # noqa: BLE001 - the label is informative only
            return
        self.courier_check.setText(f"Co&urier (R5: shielding only; {left} courier laptop"
                                   f"{'' if left == 1 else 's'} left at this station)")
        self.courier_check.setAccessibleDescription(
            f"Send the new device by courier; only for formally shielding staff. This station may "
            f"send {left} more laptop{'' if left == 1 else 's'} by courier now.")

    def _after_completion(self, receipt: ExchangeReceipt) -> None:
        self.last_receipt = receipt
        self.draft, self.devices = counter.Draft(staff_id=self.draft.staff_id), {}
        self._render()
        self.person_box.reload()
        self._show_allowance()
        self.report(Outcome(Tone.SUCCESS, completion_words(receipt)))
        self.exchange_completed.emit(receipt)
        self.focus_entry()

