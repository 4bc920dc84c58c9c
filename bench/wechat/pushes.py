"""Pre-generated WeChat pushes for wrk: one line per request, ``<path?query>\\t<body>``.

Every push is a different text message (its own MsgId) from one of a few thousand citizens picked at
random, signed as WeChat signs it: ``signature`` over token, timestamp and nonce in the query, and in
safe mode (``encrypt_type=aes``) ``msg_signature`` over those and the ``Encrypt`` field too. The
encryption is wechatpy's, an implementation independent of the gateway's.

Timestamps are taken when the file is written, so it must be used within WeChat's replay window
(5 minutes): the runner writes each server's pushes just before that server's run.
"""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from wechatpy.crypto import PrpCrypto

TOKEN = "wenzhengbench"
APP_ID = "wx0123456789abcdef"
ACCOUNT = "gh_0123456789ab"
ENCODING_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
PATH = "/channels/wechat"

TEXTS = (
    "小区门口的路灯坏了一个多月，晚上出行很不安全，请尽快维修。",
    "楼下餐馆油烟直排，住户窗户都不敢开，希望有关部门管一管。",
    "公交站台的遮雨棚漏雨，等车的老人孩子都淋湿了。",
    "我们单位拖欠工资三个月了，请问该向哪个部门反映？",
    "暖气不热，室温只有十五度，家里有老人，请帮忙协调。",
)


@dataclass(frozen=True)
class Push:
    sender: str
    msg_id: int
    line: str
    """What wrk sends: ``<path?query>\\t<body>``."""

    @property
    def dedupe_key(self) -> str:
        """The key the gateway stores the message under (core.messages.InboundMessage.dedupe_key)."""
        return f"wechat:{self.sender}:{self.msg_id}"


def citizens(count: int, seed: int = 7) -> list[str]:
    """``count`` openid-like ids (28 characters, as WeChat's are), the same for a given seed."""
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
    return ["o" + "".join(rng.choices(alphabet, k=27)) for _ in range(count)]


def _sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _message(sender: str, msg_id: int, created: int, text: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{sender}]]></FromUserName><CreateTime>{created}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def _encrypted(ciphertext: str) -> str:
    """A safe-mode push: only the account and the ciphertext travel in the clear."""
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>"
    )


class PushWriter:
    """Writes files of pushes, never repeating a MsgId within one writer."""

    def __init__(self, senders: list[str], safe: bool, seed: int = 11) -> None:
        self._senders = senders
        self._safe = safe
        self._rng = random.Random(seed)
        self._next_id = 24_000_000_000_000_000 + self._rng.randrange(10**15)
        self._crypto = PrpCrypto(base64.b64decode(ENCODING_AES_KEY + "="))

    def write(self, path: Path, count: int) -> list[Push]:
        timestamp = str(int(time.time()))
        pushes = [self._push(timestamp) for _ in range(count)]
        path.write_text("".join(p.line + "\n" for p in pushes), encoding="utf-8")
        return pushes

    def _push(self, timestamp: str) -> Push:
        sender = self._rng.choice(self._senders)
        msg_id = self._next_id
        self._next_id += 1
        text = f"{self._rng.choice(TEXTS)}（{msg_id % 10000}）"
        body = _message(sender, msg_id, int(timestamp), text)
        nonce = str(secrets.randbelow(10**10))
        query = (
            f"signature={_sign(TOKEN, timestamp, nonce)}&timestamp={timestamp}&nonce={nonce}&openid={sender}"
        )
        if self._safe:
            encrypted = self._crypto.encrypt(body, APP_ID).decode("ascii")
            query += f"&encrypt_type=aes&msg_signature={_sign(TOKEN, timestamp, nonce, encrypted)}"
            body = _encrypted(encrypted)
        return Push(sender, msg_id, f"{PATH}?{query}\t{body}")
