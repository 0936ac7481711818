"""The WhatsApp side of tests/test_hostile_neighbours.py: participants who vote and ask by WhatsApp
reply (three through Fonnte's webhook, three through Meta's signed one), and what a forger or a
broken gateway posts beside them: a wrong token, a bad or missing signature, junk and oversized
bodies, ids and numbers no message has, control bytes, a repeated message id, numbers nobody
registered (a flood of them at once: the hourly cap answers exactly STRANGER_CAP). Each message is
(path, body, headers); the test posts them to the real server."""

from __future__ import annotations

import json

from tests.whatsapp_world import FONNTE_HOOK, META_HOOK, fonnte_payload, meta_payload, meta_statuses, sign

JSON = {"Content-Type": "application/json"}
STRANGER = "+6281399990001"
FLOOD = [f"+62813999902{number:02d}" for number in range(6)]  # more unknown numbers, all at once
STRANGER_CAP = 3  # WHATSAPP_STRANGER_REPLIES_PER_HOUR of the server
BIG = 70_000  # characters: beyond MAX_BODY_BYTES (64 KiB)
FONNTE_OK, META_OK = {"status": True}, {"ok": True}  # what each webhook answers to all it takes
Message = tuple[str, bytes, dict[str, str]]


def _fonnte(phone: str, text: str, message_id: str) -> Message:
    return FONNTE_HOOK, json.dumps(fonnte_payload(phone, text, message_id)).encode(), JSON


def _meta(payload: dict | bytes, signature: str | None = "") -> Message:
    """Signed with the app secret unless a `signature` is given (None: no signature header)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = dict(JSON)
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature or sign(body)
    return META_HOOK, body, headers


def provider(number: int) -> str:
    return "fonnte" if number < 3 else "meta"


def message_ids(number: int) -> tuple[str, str]:
    """The ids of WhatsApp participant `number`'s vote and question."""
    prefix = "F" if provider(number) == "fonnte" else "wamid.M"
    return f"{prefix}-{number}-vote", f"{prefix}-{number}-ask"


def good_messages(phone: str, number: int) -> list[Message]:
    """Participant `number` votes for option number % 3 (by its number) and asks a question."""
    vote_id, ask_id = message_ids(number)
    vote, ask = str(number % 3 + 1), f"T: Pertanyaan WhatsApp {number}?"
    if provider(number) == "fonnte":
        return [_fonnte(phone, vote, vote_id), _fonnte(phone, ask, ask_id)]
    return [_meta(meta_payload(phone, vote, vote_id)), _meta(meta_payload(phone, ask, ask_id))]


def good_answer(number: int) -> dict:
    return FONNTE_OK if provider(number) == "fonnte" else META_OK


def hostile_messages(phone: str, wa_phones: list[str]) -> list[tuple[str, Message]]:
    """(case, message) of what a forger or a broken gateway posts; `phone` is a participant's."""
    vote = fonnte_payload(phone, "1", "H-vote")
    elsewhere = json.dumps(meta_payload(phone, "1", "wamid.H-elsewhere")).encode()
    return [
        ("fonnte wrong token", (f"{FONNTE_HOOK}-salah", json.dumps(vote).encode(), JSON)),
        ("meta bad signature", _meta(meta_payload(phone, "1", "wamid.H-sig"), sign(b"{}", "rahasia-lain"))),
        ("meta no signature", _meta(meta_payload(phone, "1", "wamid.H-nosig"), None)),
        ("meta signature of another body", _meta(meta_payload(phone, "1", "wamid.H-moved"), sign(elsewhere))),
        ("fonnte junk bytes", (FONNTE_HOOK, b"\x00\xff{[", JSON)),
        ("fonnte not an object", (FONNTE_HOOK, b"[1, 2, 3]", JSON)),
        ("meta junk signed", _meta(b"\x00\xff{[")),
        ("meta statuses only", _meta(meta_statuses("wamid.OUT"))),
        ("fonnte oversized", _fonnte(phone, "x" * BIG, "H-big")),
        ("meta oversized", _meta(meta_payload(phone, "x" * BIG, "wamid.H-big"))),
        ("fonnte id too long", _fonnte(phone, "1", "9" * 300)),
        ("fonnte sender 10^30", (FONNTE_HOOK, json.dumps(vote | {"sender": 10**30}).encode(), JSON)),
        ("meta id too long", _meta(meta_payload(phone, "1", "x" * 201))),
        ("meta sender 10^30", _meta(meta_payload("9" * 31, "1", "wamid.H-huge"))),
        ("fonnte control-byte id", _fonnte(phone, "1", "H\x00\x01")),
        ("fonnte control bytes", _fonnte(phone, "\x00\x01\x1b", "H-ctl")),
        ("fonnte question too long", _fonnte(phone, "T: " + "x" * 5000, "H-long")),
        ("meta no such option", _meta(meta_payload(phone, "9", "wamid.H-9"))),
        ("fonnte repeated id", good_messages(wa_phones[0], 0)[0]),  # before or after the original
        ("meta repeated id", good_messages(wa_phones[3], 3)[0]),
        ("fonnte unknown number", _fonnte(STRANGER, "1", "H-stranger-1")),
        ("fonnte unknown number again", _fonnte(STRANGER, "halo", "H-stranger-2")),
    ]


FORBIDDEN = {
    "fonnte wrong token",
    "meta bad signature",
    "meta no signature",
    "meta signature of another body",
}
TOO_LARGE = {"fonnte oversized", "meta oversized"}


def flood_message(number: int) -> Message:
    return _fonnte(FLOOD[number], "halo", f"H-flood-{number}")


def stranger_outcomes(recorded: dict[str, str]) -> bool:
    """Whether the unknown numbers' messages (message id -> outcome) were answered as the cap
    says: exactly STRANGER_CAP of them, whichever came first; the stranger's second message is a
    repeat if their first was answered, else capped too."""
    first, second = recorded["H-stranger-1"], recorded["H-stranger-2"]
    answered = [message_id for message_id, outcome in recorded.items() if outcome == "unknown_number"]
    return (
        len(answered) == STRANGER_CAP
        and set(recorded.values()) <= {"unknown_number", "unknown_capped", "unknown_repeat"}
        and second == ("unknown_repeat" if first == "unknown_number" else "unknown_capped")
        and list(recorded.values()).count("unknown_repeat") == (second == "unknown_repeat")
    )


def stranger_ids() -> set[str]:
    return {"H-stranger-1", "H-stranger-2", *(f"H-flood-{number}" for number in range(len(FLOOD)))}


def expected_inbound(phone: str, wa_phones: list[str]) -> set[tuple[str, str, str, str]]:
    """(provider, message id, sender, outcome) of every message recorded but the unknown numbers':
    the good ones once each, the hostile participant's refused with their reason."""
    rows = {
        ("fonnte", "H-ctl", phone, "empty"),
        ("fonnte", "H-long", phone, "too_long"),
        ("meta", "wamid.H-9", phone, "not_understood"),
    }
    for number, sender in enumerate(wa_phones):
        vote_id, ask_id = message_ids(number)
        rows |= {
            (provider(number), vote_id, sender, "vote_counted"),
            (provider(number), ask_id, sender, "question"),
        }
    return rows
