"""Reading and checking what the citizen posts: the inquiry form and the rating form.

Every problem becomes a friendly Chinese message attached to its field; nothing here raises on bad
input except :class:`BadForm`, for a body that is not a form at all.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from core.intake import IntakeRequest
from core.vocab import Channel, Kind, Rating

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 30
MAX_LOCATION = 200
MAX_NAME = 64
MAX_PHONE = 32
MAX_COMMENT = 1000
MAX_NUMBER = 32
MAX_CODE = 16

SUBMISSION_FIELDS = (
    "content",
    "kind",
    "category",
    "location",
    "latitude",
    "longitude",
    "contact_name",
    "contact_phone",
    "consent",
)
PRIVATE_FIELDS = frozenset({"contact_name", "contact_phone"})
CHECKED = frozenset({"1", "on", "yes", "true"})
KIND_CODES = frozenset(kind.value for kind in Kind)
RATING_CODES = frozenset(rating.value for rating in Rating)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029\ufeff]")
_COORDINATE = re.compile(r"[+-]?\d{1,3}(?:\.\d{1,12})?")
_MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
_LANDLINE = re.compile(r"(?:\(0\d{2,3}\)|0\d{2,3}-?)?[2-9]\d{6,7}(?:-\d{1,6})?")
_FORM_ID = re.compile(r"[A-Za-z0-9_-]{16,43}")


class BadForm(Exception):
    """The body is not a UTF-8 ``application/x-www-form-urlencoded`` form."""


def form_text(form: Mapping[str, Any], name: str) -> str:
    """A field of a form read by aiohttp as text: empty when it is missing or a file."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def read_form(request: web.Request) -> dict[str, str]:
    """The posted fields (the first value of each name). 413 for a body over the app's limit."""
    if request.content_type != FORM_TYPE:
        raise BadForm(f"content type {request.content_type!r}")
    charset = (request.charset or "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise BadForm(f"charset {charset!r}")
    body = await request.read()  # raises HTTPRequestEntityTooLarge past client_max_size
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError as error:  # UnicodeDecodeError included
        raise BadForm(str(error)) from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def clean_text(value: str, *, multiline: bool = False) -> str:
    """Drop control and invisible characters (and line breaks, unless ``multiline``); trim."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        value = value.replace("\n", " ").replace("\t", " ")
    return _CONTROL.sub("", value).strip()


def whole_number(text: str | None, digits: int = 9) -> int | None:
    """The number ``text`` spells in at most ``digits`` ASCII digits; None for anything else.

    ASCII only: ``str.isdigit()`` also takes "²" (which ``int()`` refuses) and "٣"; and bounded, since
    ``int()`` refuses more than 4300 digits and an id has no business being long.
    """
    if text and len(text) <= digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def normalise_code(text: str) -> str | None:
    """A query code as typed (full-width, lower case, spaces) in canonical form; None if implausible."""
    code = "".join(unicodedata.normalize("NFKC", text).split()).upper()
    return code if 0 < len(code) <= MAX_CODE and code.isascii() and code.isalnum() else None


def normalise_case_number(text: str) -> str | None:
    """A case number as typed, in canonical form; None if implausible (the caller answers 404)."""
    number = "".join(unicodedata.normalize("NFKC", text).split()).upper()
    if not 0 < len(number) <= MAX_NUMBER or not number.isascii():
        return None
    return number if re.fullmatch(r"[A-Z0-9-]+", number) else None


@dataclass
class Submission:
    values: dict[str, str]
    """What the citizen entered, cleaned, to show again if the form comes back."""
    errors: dict[str, str] = field(default_factory=dict)
    """Field name → the problem, in Chinese."""
    request: IntakeRequest | None = None
    """The intake request, when there are no errors."""
    form_id: str | None = None
    """The random id of the form page, so a double-clicked submit makes one inquiry."""


def check_submission(form: Mapping[str, str], categories: Collection[str], max_content: int) -> Submission:
    values = {name: clean_text(form.get(name, ""), multiline=name == "content") for name in SUBMISSION_FIELDS}
    submission = Submission(values)
    errors = submission.errors

    content = values["content"]
    if not content:
        errors["content"] = "请填写诉求内容。"
    elif len(content) > max_content:
        errors["content"] = f"诉求内容不能超过 {max_content} 字（现为 {len(content)} 字），请精简后再提交。"

    kind = values["kind"]
    if not kind:
        errors["kind"] = "请选择诉求类型。"
    elif kind not in KIND_CODES:
        errors["kind"] = "请从列表中选择诉求类型。"

    category = values["category"]
    if not category:
        errors["category"] = "请选择诉求分类。"
    elif category not in categories:
        errors["category"] = "请从列表中选择诉求分类。"

    if len(values["location"]) > MAX_LOCATION:
        errors["location"] = f"地点不能超过 {MAX_LOCATION} 字。"

    latitude = _coordinate(values, errors, "latitude", "纬度", 90, "43.8256")
    longitude = _coordinate(values, errors, "longitude", "经度", 180, "87.6168")
    if "latitude" not in errors and "longitude" not in errors and (latitude is None) != (longitude is None):
        missing = "latitude" if latitude is None else "longitude"
        errors[missing] = "请同时填写纬度和经度，或都不填写。"

    if len(values["contact_name"]) > MAX_NAME:
        errors["contact_name"] = f"姓名不能超过 {MAX_NAME} 字。"

    phone = _phone(values, errors)

    form_id = form.get("form_id", "")
    submission.form_id = form_id if _FORM_ID.fullmatch(form_id) else None

    if errors:
        return submission
    submission.request = IntakeRequest(
        channel=Channel.WEB,
        kind=Kind(kind),
        category=category,
        content=content,
        location=values["location"],
        latitude=latitude,
        longitude=longitude,
        contact_name=values["contact_name"],
        contact_phone=phone,
        consent_to_publish=values["consent"].lower() in CHECKED,
        # The raw payload as received, without the private zone: that lives in its own columns only.
        raw=json.dumps(
            {k: v for k, v in form.items() if k in SUBMISSION_FIELDS and k not in PRIVATE_FIELDS},
            ensure_ascii=False,
        ),
        message_kind="text",
        dedupe_key=f"web:{submission.form_id}" if submission.form_id else None,
    )
    return submission


def _coordinate(
    values: dict[str, str], errors: dict[str, str], name: str, label: str, limit: int, example: str
) -> float | None:
    text = unicodedata.normalize("NFKC", values[name]).strip()
    if not text:
        return None
    if not _COORDINATE.fullmatch(text):
        errors[name] = f"{label}应为数字，例如 {example}。"
        return None
    number = float(text)
    if not -limit <= number <= limit:
        errors[name] = f"{label}应在 -{limit} 到 {limit} 之间。"
        return None
    return number


def _phone(values: dict[str, str], errors: dict[str, str]) -> str:
    compact = "".join(unicodedata.normalize("NFKC", values["contact_phone"]).split())
    if not compact:
        return ""
    if len(compact) > MAX_PHONE:
        errors["contact_phone"] = f"电话号码不能超过 {MAX_PHONE} 位。"
        return ""
    mobile = _MOBILE.fullmatch(re.sub(r"[-()]", "", compact))
    if mobile:
        return mobile.group(1)
    if _LANDLINE.fullmatch(compact):
        return compact
    errors["contact_phone"] = "请填写正确的手机号（11 位，如 13812345678）或固定电话（如 0991-4567890）。"
    return ""


@dataclass
class RatingForm:
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> dict[str, str]:
        """The data of the core's ``rate`` action."""
        return {"rating": self.values["rating"], "comment": self.values["comment"]}


def check_rating(form: Mapping[str, str]) -> RatingForm:
    values = {
        "rating": clean_text(form.get("rating", "")),
        "comment": clean_text(form.get("comment", ""), multiline=True),
    }
    rating = RatingForm(values)
    if values["rating"] not in RATING_CODES:
        rating.errors["rating"] = "请选择“满意”“基本满意”或“不满意”。"
    if len(values["comment"]) > MAX_COMMENT:
        rating.errors["comment"] = f"评价意见不能超过 {MAX_COMMENT} 字（现为 {len(values['comment'])} 字）。"
    return rating
