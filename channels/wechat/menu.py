"""The custom menu (自定义菜单, protocols.md §2.6): buttons from the configuration as the body of
``POST /cgi-bin/menu/create``.

WeChat refuses a whole menu for one bad button (40016–40019, 40023, 40054…) and says little about which,
so the limits are checked here first, with the button named in the reason. A view button's URL may use
the placeholders ``{form}`` (the web form, opened through web-page authorisation so that it knows the
citizen) and ``{site}`` (the public base URL).
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

MAX_BUTTONS: Final = 3
MAX_SUB_BUTTONS: Final = 5
MAX_NAME_BYTES: Final = 16
MAX_SUB_NAME_BYTES: Final = 60
MAX_KEY_BYTES: Final = 128
MAX_URL_BYTES: Final = 1024
PLACEHOLDERS: Final = frozenset({"form", "site"})


class MenuError(ValueError):
    """The menu breaks one of WeChat's rules; the message names the button."""


@dataclass(frozen=True)
class MenuButton:
    name: str
    type: str = ""
    """click (answered by the menu key's chat command) or view (opens ``url``); empty for a group."""
    key: str = ""
    url: str = ""
    sub_buttons: tuple[MenuButton, ...] = ()


def menu_body(buttons: Sequence[MenuButton], links: Mapping[str, str]) -> dict[str, Any]:
    """The menu/create body for ``buttons``, placeholders filled from ``links``; MenuError if WeChat
    would refuse it."""
    if not 1 <= len(buttons) <= MAX_BUTTONS:
        raise MenuError(f"a menu has 1 to {MAX_BUTTONS} buttons, not {len(buttons)}")
    return {"button": [_button(button, links, top=True) for button in buttons]}


def _button(button: MenuButton, links: Mapping[str, str], *, top: bool) -> dict[str, Any]:
    limit = MAX_NAME_BYTES if top else MAX_SUB_NAME_BYTES
    if not button.name.strip() or len(button.name.encode()) > limit:
        raise MenuError(f"button {button.name!r}: the name needs 1 to {limit} bytes (UTF-8)")
    if button.sub_buttons:
        if not top:
            raise MenuError(f"button {button.name!r}: only top-level buttons hold sub-buttons")
        if button.type or button.key or button.url:
            raise MenuError(f"button {button.name!r}: a group has sub-buttons only, no type, key or url")
        if len(button.sub_buttons) > MAX_SUB_BUTTONS:
            raise MenuError(f"button {button.name!r}: at most {MAX_SUB_BUTTONS} sub-buttons")
        return {
            "name": button.name,
            "sub_button": [_button(sub, links, top=False) for sub in button.sub_buttons],
        }
    if button.type == "click":
        if not 1 <= len(button.key.encode()) <= MAX_KEY_BYTES or button.url:
            raise MenuError(f"button {button.name!r}: a click button has a key of 1 to 128 bytes, no url")
        return {"type": "click", "name": button.name, "key": button.key}
    if button.type == "view":
        url = _fill(button, links)
        if not url.startswith(("http://", "https://")) or len(url.encode()) > MAX_URL_BYTES or button.key:
            raise MenuError(f"button {button.name!r}: a view button has an http(s) url of at most 1024 bytes")
        return {"type": "view", "name": button.name, "url": url}
    raise MenuError(f"button {button.name!r}: type is click or view (or give sub-buttons)")


def _fill(button: MenuButton, links: Mapping[str, str]) -> str:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(button.url) if name is not None}
    except ValueError as error:
        raise MenuError(f"button {button.name!r}: {error}") from None
    if unknown := names - PLACEHOLDERS:
        raise MenuError(f"button {button.name!r}: unknown placeholder {{{sorted(unknown)[0]}}} in url")
    return button.url.format_map({name: links[name] for name in names})
