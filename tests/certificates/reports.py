"""Report files written by the tests, in each format the station reads.

The nwipe PDF is laid out as nwipe's `create_single_disc_pdf.c` draws it (same labels, same
positions, same drawing order, PDFGen-style uncompressed `Tj` text), because no real nwipe
certificate is public. The Blancco raw XML follows the structure the public parsers read.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "sanitisation"


def sample_files(pattern: str) -> list[Path]:
    """The real samples matching `pattern`, or none on a clone without the shared folder."""
    return sorted(SAMPLES.glob(pattern)) if SAMPLES.is_dir() else []


# -- Blancco ---------------------------------------------------------------------------------

def blancco_raw(path: Path, *, system_serial: str = "5CG1234ABC", uuid: str = "",
                disks: tuple = (("WD-WX11A1234567", "Successful", "SATA"),),
                boot_stick: str | None = "USB-BOOT-0001", document_id: str = "d0c-0001",
                signed: bool = True, end_time: str = "2030-01-10 11:58:47",
                standard: str = "NIST 800-88 Purge", failure: str = "") -> Path:
    def entry(name: str, value: str, kind: str = "string") -> str:
        return f'<entry name="{name}" type="{kind}">{escape(value)}</entry>'

    erasures = "".join(
        '<entries name="erasure">'
        + entry("timestamp", "2030-01-10T10:52:06+0000") + entry("start_time", "2030-01-10 10:52:06")
        + entry("end_time", end_time) + entry("erasure_standard_name", standard)
        + entry("state", state) + entry("overwriting_rounds", "1", "uint")
        + ('<entries name="erasure_details"><entries name="failure">' + entry("message", failure)
           + "</entries></entries>" if failure and state != "Successful" else "")
        + '<entries name="target">' + entry("serial", serial) + entry("model", "Disk model")
        + entry("vendor", "WDC") + entry("interface_type", interface)
        + entry("capacity", "512110190592", "uint") + "</entries></entries>"
        for serial, state, interface in disks)
    hardware = "".join(
        '<entries name="disk">' + entry("serial", serial) + entry("interface_type", interface)
        + entry("model", "Disk model") + "</entries>" for serial, _, interface in disks)
    if boot_stick:
        hardware += ('<entries name="disk">' + entry("serial", boot_stick)
                     + entry("interface_type", "USB") + entry("model", "SanDisk Cruzer")
                     + "</entries>")
    integrity = "<integrity>r2L0YTHT2aEgKSS4uNkV==</integrity><key>None</key>" if signed else ""
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<root><report><blancco_data>
  <description><document_id>{document_id}</document_id>
    <document_log><log_entry><author><product_name>Blancco Drive Eraser</product_name>
      <product_version>7.9.1</product_version></author><date>2030-01-10T12:00:00+0000</date>
      {integrity}</log_entry></document_log></description>
  <blancco_erasure_report><entries name="erasures">{erasures}</entries></blancco_erasure_report>
  <blancco_hardware_report>
    <entries name="system">{entry("manufacturer", "HP")}{entry("model", "EliteBook 840 G3")}
      {entry("serial", system_serial)}{entry("uuid", uuid)}</entries>
    <entries name="disks">{hardware}</entries>
  </blancco_hardware_report>
</blancco_data>
<user_data><entries name="fields">{entry("erasure_person", "Eve Engineer")}</entries></user_data>
</report></root>
"""
    path.write_text(xml, encoding="utf-8")
    return path


def blancco_flattened(path: Path, *, system_serial: str = "F4HQJLLCGRY8",
                      disk_serial: str = "IMEI:353314074717628", state: str = "Successful",
                      document_id: str = "8b107935-0000-4aa8-b8d7-b37fa6dd1396") -> Path:
    fields = {
        "erasure.timestamp": "2030-01-10T10:52:06+0900", "erasure.end_time": "2030-01-10 10:58:47",
        "erasure.start_time": "2030-01-10 10:52:06", "erasure.state": state,
        "erasure.erasure_standard_name": "Apple iOS erasure",
        "erasure.target.serial": disk_serial, "erasure.target.type": "Internal memory",
        "description.document_id": document_id,
        "description.document_log.log_entry.author.product_name": "Blancco 5 Mobile",
        "description.document_log.log_entry.author.product_version": "3.11",
        "description.document_log.log_entry.integrity": "r2L0YTHT2aEg==",
        "hardware.system.serial": system_serial, "hardware.system.model": "iPhone 6S",
        "disk.serial": disk_serial, "disk.type": "Internal memory",
    }
    body = "".join(f"  <{k}>{escape(v)}</{k}>\n" for k, v in fields.items())
    path.write_text(f'<?xml version="1.0" encoding="UTF-8" ?>\n<DATAWIPE>\n<UNIT>\n{body}</UNIT>\n'
                    "</DATAWIPE>", encoding="utf-8")
    return path


# -- usody-sanitize --------------------------------------------------------------------------

def usody_json(path: Path, *, serial: str = "S3Z9NB0K123456", bridge: str | None = None,
               result: bool = True, start: float = 1_900_000_000.0) -> Path:
    steps = [{"start_time": start, "end_time": start + 3600, "success": result,
              "commands": [{"command": "shred --iterations=1 /dev/sda", "return_code": 0,
                            "success": result}]}] if result else []
    data = {"device_info": {"manufacturer": "ASMT", "model": "Disk", "serial_number":
                            bridge or serial, "connector": "block:scsi:usb:pci:platform"
                            if bridge else "block:scsi:pci", "storage_medium": "HDD",
                            "export_data": {"block": {"serial": bridge or serial, "tran":
                                                      "usb" if bridge else "sata"},
                                            "smart": {"serial_number": serial,
                                                      "model_name": "Samsung SSD 860",
                                                      "device": {"protocol": "ATA"},
                                                      "user_capacity": {"bytes": 500107862016}}}},
            "method": {"name": "Basic Erasure", "standard": "", "removal_process": "Overwriting"},
            "steps": steps, "validation": {"result": result}, "result": result,
            "version": "0.1.1-beta1"}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# -- nwipe log -------------------------------------------------------------------------------

def nwipe_log(path: Path, *, system_serial: str = "5CG1234ABC",
              disks: tuple = (("sda", " Erased ", "WDC WD5000LPLX-7/WD-WX11A1234567"),),
              day: str = "2030/01/10", method: str = "DoD Short") -> Path:
    rows = "".join(f"{'!' if 'FAIL' in status else ' '}     {dev} |{status}|  120MB/s | "
                   f"01:25:04 | {model_serial}\n" for dev, status, model_serial in disks)
    path.write_text(
        f"[{day} 09:00:01] nwipe: notice: nwipe version 0.38\n"
        f"[{day} 09:00:01]    info: system-serial-number = {system_serial}\n"
        f"[{day} 09:00:01]    info: system-uuid = 4C4C4544-0042-3010-8052-B4C04F4E3332\n"
        f"[{day} 09:00:05]  notice: Invoking method '{method}' on /dev/sda\n"
        "********************************* Drive Status *********************************\n"
        "!   Device | Status | Thru-put | HH:MM:SS | Model/Serial Number\n"
        "--------------------------------------------------------------------------------\n"
        + rows
        + "--------------------------------------------------------------------------------\n"
        f"[{day} 10:25:10]  notice: Total Throughput 120MB/s, {method}, 1R+B+VL\n",
        encoding="utf-8")
    return path


# -- nwipe PDF -------------------------------------------------------------------------------

def nwipe_pdf(path: Path, *, serial: str = "WD-WX11A1234567", status: str = "ERASED",
              model: str = "WDC WD5000LPLX-7", method: str = "DoD Short",
              end: str = "2030/01/10 10:25:04", host_serial: str | None = None,
              hidden_warning: bool = False, errors: str = "0/0/0", info: bool = True) -> Path:
    texts: list[tuple[str, float, float]] = [("Disc Erasure by NWIPE version 0.38", 200, 30)]
    if host_serial is not None:
        texts += [(f" Disk Model: {model} ", 200, 718), (f" Disk S/N: {serial} ", 200, 703),
                  (f" System S/N: {host_serial} ", 200, 688),
                  (" System uuid: 4C4C4544-0042-3010-8052-B4C04F4E3332 ", 200, 673)]
    else:
        texts += [(f" Disk Model: {model} ", 200, 696), (f" Disk S/N: {serial} ", 200, 681)]
    texts += [("Disk Erasure Report", 180, 765), ("Page 1 - Erasure Status", 220, 745),
              ("Organisation Performing The Disk Erasure", 50, 630), ("Business Name:", 60, 610),
              ("Business Address:", 60, 590), ("Contact Name:", 60, 570),
              ("Contact Phone:", 300, 570), ("Essex Police ICT", 153, 610),
              ("Hutton HQ", 165, 590), ("Ada Admin", 145, 570), ("01245 000000", 390, 570),
              ("Customer Details", 50, 530), ("Name:", 60, 510), ("Address:", 60, 490),
              ("Contact Name:", 60, 470), ("Contact Phone:", 300, 470),
              ("Disk Information", 50, 430), ("Make/Model:", 60, 410), (model, 135, 410),
              ("Serial:", 340, 410), (serial, 380, 410), ("Bus:", 340, 390), ("ATA", 370, 390),
              ("Size(Apparent): ", 60, 390), ("500GB, 500107862016 bytes", 145, 390),
              ("Size(Real):", 60, 370), ("500GB,500107862016b", 125, 370),
              ("Disk Erasure Details", 50, 330), ("Start time:", 60, 310),
              ("2030/01/10 09:00:00", 120, 310), ("End time:", 300, 310), (end, 360, 310),
              ("Duration:", 60, 290), ("01:25:04", 115, 290), ("Status:", 300, 290),
              (status, 365, 290)]
    if hidden_warning:
        texts.append(("See Warning !", 450, 290))
    texts += [("Method:", 60, 270), (method, 110, 270), ("PRNG algorithm:", 300, 270),
              ("Isaac64 (CSPRNG)", 395, 270), ("Final Pass(Zeros/Ones/None):", 60, 250),
              ("Zeros", 230, 250), ("Verify Pass(Last/All/None):", 300, 250), ("Last", 450, 250),
              ("*Bytes Erased:", 60, 230), ("500107862016, (100.00%)", 150, 230),
              ("Rounds(completed/requested):", 300, 230), ("1/1", 470, 230),
              ("HPA/DCO:", 60, 210), ("HPA/DCO Size:", 300, 210),
              ("No hidden sectors", 390, 210), ("Disabled", 130, 210),
              ("Throughput:", 300, 190), ("98MB/s/sec", 370, 190),
              ("Errors(pass/sync/verify):", 60, 190), (errors, 195, 190),
              ("Information:", 60, 170)]
    if hidden_warning:
        texts += [("Warning", 140, 170),
                  ("Visible sectors erased as requested, however hidden sectors NOT erased",
                   200, 170)]
    texts += [("* bytes erased: The amount of drive that's been erased at least once", 60, 137),
              ("Technician/Operator ID", 50, 100), ("Name/ID:", 60, 80), ("Signature:", 300, 100),
              ("Eve Engineer", 120, 80)]
    metadata = {"Title": "PDF Disk Erasure Certificate", "Author": "Nwipe",
                "Producer": "https://github.com/martijnvanbrummelen/nwipe",
                "Creator": "https://github.com/PartialVolume/shredos.x86_64",
                "Subject": "Disk Erase Certificate"} if info else {"Title": "Invoice"}
    path.write_bytes(simple_pdf(texts, metadata))
    return path


def simple_pdf(texts: list[tuple[str, float, float]], info: dict[str, str]) -> bytes:
    """A one-page PDF with uncompressed text runs (as PDFGen writes them) and an /Info dict."""
    def literal(text: str) -> str:
        return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"

    stream = "".join(f"BT /F1 10 Tf {x} {y} Td {literal(t)} Tj ET\n" for t, x, y in texts)
    info_dict = " ".join(f"/{k} {literal(v)}" for k, v in info.items())
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R "
        "/Resources << /Font << /F1 4 0 R >> >> >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}endstream",
        f"<< {info_dict} >>",
    ]
    out, offsets = bytearray(b"%PDF-1.3\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)
