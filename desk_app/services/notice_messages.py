"""The words of a billing notice: templates, the greeting, and the SMS length rule.

Templates live in ``desk_app/resources/notices/`` (``text.txt``, ``email.txt``,
``email.html``); a clinic may replace any of them (``NoticeSettings``). They use
``string.Template`` placeholders: ``${greeting}`` ("Hello, Maddy"), ``${custom_message}``,
``${clinic}``, ``${what}`` / ``${what_sentence}`` ("your balance" / "Your balance"),
``${amount}``, ``${link}``, ``${expires}``, ``${clinic_contact}``. A message names the clinic,
the amount and the link only: never a treatment, a diagnosis or a provider.

A text must fit in two SMS segments with the link in it: 306 characters when every character
is in the GSM 7-bit alphabet, else 134 (UCS-2).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from string import Template

from desk_app.services.clock import to_clinic_time
from desk_app.services.errors import ValidationError

_NOTICES_DIR = Path(__file__).resolve().parent.parent / "resources" / "notices"
MAX_SEGMENTS = 2
#: The most a staff member may add to a message (a text must still fit its segments).
MAX_CUSTOM_EMAIL = 2000

_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€")


def sms_segments(text: str) -> int:
    """How many SMS segments a text takes (GSM 7-bit when it can, else UCS-2)."""
    if all(c in _GSM7 or c in _GSM7_EXTENDED for c in text):
        septets = sum(2 if c in _GSM7_EXTENDED else 1 for c in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def bundled_template(name: str) -> str:
    return (_NOTICES_DIR / name).read_text("utf-8")


def greeting_for(preferred_name: str, legal_first_name: str) -> str:
    """'Hello, Maddy': the preferred name if the patient has one."""
    name = (preferred_name or legal_first_name).strip()
    return f"Hello, {name}" if name else "Hello"


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """Everything a notice may say. No clinical detail can get in: there is no field for it."""

    greeting: str
    clinic: str
    clinic_contact: str  # phone and email of the clinic
    what: str  # "your balance", "your invoice of Nov 20, 2026", "your account credit top-up"
    amount: str  # "$90.40" (a top-up: "any amount you choose")
    link: str
    expires_at: datetime
    time_zone: str


def expiry_phrase(expires_at: datetime, time_zone: str) -> str:
    local = to_clinic_time(expires_at, time_zone)
    hour = local.strftime("%I:%M %p").lstrip("0")
    return f"{local.strftime('%b')} {local.day} at {hour}"


def check_template(template: str, what: str, field: str = "template") -> None:
    """Refuse a clinic's template that names an unknown placeholder (naming each one) or has a
    broken one (a lone "$": write "$$" for a dollar sign)."""
    unknown: list[str] = []
    broken = False
    for match in Template.pattern.finditer(template):
        name = match.group("named") or match.group("braced")
        if name is not None and name not in _PLACEHOLDERS and name not in unknown:
            unknown.append(name)
        elif match.group("invalid") is not None:
            broken = True
    if not unknown and not broken:
        return
    allowed = ", ".join("${" + k + "}" for k in sorted(_PLACEHOLDERS))
    if unknown:
        names = ", ".join("${" + k + "}" for k in unknown)
        problem = (f"The {what} template uses {names}, which "
                   + ("is not a placeholder" if len(unknown) == 1 else "are not placeholders"))
    else:
        problem = (f"The {what} template has a “$” that starts no placeholder (write $$ for a "
                   "dollar sign)")
    raise ValidationError(f"{problem}. Use only {allowed}.", field)


_PLACEHOLDERS = {"greeting", "custom_message", "custom_message_html", "clinic", "what",
                 "what_sentence", "amount", "link", "expires", "clinic_contact",
                 "clinic_contact_html"}


def _values(facts: MessageFacts, custom: str) -> dict[str, str]:
    return {
        "greeting": facts.greeting,
        "clinic": facts.clinic,
        "clinic_contact": facts.clinic_contact,
        "what": facts.what,
        "what_sentence": facts.what[:1].upper() + facts.what[1:],
        "amount": facts.amount,
        "link": facts.link,
        "expires": expiry_phrase(facts.expires_at, facts.time_zone),
        "custom_message": custom,
    }


def clean_custom(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines()).strip()


def render_text(template: str, facts: MessageFacts, custom_message: str, *,
                max_segments: int | None = MAX_SEGMENTS) -> str:
    """The SMS body; ValidationError when it would not fit in `max_segments` (None: no limit,
    for a text that goes to the outbox rather than a carrier)."""
    custom = " ".join(clean_custom(custom_message).split())
    values = _values(facts, f"{custom} " if custom else "")
    values["custom_message_html"] = ""
    values["clinic_contact_html"] = ""
    body = " ".join(Template(template).safe_substitute(values).split())
    segments = sms_segments(body)
    if max_segments is not None and segments > max_segments:
        limit = 306 if all(c in _GSM7 or c in _GSM7_EXTENDED for c in body) else 134
        over = len(body) - limit
        raise ValidationError(
            f"The text would take {segments} SMS messages; it must fit in {MAX_SEGMENTS}. "
            f"Shorten your message by about {max(over, 1)} characters"
            + ("" if limit == 306 else " (emoji and some accented letters take more room)")
            + ".",
            "custom_message",
        )
    return body


@dataclass(frozen=True, slots=True)
class EmailParts:
    subject: str
    text: str
    html: str


def render_email(text_template: str, html_template: str, facts: MessageFacts,
                 custom_message: str, subject: str) -> EmailParts:
    custom = clean_custom(custom_message)
    if len(custom) > MAX_CUSTOM_EMAIL:
        raise ValidationError(
            f"The message is {len(custom):,} characters; keep it under {MAX_CUSTOM_EMAIL:,}.",
            "custom_message",
        )
    values = _values(facts, f"{custom}\n\n" if custom else "")
    values["custom_message_html"] = "".join(
        '<tr><td style="font-size:15px;line-height:1.5;padding-bottom:12px;">'
        + html.escape(paragraph).replace("\n", "<br>") + "</td></tr>"
        for paragraph in custom.split("\n\n") if paragraph.strip()
    )
    values["clinic_contact_html"] = html.escape(facts.clinic_contact)
    text = Template(text_template).safe_substitute(values).strip() + "\n"
    escaped = {k: (v if k.endswith("_html") else html.escape(v)) for k, v in values.items()}
    body = Template(html_template).safe_substitute(escaped)
    return EmailParts(subject=subject, text=text, html=body)
