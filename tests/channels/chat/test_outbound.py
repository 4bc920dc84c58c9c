"""What a chat channel sends later in full: an answer framed by its template, or a progress notice."""

from __future__ import annotations

import pytest

from channels.chat.outbound import full_text
from core.models import Inquiry

TEMPLATES = {"answer": "【答复】{number}\n{answer}\n{signature}\n回复1满意"}


def inquiry() -> Inquiry:
    return Inquiry.construct(number="WZ20261127-00001", reply_signature="城管局 张伟")


@pytest.mark.parametrize("kind", ["reply", "answer-directly"])
def test_an_answer_is_framed_by_the_template_with_its_signature(kind: str) -> None:
    text = full_text(TEMPLATES, kind, "路灯已修复。", inquiry())
    assert text == "【答复】WZ20261127-00001\n路灯已修复。\n城管局 张伟\n回复1满意"


def test_anything_else_is_a_progress_notice() -> None:
    text = full_text(TEMPLATES, "dispatch", "已转交市城管局办理", inquiry())
    assert text == "【诉求进展】WZ20261127-00001：已转交市城管局办理"
