#!/usr/bin/env python3
"""Writes the hand-made seeds of the jamless fuzz corpus.

Run from anywhere: `python3 fuzz/make_corpus.py`. It (re)writes
`fuzz/seeds/<target>/`; `fuzz/make_corpus.sh` then grows them by short fuzz
runs and keeps a small set covering what they reach in `fuzz/corpus/`.

The records follow the layout documented at the top of
`jamless/src/record.rs` (all integers little-endian):
header (kind u8, level u8, flags u16, line u32, timestamp u64, thread id u64,
original length u32, message length u32), thread name (u8 length), target,
module path and file (u16 length each), message, then items:
0x01 field (u16 key, u8 tag, value), 0x02 span (u16 name).
"""

import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTILE = "cr\r lf\n nul\0 esc\x1b[31m del\x7f c1\u0085\u009b ls\u2028 rlo\u202e lri\u2066 tab\t".encode()


def s8(b):
    return struct.pack("<B", len(b)) + b


def s16(b):
    return struct.pack("<H", len(b)) + b


def field(key, tag, value):
    if tag == 0:
        v = struct.pack("<I", len(value)) + value
    elif tag in (1, 2):
        v = struct.pack("<Q", value & 0xFFFF_FFFF_FFFF_FFFF)
    elif tag == 3:
        v = struct.pack("<d", value)
    else:
        v = bytes([value])
    return b"\x01" + s16(key) + bytes([tag]) + v


def span(name):
    return b"\x02" + s16(name)


def record(kind=1, level=3, flags=0, line=42, ts=1_795_000_000_123_456_789, tid=7,
           orig=0, thread=b"main", target=b"app::http", module=b"app::http", file=b"src/http.rs",
           message=b"request served", items=b"", msg_len=None):
    if msg_len is None:
        msg_len = len(message)
    head = struct.pack("<BBHIQQII", kind, level, flags, line, ts, tid, orig, msg_len)
    return head + s8(thread) + s16(target) + s16(module) + s16(file) + message + items


RECORDS = [
    record(),
    record(items=field(b"path", 0, b"/v1") + field(b"status", 2, 200) + field(b"delta", 1, -3)
           + field(b"ratio", 3, 0.5) + field(b"ok", 4, 1)),
    record(items=field(b"a", 0, b"x") + span(b"request") + field(b"id", 2, 7) + span(b"db")
           + field(b"name", 0, b"accounts")),
    record(level=1, thread=HOSTILE[:255], target=HOSTILE, module=HOSTILE, file=HOSTILE,
           message=HOSTILE, items=field(HOSTILE, 0, HOSTILE) + span(HOSTILE)),
    record(kind=2, level=4, line=0xFFFF_FFFF, target=b"", module=b"", file=b"", thread=b"",
           message=b"2026-11-27T06:22:17Z INFO raw line from a fmt layer\n"),
    record(kind=2, target=b"", module=b"", file=b"", message=b'{"a":1,"b":[true,null,"\\u00e9"]}'),
    record(kind=2, target=b"", module=b"", file=b"", message=b'{"a":"\\ud800"}'),
    record(message=b"bad \xff\xfe \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe0\x80 \xf0\x9f\x8e"),
    record(flags=1, orig=70_000, message=b"m" * 64),
    record(items=field(b"message", 0, b"clash") + field(b"log.level", 0, b"x")
           + field(b"spans", 2, 1) + span(b"s") + field(b"name", 0, b"clash")),
    record(items=field(b"nan", 3, float("nan")) + field(b"inf", 3, float("-inf"))
           + field(b"tiny", 3, 1e-300) + field(b"min", 1, -(1 << 63))),
    # Malformed: a tail cut inside a field, an unknown item, a message
    # length beyond the end, an unknown kind and level.
    record(items=field(b"path", 0, b"/v1")[:-2]),
    record(items=b"\x07junk"),
    record(msg_len=1 << 20),
    record(kind=9),
    record(level=0),
    b"",
]

PATTERNS = [
    "{timestamp} {level:<5} [{thread}] {target}: {message}{fields}",
    "{timestamp} {level} {module} {file}:{line} {spans}{message}{fields}",
    "{{literal}} {message:>20} {thread:<30} }}",
    "é 東京 {level:>1024}",
    "{message",
    "message}",
    "{nope}",
    "{level:<x}",
    "{level:<99999}",
    "{}",
    "a\nb{message}",
    "\x1b[1m{message}",
    "{ message }",
    "{spans}{fields}",
]

FILTERS = [
    "info",
    " WARN ",
    "off",
    "trace",
    "info,app::db=debug",
    "app=loud",
    "warn,app[request{id=7}]=trace",
    "info/foo.*bar",
    "info/[unclosed",
    "a/b/c",
    "=info",
    "debug,warn",
    "",
    ",",
    "app::db",
    "[{x}]",
]


def write(target, blobs):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    for b in blobs:
        name = hashlib.sha1(b).hexdigest()
        with open(os.path.join(d, name), "wb") as f:
            f.write(b)


write("record_decode", RECORDS)
write("text_pattern", [p.encode() for p in PATTERNS])
write("filter_directives", [f.encode() for f in FILTERS])
# record_render takes `arbitrary` input; its seeds are grown from nothing.
write("record_render", [])
