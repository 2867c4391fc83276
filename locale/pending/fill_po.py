"""Fill msgstr in locale/zh_Hans/LC_MESSAGES/django.po from JSON dicts: key = msgid or
"context\x04msgid"; value = str, or list for plural forms. Clears fuzzy flags on filled entries.
Usage: fill_po.py a.json [b.json ...]  (run from the repo root, with .venv/bin/python)."""

import json
import sys

import polib

PO = "locale/zh_Hans/LC_MESSAGES/django.po"
mapping = {}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as fh:
        mapping.update(json.load(fh))
po = polib.pofile(PO, wrapwidth=0)
filled = missing = 0
for entry in po:
    if entry.obsolete:
        continue
    key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
    value = mapping.get(key)
    if value is None:
        if (not entry.translated()) or "fuzzy" in entry.flags:
            missing += 1
            print("MISSING:", repr(key)[:120])
        continue
    if entry.msgid_plural:
        forms = value if isinstance(value, list) else [value]
        entry.msgstr_plural = {i: f for i, f in enumerate(forms)}
    else:
        entry.msgstr = value if isinstance(value, str) else value[0]
    if "fuzzy" in entry.flags:
        entry.flags.remove("fuzzy")
    entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
    filled += 1
po.save(PO)
print(f"filled {filled}, still missing {missing}")
