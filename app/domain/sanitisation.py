"""R6, the release gate: a device leaves only with a sanitisation certificate that matches it.

The domain's view of a certificate (whatever tool wrote it) and its per-disk records, the
field-by-field check of a certificate against a device (`assess`), and the release gate
(`release_violations`). The readers of real erasure reports live in `app/certificates/`.
Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from app.domain.devices import Device, DeviceState
from app.domain.rules import RuleViolation

#: Serials that name nothing: tools' anonymised output and BIOS placeholders (normalised form).
_ANONYMISED = re.compile(r"^(X+|\?+|UNKNOWN|N/?A|NONE|NULL|0+|0123456789|DEFAULTSTRING|"
                         r"TOBEFILLEDBYO\.?E\.?M\.?|SYSTEMSERIALNUMBER|CHASSISSERIALNUMBER|"
                         r"NOTSPECIFIED|NOTAVAILABLE|NOTAPPLICABLE|INVALID)?$")


class Route(str, Enum):
    REUSE = "reuse"
    WEEE = "weee"


class Outcome(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    WARNING = "warning"
    ABORTED = "aborted"


class MethodCategory(str, Enum):
    """NIST SP 800-88 / IEEE 2883 categories; NONE is a method that does not sanitise."""

    CLEAR = "Clear"
    PURGE = "Purge"
    DESTRUCT = "Destruct"
    NONE = "none"


def normalise_serial_for_match(serial: str | None) -> str:
    """Serials compare without case, spaces, '-' or '_'; anonymised ones become ''."""
    cleaned = re.sub(r"[\s\-_]", "", serial or "").upper()
    return "" if _ANONYMISED.match(cleaned) else cleaned


def is_anonymised(serial: str | None) -> bool:
    """True for a serial that is present but names nothing (`XXXXXXXX`, `Unknown`...)."""
    return bool((serial or "").strip()) and not normalise_serial_for_match(serial)


@dataclass(frozen=True)
class SanitisedDisk:
    """One storage device in a report. `other_serials` (a USB bridge's, say) never match."""

    serial: str
    model: str = ""
    vendor: str = ""
    interface: str = ""
    capacity_bytes: int | None = None
    outcome: Outcome = Outcome.PASS
    outcome_raw: str = ""
    is_boot_media: bool = False
    other_serials: tuple[str, ...] = ()
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS


@dataclass(frozen=True)
class ReportOrigin:
    """Where a certificate came from: the original file's name, hash and the reader."""

    filename: str
    sha256: str
    size_bytes: int
    media_type: str
    reader: str
    reader_version: str


@dataclass(frozen=True)
class Certificate:
    """A sanitisation certificate as the gate sees it, whatever tool wrote it.

    `disks` may be given as plain serials, which stand for passing internal disks.
    `attested_tag` is set for manual entries: the operator and validator attest which device.
    """

    certificate_id: str
    system_serial: str
    disks: tuple[SanitisedDisk, ...]
    passed: bool
    physical_destruction: bool = False
    source: str = "manual"
    signed: bool = False
    signature: str = ""
    system_uuid: str = ""
    system_model: str = ""
    tool: str = ""
    tool_version: str = ""
    method: str = ""
    method_category: str = ""
    outcome_raw: str = ""
    failure_message: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    operator_name: str = ""
    attested_tag: str = ""
    warnings: tuple[str, ...] = ()
    origin: ReportOrigin | None = None

    def __post_init__(self) -> None:
        disks = tuple(d if isinstance(d, SanitisedDisk) else SanitisedDisk(str(d))
                      for d in self.disks)
        object.__setattr__(self, "disks", disks)

    @property
    def disk_serials(self) -> tuple[str, ...]:
        return tuple(d.serial for d in self.disks)

    @property
    def internal_disks(self) -> tuple[SanitisedDisk, ...]:
        return tuple(d for d in self.disks if not d.is_boot_media)

    def matches(self, device: Device, known_disks: tuple[str, ...] = ()) -> bool:
        report = assess(self, DeviceEvidence(device, known_disks))
        return report.identified and not report.mismatches_of(IDENTITY_CHECKS)


class Verdict(str, Enum):
    MATCH = "match"
    MISMATCH = "mismatch"
    INFO = "info"


@dataclass(frozen=True)
class FieldCheck:
    """One line of the comparison the bench shows: what the report says, what we know."""

    name: str
    report: str
    device: str
    verdict: Verdict
    note: str = ""

    @property
    def reason(self) -> str:
        return f"{self.name}: {self.note}" if self.note else self.name


@dataclass(frozen=True)
class DeviceEvidence:
    """What the station knows when it checks a certificate against a device.

    `validated` None skips the second-person check (the gate at release, where it was done at
    recording); `certified_elsewhere` is the tag of another device this report already certified.
    """

    device: Device
    known_disks: tuple[str, ...] = ()
    known_uuid: str = ""
    returned_at: datetime | None = None
    validated: bool | None = None
    certified_elsewhere: str | None = None


#: The checks that say whether a report is about this device (names start with these).
IDENTITY_CHECKS = ("System serial", "System UUID", "Attested device", "Disk ", "Identity")


@dataclass(frozen=True)
class Assessment:
    tag: str
    certificate: Certificate
    checks: tuple[FieldCheck, ...]
    identified: bool

    @property
    def accepted(self) -> bool:
        return self.identified and not any(c.verdict is Verdict.MISMATCH for c in self.checks)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(c.reason for c in self.checks if c.verdict is Verdict.MISMATCH)

    def mismatches_of(self, prefixes: tuple[str, ...]) -> tuple[FieldCheck, ...]:
        return tuple(c for c in self.checks
                     if c.verdict is Verdict.MISMATCH and c.name.startswith(prefixes))

    def violation(self) -> RuleViolation:
        return RuleViolation("R6", f"report {self.certificate.certificate_id} does not release "
                             f"{self.tag}: " + "; ".join(self.reasons))


def assess(certificate: Certificate, evidence: DeviceEvidence) -> Assessment:
    """Compare `certificate` with what is known of the device, field by field."""
    checks: list[FieldCheck] = [_result_check(certificate), *_method_checks(certificate)]
    identity = _identity_checks(certificate, evidence)
    disks, all_known_disks_found = _disk_checks(certificate, evidence.known_disks)
    identified = all_known_disks_found or any(c.verdict is Verdict.MATCH for c in identity)
    checks += identity + disks
    if not identified:
        checks.append(FieldCheck("Identity", "", evidence.device.tag, Verdict.MISMATCH,
                                 "nothing in the report identifies the device: it names no "
                                 "matching system serial, and no disk serials are recorded for "
                                 "the device (record them with `disks TAG --serial S...`)"))
    checks += _time_checks(certificate, evidence.returned_at)
    checks += _use_checks(certificate, evidence)
    return Assessment(evidence.device.tag, certificate, tuple(checks), identified)


def release_violations(device: Device, certificate: Certificate | None, route: Route,
                       known_disks: tuple[str, ...] = (),
                       returned_at: datetime | None = None) -> list[RuleViolation]:
    """R6: what stops `device` leaving by `route` with `certificate` (its approved one)."""
    if certificate is None:
        return [RuleViolation("R6", f"{device.tag} has no sanitisation certificate: record one "
                              "before it leaves")]
    destroyed = certificate.physical_destruction
    if destroyed and route is not Route.WEEE:
        return [RuleViolation("R6", f"the storage of {device.tag} was physically destroyed "
                              f"(certificate {certificate.certificate_id}): it can only go to "
                              "WEEE disposal")]
    allowed = {DeviceState.SANITISED} | ({DeviceState.RETURNED} if destroyed else set())
    if device.state not in allowed:
        return [RuleViolation("R6", f"{device.tag} is {device.state.value}, not sanitised: it "
                              "cannot be released")]
    if not certificate.passed:
        return [RuleViolation("R6", f"certificate {certificate.certificate_id} did not pass")]
    report = assess(certificate, DeviceEvidence(device, known_disks, returned_at=returned_at))
    if not report.accepted:
        return [RuleViolation("R6", f"certificate {certificate.certificate_id} does not match "
                              f"{device.tag}: " + "; ".join(report.reasons))]
    return []


# -- what the station records --------------------------------------------------------------

@dataclass(frozen=True)
class RecordedCertificate:
    """An approved certificate as stored for a device."""

    id: str
    tag: str
    certificate: Certificate
    recorded_at: str
    recorded_by: str
    validated_by: str | None
    returned_at: str | None
    site: str
    stored_path: str
    checks: tuple[FieldCheck, ...] = ()


@dataclass(frozen=True)
class ReviewEntry:
    """A report that was read but refused, waiting for someone to look at it."""

    id: int
    tag: str
    source: str
    report_id: str
    sha256: str
    filename: str
    reasons: tuple[str, ...]
    operator: str
    created_at: str
    status: str
    checks: tuple[FieldCheck, ...] = ()


@dataclass(frozen=True)
class Release:
    """Where a device went, with which certificate, in which collection."""

    tag: str
    route: Route
    recipient: str
    collection: str
    transfer_note: str | None
    certificate_id: str
    released_at: str
    operator: str
    site: str


# -- the checks ------------------------------------------------------------------------------

def _result_check(c: Certificate) -> FieldCheck:
    shown = c.outcome_raw or ("pass" if c.passed else "fail")
    if c.passed:
        return FieldCheck("Result", shown, "pass needed", Verdict.MATCH)
    why = c.failure_message or (", ".join(c.warnings) if c.warnings else "the report is not a pass")
    return FieldCheck("Result", shown, "pass needed", Verdict.MISMATCH, why)


def _method_checks(c: Certificate) -> list[FieldCheck]:
    method = c.method or "(not stated)"
    if c.method_category == MethodCategory.NONE.value:
        return [FieldCheck("Method", method, "Clear, Purge or Destruct", Verdict.MISMATCH,
                           f"{method} does not sanitise (it only verifies or is unknown)")]
    verdict = Verdict.MATCH if c.method_category else Verdict.INFO
    shown = f"{method} ({c.method_category})" if c.method_category else method
    return [FieldCheck("Method", shown, "Clear, Purge or Destruct", verdict)]


def _identity_checks(c: Certificate, ev: DeviceEvidence) -> list[FieldCheck]:
    device, checks = ev.device, []
    if c.attested_tag:
        same = c.attested_tag.strip().upper() == device.tag
        checks.append(FieldCheck("Attested device", c.attested_tag, device.tag,
                                 Verdict.MATCH if same else Verdict.MISMATCH,
                                 "" if same else "the entry was made for another device"))
    if c.system_serial.strip() or not c.attested_tag:
        checks.append(_compare("System serial", c.system_serial, device.serial,
                               absent_note="not in the report"))
    if c.system_uuid.strip():
        checks.append(_compare("System UUID", c.system_uuid, ev.known_uuid,
                               absent_note="", unknown_note="not recorded for the device"))
    return checks


def _compare(name: str, reported: str, known: str, *, absent_note: str,
             unknown_note: str = "") -> FieldCheck:
    if not reported.strip():
        return FieldCheck(name, "", known, Verdict.INFO, absent_note)
    if is_anonymised(reported):
        return FieldCheck(name, reported, known, Verdict.MISMATCH,
                          f"'{reported}' is anonymised or a placeholder and never matches")
    if not normalise_serial_for_match(known):
        return FieldCheck(name, reported, known, Verdict.INFO, unknown_note)
    same = normalise_serial_for_match(reported) == normalise_serial_for_match(known)
    return FieldCheck(name, reported, known, Verdict.MATCH if same else Verdict.MISMATCH,
                      "" if same else f"the report says {reported}, the device is {known}")


def _disk_checks(c: Certificate, known_disks: tuple[str, ...]) -> tuple[list[FieldCheck], bool]:
    """A check per known disk and per other disk in the report; and whether every known disk
    (at least one) was found in the report."""
    internal = {normalise_serial_for_match(d.serial): d for d in c.internal_disks}
    checks, known = [], [k for k in known_disks if normalise_serial_for_match(k)]
    for serial in known:
        disk = internal.get(normalise_serial_for_match(serial))
        if disk is None:
            checks.append(FieldCheck(f"Disk {serial}", "not in the report", serial,
                                     Verdict.MISMATCH, "this internal disk is not in the report"))
        else:
            checks.append(FieldCheck(
                f"Disk {serial}", f"{disk.serial} {disk.outcome_raw or disk.outcome.value}",
                serial, Verdict.MATCH if disk.passed else Verdict.MISMATCH,
                "" if disk.passed else f"the disk was not sanitised ({disk.outcome.value})"))
    known_norm = {normalise_serial_for_match(k) for k in known}
    found = bool(known) and all(ch.report != "not in the report" for ch in checks)
    for disk in c.disks:
        checks.extend(_extra_disk_check(disk, known_norm, bool(known)))
    return checks, found


def _extra_disk_check(disk: SanitisedDisk, known: set[str], any_known: bool) -> list[FieldCheck]:
    label = f"Disk {disk.serial or '(no serial)'}"
    if disk.is_boot_media:
        return [FieldCheck(label, disk.serial, "", Verdict.INFO, "USB boot media, ignored")]
    if not disk.serial.strip() or is_anonymised(disk.serial):
        return [FieldCheck(label, disk.serial, "", Verdict.MISMATCH,
                           "disk serial anonymised or missing: it can never be matched")]
    if normalise_serial_for_match(disk.serial) in known:
        return []
    note = "in the report, not recorded for the device" if any_known else "in the report"
    bridge = f" (bridge serial {', '.join(disk.other_serials)} ignored)" if disk.other_serials else ""
    return [FieldCheck(label, f"{disk.serial} {disk.outcome_raw or disk.outcome.value}", "",
                       Verdict.INFO, note + bridge)]


def _time_checks(c: Certificate, returned_at: datetime | None) -> list[FieldCheck]:
    finished = c.finished_at.isoformat(sep=" ", timespec="seconds") if c.finished_at else ""
    if returned_at is None:
        return [FieldCheck("Finished", finished, "", Verdict.INFO, "")] if finished else []
    returned = returned_at.isoformat(sep=" ", timespec="seconds")
    if c.finished_at is None:
        return [FieldCheck("Finished", "", f"after {returned}", Verdict.MISMATCH,
                           "the report has no finish time")]
    later = _aware(c.finished_at) > _aware(returned_at)
    return [FieldCheck("Finished", finished, f"after {returned}",
                       Verdict.MATCH if later else Verdict.MISMATCH,
                       "" if later else "the wipe finished before the device was returned")]


def _use_checks(c: Certificate, ev: DeviceEvidence) -> list[FieldCheck]:
    checks = []
    if ev.certified_elsewhere:
        checks.append(FieldCheck("Report reuse", c.certificate_id, ev.device.tag,
                                 Verdict.MISMATCH, "this report already certified "
                                 f"{ev.certified_elsewhere}: one report, one device"))
    if ev.validated is not None and not c.signed:
        checks.append(FieldCheck(
            "Validation", f"unsigned ({c.source})", "a second person",
            Verdict.MATCH if ev.validated else Verdict.MISMATCH,
            "" if ev.validated else "an unsigned report needs a second person's validation "
            "(a site lead with --validated-by)"))
    return checks


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.astimezone()


def with_origin(certificate: Certificate, origin: ReportOrigin) -> Certificate:
    return replace(certificate, origin=origin)


__all__ = ["Assessment", "Certificate", "DeviceEvidence", "FieldCheck", "MethodCategory",
           "Outcome", "RecordedCertificate", "Release", "ReportOrigin", "ReviewEntry", "Route",
           "SanitisedDisk", "Verdict", "assess", "is_anonymised", "normalise_serial_for_match",
           "release_violations", "with_origin"]
