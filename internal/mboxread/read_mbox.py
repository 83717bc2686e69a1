"""Reads an mbox file with Python's standard mailbox module and prints, as
JSON, what a mail client sees of each message: its "From " line, its flags
(Status and X-Status letters), its X-Keywords, and its bytes."""
import base64
import json
import mailbox
import sys

out = []
box = mailbox.mbox(sys.argv[1], create=False)
for key in box.keys():
    msg = box[key]
    out.append({
        "from": msg.get_from(),
        "flags": msg.get_flags(),
        "keywords": msg.get("X-Keywords", ""),
        "bytes": base64.b64encode(box.get_bytes(key)).decode("ascii"),
    })
box.close()
json.dump(out, sys.stdout)
