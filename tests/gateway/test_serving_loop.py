"""`wenzheng serve` runs on uvloop's event loop when it is installed, else on asyncio's."""

from __future__ import annotations

import asyncio
import builtins
from typing import Any

import pytest

from gateway import cli


def test_serve_runs_on_uvloop() -> None:
    uvloop = pytest.importorskip("uvloop")
    loop = cli._serving_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_serve_falls_back_to_asyncio_without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def without_uvloop(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "uvloop":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_uvloop)
    loop = cli._serving_loop()
    try:
        assert isinstance(loop, asyncio.BaseEventLoop)  # asyncio's; uvloop's Loop is not one
    finally:
        loop.close()
