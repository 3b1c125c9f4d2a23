"""Choosing the asset tag among everything one frame read."""

from __future__ import annotations

from app.domain.tags import AssetTag
from app.scanning.reads import BarcodeRead, Symbology
from app.scanning.tag_choice import choose_tag

STATION = r"IT-\d{6}"
SQUARE = ((0, 0), (10, 0), (10, 10), (0, 10))


def read(text: str, symbology: Symbology = Symbology.CODE128) -> BarcodeRead:
    return BarcodeRead(symbology, text, SQUARE)


def register(**serials: str):
    """A lookup over a register of serial -> asset tag, recording what it was asked."""
    asked = []

    def lookup(text: str) -> str | None:
        asked.append(text)
        return serials.get(text)

    lookup.asked = asked
    return lookup


def test_the_label_that_matches_the_pattern_is_the_tag():
    choice = choose_tag([read("5CG8123XYZ"), read("IT-004217")], STATION)
    assert choice.asset_tag == AssetTag("IT-004217")
    assert choice.via == "label"
    assert [r.text for r in choice.others] == ["5CG8123XYZ"]


def test_scanner_noise_and_lower_case_are_cleaned_from_the_tag():
    choice = choose_tag([read("]C0it-004217\r\n")], STATION)
    assert choice.asset_tag == AssetTag("IT-004217")


def test_a_known_serial_resolves_to_its_device_and_both_are_reported():
    lookup = register(**{"5CG8123XYZ": "IT-004217"})
    choice = choose_tag([read("5CG8123XYZ"), read("IT-004217")], STATION, lookup)
    assert choice.asset_tag == AssetTag("IT-004217")
    assert choice.via == "label and serial"
    assert choice.serial.text == "5CG8123XYZ" and choice.label.text == "IT-004217"
    assert choice.serial_tag == AssetTag("IT-004217")


def test_a_known_serial_alone_gives_the_tag():
    choice = choose_tag([read("5cg8123xyz ")], STATION, register(**{"5CG8123XYZ": "IT-004217"}))
    assert choice.asset_tag == AssetTag("IT-004217")
    assert choice.via == "serial" and choice.label is None


def test_the_lookup_gets_the_normalised_serial():
    lookup = register()
    choose_tag([read(" 5cg8123xyz\n")], STATION, lookup)
    assert lookup.asked == ["5CG8123XYZ"]


def test_a_serial_that_looks_like_a_tag_is_still_the_serial_when_the_register_knows_it():
    lookup = register(**{"CNK8181G2C": "PC-000101"})
    choice = choose_tag([read("CNK8181G2C"), read("PC-000101")], lookup_serial=lookup)
    assert choice.asset_tag == AssetTag("PC-000101")
    assert choice.via == "label and serial"


def test_label_and_serial_of_different_devices_give_no_tag_and_say_why():
    lookup = register(**{"5CG8123XYZ": "IT-000999"})
    choice = choose_tag([read("IT-004217"), read("5CG8123XYZ")], STATION, lookup)
    assert choice.asset_tag is None
    assert "IT-004217" in choice.problem and "IT-000999" in choice.problem
    assert choice.label is not None and choice.serial is not None


def test_two_tags_in_view_give_no_tag():
    choice = choose_tag([read("IT-004217"), read("IT-004218", Symbology.QR)], STATION)
    assert choice.asset_tag is None
    assert "IT-004217 and IT-004218" in choice.problem
    assert len(choice.others) == 2


def test_with_the_loose_default_pattern_an_unknown_letter_serial_makes_the_choice_ambiguous():
    choice = choose_tag([read("IT-004217"), read("CNK8181G2C")])
    assert choice.asset_tag is None and "CNK8181G2C and IT-004217" in choice.problem


def test_with_the_default_pattern_a_serial_starting_with_a_digit_is_not_a_tag():
    choice = choose_tag([read("IT-004217"), read("5CG8123XYZ")])
    assert choice.asset_tag == AssetTag("IT-004217")


def test_serials_of_two_devices_give_no_tag():
    lookup = register(**{"5CG1": "IT-000001", "5CG2": "IT-000002"})
    choice = choose_tag([read("5CG1"), read("5CG2")], STATION, lookup)
    assert choice.asset_tag is None and "two devices" in choice.problem


def test_the_same_tag_read_twice_is_one_tag():
    choice = choose_tag([read("IT-004217"), read("IT-004217", Symbology.DATA_MATRIX)], STATION)
    assert choice.asset_tag == AssetTag("IT-004217")


def test_nothing_that_looks_like_a_tag_gives_no_tag_and_no_problem():
    choice = choose_tag([read("9780201379624", Symbology.EAN13)], STATION, register())
    assert choice.asset_tag is None and choice.problem is None and choice.via is None
    assert choice.others[0].text == "9780201379624"


def test_a_text_of_several_lines_is_not_a_tag_even_if_it_would_clean_into_one():
    choice = choose_tag([read("Ada\r\nIT\tdesk", Symbology.QR)])
    assert choice.asset_tag is None and choice.others[0].text == "Ada\r\nIT\tdesk"
