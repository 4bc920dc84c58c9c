"""Phone and ID numbers masked in what is shown publicly."""

from __future__ import annotations

import pytest

from channels.privacy import mask_personal


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("请拨打13812345678联系", "请拨打***联系"),
        ("+8613912345678", "+86***"),
        ("座机0991-4567890或01087654321", "座机***或***"),
        ("身份证65010219900307123X，", "身份证***，"),
        ("身份证110101199003071234", "身份证***"),
        (f"编号 WZ20261127-00042，{1234}元", "编号 WZ20261127-00042，1234元"),
    ],
)
def test_mask_personal(text: str, masked: str) -> None:
    assert mask_personal(text) == masked
