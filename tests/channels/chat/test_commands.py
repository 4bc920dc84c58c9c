"""The chat-command interpreter: what is a command, what is an ordinary message."""

from __future__ import annotations

import pytest

from channels.chat.commands import Command, CommandName, interpret
from core.vocab import Rating

HELP = Command(CommandName.HELP)
LIST = Command(CommandName.LIST)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("帮助", HELP),
        ("  帮助\n", HELP),
        ("help", HELP),
        ("HELP", HELP),
        ("?", HELP),
        ("？", HELP),
        ("查询", LIST),
        (" 查询　", LIST),
        ("查询 WZ20261127-00042", Command(CommandName.SHOW, number="WZ20261127-00042")),
        ("查询 wz20261127-00042", Command(CommandName.SHOW, number="WZ20261127-00042")),
        ("查询wz 2026 1127-000 42", Command(CommandName.SHOW, number="WZ20261127-00042")),
        ("查询　ＷＺ２０２６１１２７－０００４２", Command(CommandName.SHOW, number="WZ20261127-00042")),
        ("1", Command(CommandName.RATE, rating=Rating.SATISFIED)),
        ("１", Command(CommandName.RATE, rating=Rating.SATISFIED)),
        ("满意", Command(CommandName.RATE, rating=Rating.SATISFIED)),
        ("满意！", Command(CommandName.RATE, rating=Rating.SATISFIED)),
        ("2", Command(CommandName.RATE, rating=Rating.BASICALLY_SATISFIED)),
        ("基本满意", Command(CommandName.RATE, rating=Rating.BASICALLY_SATISFIED)),
        (" 3 ", Command(CommandName.RATE, rating=Rating.UNSATISFIED)),
        ("不满意", Command(CommandName.RATE, rating=Rating.UNSATISFIED)),
    ],
)
def test_commands_are_recognised(text: str, command: Command) -> None:
    assert interpret(text) == command


@pytest.mark.parametrize(
    "text",
    [
        "",
        "我想查询一下社保",
        "查询一下社保缴费记录",
        "查询 WZ2026-42",
        "帮助我们解决供暖问题",
        "12",
        "4",
        "非常满意",
        "不太满意",
        "1 满意",
        "help me",
        "??",
    ],
)
def test_anything_else_is_an_ordinary_message(text: str) -> None:
    assert interpret(text) is None
