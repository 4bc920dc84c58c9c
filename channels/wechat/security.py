"""Security of the WeChat Official Account callback: signatures, replay window, 安全模式 AES, safe XML.

Every push WeChat makes to our callback URL carries ``signature = sha1(sorted(token, timestamp, nonce))``
in the query (protocols.md §1.1). In compat and safe mode (``encrypt_type=aes``, §1.3) the body also
carries an ``Encrypt`` field, signed by ``msg_signature = sha1(sorted(token, timestamp, nonce, Encrypt))``
and holding ``random(16) | len(xml) as 4-byte big-endian | xml | AppId``, AES-256-CBC encrypted with
the key derived from the EncodingAESKey (IV = key[:16], PKCS#7 padding to 32 bytes).

The AES layer is written here on top of ``cryptography`` rather than taken from ``wechatpy.crypto``
because wechatpy 1.8.18 decodes base64 leniently (silently dropping foreign characters), does not
check the padding, draws the random prefix from :mod:`random`, and parses the unauthenticated outer
envelope with whatever xmltodict version is installed. The official vectors (protocols.md §3.3) pin
the two implementations to the same bytes.

XML is parsed by :func:`parse_fields` with the standard library's expat; any DOCTYPE is refused as
soon as expat sees it, so no entity is ever declared, let alone expanded (billion laughs, XXE).
Everything a caller can get wrong comes out as :class:`WeChatRejected` with an HTTP status.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from xml.parsers import expat

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from channels.signing import sorted_sha1

MAX_BODY = 64 * 1024
"""Largest request body accepted; a compat-mode push of a long text message is well under 10 KiB."""

_SIGNATURE = re.compile(r"[0-9a-f]{40}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_BLOCK = 32
"""WeChat pads to 32 bytes (PKCS#7 with a 32-byte block), not to the AES block size."""
_PREFIX = 16


class WeChatRejected(Exception):
    """A push or verification request that must not be handled; ``status`` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class WeChatKeys:
    """The account's server configuration (服务器配置) as entered in the WeChat console."""

    token: str = field(repr=False)
    app_id: str
    encoding_aes_key: str = field(default="", repr=False)
    previous_encoding_aes_key: str = field(default="", repr=False)
    """The key before the last rotation: pushes may still come encrypted with it for a while."""
    replay_window_seconds: int = 300
    """Largest accepted distance between the push's timestamp and our clock; 0 turns the check off."""


@dataclass(frozen=True)
class Envelope:
    """An authenticated push: its message XML (decrypted in compat and safe mode)."""

    xml: str
    encrypted: bool
    key: str = field(repr=False)
    """The EncodingAESKey that decrypted the push, to encrypt the reply with; "" for plaintext."""
    fields: Mapping[str, str] = field(default_factory=dict, repr=False)
    """The message's fields (:func:`parse_fields` of ``xml``), read once while checking it."""


def parse_fields(document: str) -> dict[str, str]:
    """The text of each child of the ``<xml>`` root, by tag name, with DOCTYPEs and duplicates refused.

    Deeper elements (such as the template list of a subscribe_msg_* event) are checked for
    well-formedness but not collected; a field appearing twice is refused rather than guessed at, so
    the ``Encrypt`` that was signed is the one that is decrypted.
    """
    parser = expat.ParserCreate()
    fields: dict[str, str] = {}
    chunks: list[str] = []
    depth = 0

    def start(name: str, _attributes: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth == 1 and name != "xml":
            raise WeChatRejected(400, "XML root is not <xml>")
        if depth == 2:
            if name in fields:
                raise WeChatRejected(400, f"XML field {name} appears twice")
            chunks.clear()

    def end(name: str) -> None:
        nonlocal depth
        if depth == 2:
            fields[name] = "".join(chunks)
        depth -= 1

    def text(data: str) -> None:
        if depth == 2:
            chunks.append(data)

    def doctype(*_declaration: object) -> None:
        raise WeChatRejected(400, "XML with a DOCTYPE (entity declarations) refused")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(document, True)
    except expat.ExpatError as error:
        raise WeChatRejected(400, f"malformed XML: {expat.ErrorString(error.code)}") from None
    return fields


class _MessageCipher:
    """WeChat's AES-256-CBC message encryption under one EncodingAESKey."""

    def __init__(self, encoding_aes_key: str) -> None:
        if len(encoding_aes_key) != 43:
            raise ValueError("an EncodingAESKey has 43 characters")
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error:
            raise ValueError("an EncodingAESKey is base64 (A-Z, a-z, 0-9, +, /)") from None
        self._cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))

    def encrypt(self, xml: str, app_id: str, prefix: bytes) -> str:
        """Base64 of the encrypted ``prefix | length | xml | app_id``; ``prefix`` is 16 random bytes."""
        message = xml.encode("utf-8")
        plain = prefix + len(message).to_bytes(4, "big") + message + app_id.encode("utf-8")
        padding = _BLOCK - len(plain) % _BLOCK
        encryptor = self._cipher.encryptor()
        sealed = encryptor.update(plain + bytes([padding]) * padding) + encryptor.finalize()
        return base64.b64encode(sealed).decode("ascii")

    def decrypt(self, encrypted: bytes) -> tuple[str, bytes]:
        """The XML and the AppId inside already base64-decoded ciphertext; 400 when it does not unpack."""
        if not encrypted or len(encrypted) % 16:
            raise WeChatRejected(400, "ciphertext is not a whole number of AES blocks")
        decryptor = self._cipher.decryptor()
        plain = decryptor.update(encrypted) + decryptor.finalize()
        padding = plain[-1]
        if not 1 <= padding <= _BLOCK or plain[-padding:] != bytes([padding]) * padding:
            raise WeChatRejected(400, "bad padding in the decrypted message")
        content = plain[_PREFIX:-padding]
        length = int.from_bytes(content[:4], "big")
        if len(content) < 4 + length:
            raise WeChatRejected(400, "bad length in the decrypted message")
        try:
            xml = content[4 : 4 + length].decode("utf-8")
        except UnicodeDecodeError:
            raise WeChatRejected(400, "decrypted message is not UTF-8") from None
        return xml, content[4 + length :]


def _required(query: Mapping[str, str], name: str) -> str:
    value = query.get(name)
    if not value:
        raise WeChatRejected(400, f"query parameter {name} missing")
    return value


class CallbackSecurity:
    """Authenticates pushes and verification requests for one account, and seals replies.

    The AES keys are set up once here; ``clock`` gives the current Unix time (for the replay window
    and for reply timestamps).
    """

    def __init__(self, keys: WeChatKeys, clock: Callable[[], float] = time.time) -> None:
        if not keys.token:
            raise ValueError("WeChat needs a Token: without it any signature could be forged")
        if keys.replay_window_seconds < 0:
            raise ValueError("the replay window cannot be negative")
        self._keys = keys
        self._clock = clock
        self._ciphers = {
            key: _MessageCipher(key) for key in (keys.encoding_aes_key, keys.previous_encoding_aes_key) if key
        }
        if self._ciphers and not keys.app_id:
            raise ValueError("safe mode needs the AppId, which every encrypted message ends with")

    def verify_url(self, query: Mapping[str, str]) -> str:
        """The ``echostr`` to answer the console's URL verification with (plain in every mode)."""
        self._check_signature(query)
        return _required(query, "echostr")

    def open(self, query: Mapping[str, str], body: bytes) -> Envelope:
        """Authenticate a push and return its message XML, decrypted if it came encrypted."""
        if len(body) > MAX_BODY:
            raise WeChatRejected(413, f"body of {len(body)} bytes exceeds {MAX_BODY}")
        timestamp, nonce = self._check_signature(query)
        try:
            document = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WeChatRejected(400, "body is not UTF-8") from None
        fields = parse_fields(document)
        if (query.get("encrypt_type") or "raw") == "raw":
            return Envelope(document, encrypted=False, key="", fields=fields)
        encrypted = fields.get("Encrypt")
        if not encrypted:
            raise WeChatRejected(400, "encrypted push without an Encrypt field")
        msg_signature = _required(query, "msg_signature")
        expected = sorted_sha1(self._keys.token, timestamp, nonce, encrypted)
        if not _SIGNATURE.fullmatch(msg_signature) or not hmac.compare_digest(expected, msg_signature):
            raise WeChatRejected(403, "bad msg_signature")
        xml, key = self._decrypt(encrypted)
        return Envelope(xml, encrypted=True, key=key, fields=parse_fields(xml))

    def seal(
        self, envelope: Envelope, reply_xml: str, nonce: str | None = None, timestamp: int | None = None
    ) -> str:
        """The reply to send: encrypted with the push's key if the push was encrypted, else as is.
        (``success`` is no reply: the callback sends it as it is, without sealing it.)"""
        if not envelope.encrypted:
            return reply_xml
        nonce = nonce if nonce is not None else str(secrets.randbelow(10**10))
        stamp = str(timestamp if timestamp is not None else int(self._clock()))
        cipher = self._ciphers[envelope.key]
        encrypted = cipher.encrypt(reply_xml, self._keys.app_id, secrets.token_bytes(_PREFIX))
        signature = sorted_sha1(self._keys.token, stamp, nonce, encrypted)
        return (
            "<xml>\n"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt>\n"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>\n"
            f"<TimeStamp>{stamp}</TimeStamp>\n"
            f"<Nonce><![CDATA[{nonce}]]></Nonce>\n"
            "</xml>"
        )

    def _check_signature(self, query: Mapping[str, str]) -> tuple[str, str]:
        """Check ``signature`` and the replay window; return the timestamp and nonce."""
        signature = _required(query, "signature")
        timestamp = _required(query, "timestamp")
        nonce = _required(query, "nonce")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise WeChatRejected(400, "timestamp is not a Unix time")
        expected = sorted_sha1(self._keys.token, timestamp, nonce)
        if not _SIGNATURE.fullmatch(signature) or not hmac.compare_digest(expected, signature):
            raise WeChatRejected(403, "bad signature")
        window = self._keys.replay_window_seconds
        if window and abs(self._clock() - int(timestamp)) > window:
            raise WeChatRejected(403, "timestamp outside the replay window")
        return timestamp, nonce

    def _decrypt(self, encrypted: str) -> tuple[str, str]:
        """The XML inside ``Encrypt`` and the key that opened it, trying the previous key second."""
        if not self._ciphers:
            raise WeChatRejected(400, "encrypted push but no EncodingAESKey configured")
        try:
            ciphertext = base64.b64decode(encrypted, validate=True)
        except binascii.Error:
            raise WeChatRejected(400, "Encrypt is not base64") from None
        app_id = self._keys.app_id.encode("utf-8")
        failures: list[WeChatRejected] = []
        for key, cipher in self._ciphers.items():
            try:
                xml, sender = cipher.decrypt(ciphertext)
            except WeChatRejected as error:
                failures.append(error)
                continue
            if sender == app_id:
                return xml, key
            failures.append(WeChatRejected(403, "message is for another AppId"))
        # A message that unpacks cleanly but names another AppId outranks one the other key garbles.
        raise max(failures, key=lambda failure: failure.status)
