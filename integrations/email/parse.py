"""Pure parse of real-world mail: bytes → ParsedMail. No I/O, no database.

Handles multipart/alternative (the plain part preferred, HTML-only mail turned into readable
text), quoted-printable and base64, declared charsets (utf-8, iso-8859-1, windows-1252,
windows-1251, koi8-r, …), unknown or wrong charsets decoded best-effort, RFC 2047 encoded
headers, attachments (kept in the raw message; listed here with safe names), and quoted earlier
replies and signatures separated from the new text. Every text it returns can be stored: no NUL or
other control characters (but tab and line breaks in the body), no lone surrogates, one-line headers.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parseaddr
from html.parser import HTMLParser

from bot.errors import clean_text

FALLBACK_CHARSETS = ("utf-8", "windows-1252")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    data: bytes = b""


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    sender: str  # lower-case address, "" when missing or unusable
    sender_name: str
    subject: str
    text: str  # the new text, without quoted history and signature
    quoted: str  # what was cut off
    in_reply_to: tuple[str, ...]
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    auto_submitted: bool = False  # auto-replies, bulk and list mail, bounces: never auto-answer
    is_bounce: bool = False
    bounced_ids: tuple[str, ...] = ()  # for a bounce: the Message-IDs of the returned message


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, AttributeError):  # malformed encoded words
        return ""
    return str(value or "").strip()


def _decode_part(part: Message) -> str:
    """A text part's content, best-effort when the declared charset is unknown or wrong."""
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeDecodeError, AssertionError, KeyError, ValueError):
        pass
    payload = part.get_payload(decode=True) or b""
    if not isinstance(payload, bytes):
        return str(payload)
    declared = part.get_content_charset()
    for charset in ((declared,) if declared else ()) + FALLBACK_CHARSETS:
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")


class _TextFromHtml(HTMLParser):
    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.out.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextFromHtml()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):
        return html.unescape(re.sub(r"<[^>]+>", " ", markup))
    text = "".join(parser.out)
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_QUOTE_HEADER = re.compile(
    r"^(On .{3,200} wrote:|Am .{3,200} schrieb .{0,100}:|.{0,200}\bkirjoitti\b.{0,100}:|Den .{3,200} skrev .{0,100}:|"
    r"-{2,}\s*(Original Message|Alkuperäinen viesti|Ursprungligt meddelande|Forwarded message|Välitetty viesti)\s*-{2,}|"
    r"From: .+|Lähettäjä: .+|Från: .+|От: .+|Від: .+)$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^(-- ?|—|Sent from my .+|Lähetetty .+|Skickat från .+)$", re.IGNORECASE)


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted history and signature)."""
    lines = text.replace("\r\n", "\n").split("\n")
    for i, line in enumerate(lines):
        stripped = line.strip()
        if _QUOTE_HEADER.match(stripped) or _SIGNATURE.match(line.rstrip()) or stripped.startswith(">"):
            new = "\n".join(lines[:i]).strip()
            if new:  # a message that is only a quote keeps it as its text
                return new, "\n".join(lines[i:]).strip()
    return text.strip(), ""


def safe_filename(name: str | None, index: int) -> str:
    base = (name or "").replace("\\", "/").split("/")[-1]
    base = re.sub(r"[^\w.\- ]+", "_", base, flags=re.UNICODE).strip(" .")[:120]
    return base or f"attachment-{index}"


def _message_id(msg: Message, raw: bytes) -> str:
    value = _header(msg, "Message-ID")
    match = re.search(r"<[^<>\s]{1,250}>", value)
    if match:
        return match.group(0)
    # no usable Message-ID: the content itself identifies a retry of the same message
    return f"<sha256-{hashlib.sha256(raw).hexdigest()[:40]}@luotsi.invalid>"


def _references(msg: Message) -> tuple[str, ...]:
    ids = re.findall(r"<[^<>\s]{1,250}>", " ".join((_header(msg, "In-Reply-To"), _header(msg, "References"))))
    return tuple(dict.fromkeys(ids))


def parse_mail(raw: bytes) -> ParsedMail:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    name, address = parseaddr(_header(msg, "From"))
    address = address.strip().lower()
    if address and not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address):
        address = ""
    if isinstance(msg, EmailMessage):
        body_part = msg.get_body(preferencelist=("plain", "html"))
    else:  # pragma: no cover - the default policy always builds EmailMessage
        body_part = None
    if body_part is None:
        text = ""
    elif body_part.get_content_type() == "text/html":
        text = html_to_text(_decode_part(body_part))
    else:
        text = _decode_part(body_part)
    attachments = []
    for index, part in enumerate(msg.walk() if msg.is_multipart() else [], start=1):
        if part.is_multipart() or part is body_part:
            continue
        disposition = (part.get_content_disposition() or "").lower()
        if disposition == "attachment" or part.get_filename() or not part.get_content_type().startswith("text/"):
            payload = part.get_payload(decode=True) or b""
            data = payload if isinstance(payload, bytes) else b""
            attachments.append(Attachment(safe_filename(part.get_filename(), index), part.get_content_type(),
                                          len(data), data))
    new, quoted = split_quoted(text)
    auto = _header(msg, "Auto-Submitted").lower()
    precedence = _header(msg, "Precedence").lower()
    bounce = msg.get_content_type() == "multipart/report" or address.startswith(("mailer-daemon@", "postmaster@"))
    auto_submitted = (
        bool(auto and auto != "no") or precedence in ("bulk", "list", "junk") or bool(_header(msg, "List-Id"))
        or bool(_header(msg, "X-Autoreply")) or bounce or not address
    )
    bounced: tuple[str, ...] = ()
    if bounce:
        own = _message_id(msg, raw)
        quoted_ids = re.findall(rb"(?im)^(?:Message-ID|In-Reply-To|References):\s*(<[^<>\s]{1,250}>)", raw)
        bounced = tuple(dict.fromkeys(i.decode("ascii", "replace") for i in quoted_ids if i.decode("ascii", "replace") != own))
    return ParsedMail(
        bounced_ids=tuple(clean_text(i) for i in bounced),
        message_id=clean_text(_message_id(msg, raw)), sender=clean_text(address), sender_name=_one_line(name),
        subject=_one_line(_header(msg, "Subject"))[:998], text=clean_text(new), quoted=clean_text(quoted),
        in_reply_to=tuple(clean_text(i) for i in _references(msg)),
        attachments=tuple(attachments), auto_submitted=auto_submitted, is_bounce=bounce,
    )


def _one_line(value: str) -> str:
    """A header's text as one line: an encoded word can decode to CR/LF ("=?utf-8?q?a=0D=0AB?=")."""
    return re.sub(r"[\r\n]+", " ", clean_text(value)).strip()

