"""A webhook / ntfy receiver for tests: records every request as one JSON line.

Usage: http_sink.py PORT RECORD_FILE [STATUS]
Each line: {"method", "path", "headers": {lower-case name: value}, "body": base64}.
Answers STATUS (default 200) with a small JSON body, as ntfy does.
"""
import base64
import http.server
import json
import sys

port, record = int(sys.argv[1]), sys.argv[2]
status = int(sys.argv[3]) if len(sys.argv) > 3 else 200


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        entry = {"method": "POST", "path": self.path,
                 "headers": {k.lower(): v for k, v in self.headers.items()},
                 "body": base64.b64encode(body).decode()}
        with open(record, "a") as f:
            f.write(json.dumps(entry) + "\n")
        reply = json.dumps({"id": "test", "event": "message"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
