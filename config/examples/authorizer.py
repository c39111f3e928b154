#!/usr/bin/env python3
"""The custom-authorizer endpoint of config/examples/authorizer.toml.

/basic is the seed 000 function: allow `Authorization: Basic
dXNlcjE6cGFzc3dvcmQ=` (user1:password), else deny with the seed 001 §3
context. /backend is the S002 backend function: token = base64(user_data).
Standard library only; listens on 127.0.0.1:18081.
"""
import base64
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def basic(event):
    if event["headers"].get("authorization") == "Basic dXNlcjE6cGFzc3dvcmQ=":
        return {"status": "allow", "context": {"user_name": "user1", "admin": False}}
    return {"status": "deny", "context": {
        "code": "1001", "message": "incorrect username or password",
        "authorizer_success": "false"}}


def backend(event):
    token = base64.b64encode(event["user_data"].encode()).decode()
    return {"status": "allow", "context": {"token": token}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the gateway pools connections

    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        decide = basic if self.path == "/basic" else backend
        out = json.dumps({"statusCode": 200, "body": json.dumps(decide(event))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", 18081), Handler).serve_forever()
