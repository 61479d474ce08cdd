"""Parses an e-mail file with Python's email package and prints what a reader sees, as JSON."""
import email
import email.policy
import json
import sys

with open(sys.argv[1], "rb") as f:
    message = email.message_from_binary_file(f, policy=email.policy.default)
print(json.dumps({
    "subject": str(message["subject"]),
    "from": str(message["from"]),
    "to": str(message["to"]),
    "envelope_from": str(message["x-envelope-from"]),
    "envelope_to": str(message["x-envelope-to"]),
    "authenticated": str(message["x-authenticated"]),
    "content_type": message.get_content_type(),
    "charset": message.get_content_charset(),
    "language": str(message["content-language"]),
    "message_id": str(message["message-id"]),
    "body": message.get_content(),
}))
