"""Asset tags: scanner noise stripped, the station pattern enforced."""

import pytest

from app.domain.people import Operator, Permission, Role
from app.domain.rules import BadInput, RoleRefused
from app.domain.tags import AssetTag, clean_scan


@pytest.mark.parametrize("scanned", ["]C0LT-000123\r\n", "lt-000123", "  LT-000123\t", "]A0LT-000123",
                                     "LT-000123\n"])
def test_scanner_noise_is_stripped(scanned):
    assert AssetTag.parse(scanned).value == "LT-000123"


@pytest.mark.parametrize("bad", ["", "123", "ABC", "1ABC-22", "A" * 21, "LT_0001", "LT 0001"])
def test_text_outside_the_pattern_is_refused_with_a_message(bad):
    with pytest.raises(BadInput, match="not an asset tag"):
        AssetTag.parse(bad)


def test_pattern_is_configurable():
    assert AssetTag.parse("mps123456", r"MPS\d{6}").value == "MPS123456"
    with pytest.raises(BadInput, match="station pattern"):
        AssetTag.parse("LT-0001", r"MPS\d{6}")


def test_control_characters_are_shown_not_swallowed_in_messages():
    with pytest.raises(BadInput) as error:
        AssetTag.parse("\x1d01")
    assert "01" in error.value.user_message
    assert clean_scan("\x1dLT-1234\x04") == "LT-1234"


def test_roles_allow_what_the_brief_says():
    engineer = Operator("E1", "Eve", Role.ENGINEER)
    lead = Operator("L1", "Lee", Role.SITE_LEAD)
    admin = Operator("A1", "Ada", Role.ADMIN)
    assert engineer.may(Permission.EXCHANGE) and engineer.may(Permission.CERTIFY)
    assert not engineer.may(Permission.OVERRIDE) and lead.may(Permission.OVERRIDE)
    assert not lead.may(Permission.IMPORT) and admin.may(Permission.IMPORT)
    with pytest.raises(RoleRefused, match="ask a site lead"):
        engineer.require(Permission.RELEASE)
