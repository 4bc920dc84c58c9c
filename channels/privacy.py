"""What may be shown publicly: a text with phone and ID numbers masked (Weibo's comments, and the case
page of a Weibo inquiry, whose link those public comments carry)."""

from __future__ import annotations

import re

_PERSONAL = re.compile(
    r"\d{17}[\dXx]"  # an 18-digit ID number (first, so that no phone pattern takes a piece of it)
    r"|1[3-9]\d{9}"  # a mainland mobile number
    r"|0\d{2,3}-?\d{7,8}"  # a landline with its area code
)
_MASK = "***"


def mask_personal(text: str) -> str:
    """``text`` with mobile, landline and ID numbers replaced by "***", for anything shown publicly.

    No digit boundaries are required on purpose: a number written as "+8613812345678" or run into other
    digits is still masked; masking a harmless digit run now and then is the cheaper mistake.
    """
    return _PERSONAL.sub(_MASK, text)
