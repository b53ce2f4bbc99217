"""Skywhisk's python action runtime: OpenWhisk's action protocol (POST /init once, POST /run per
activation) over HTTP on port 8080, or the port or unix socket named by __OW_LISTEN.
Standard library only, so the same file runs in any python 3.9+ image."""
import base64
import hashlib
import hmac
import io
import json
import os
import socket
import socketserver
import sys
import threading
import traceback
import zipfile
from http.server import BaseHTTPRequestHandler, HTTPServer

SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"
ACTION_DIR = os.environ.get("__OW_ACTION_DIR", "/tmp/action")

state = {"main": None, "initialized": False}
run_lock = threading.Lock()


def _digest(text):
    return hashlib.sha256(text.encode("utf-8")).digest()


# The invoker's per-container secret: every request must carry it as "Authorization: Bearer
# <token>", so no other code that can reach this socket can initialise or run anything here. It
# comes in a file (__OW_RUNTIME_TOKEN_FILE) that is removed once read, before any action code
# loads, so the action finds it neither on disk nor in its environment; only its digest is kept.
# Without one (a blackbox use of this image) requests are not checked.
def _read_token():
    path = os.environ.pop("__OW_RUNTIME_TOKEN_FILE", "")
    if not path:
        return ""
    with open(path, encoding="utf-8") as f:
        token = f.read().strip()
    os.remove(path)
    if not token:
        raise SystemExit("the runtime token file is empty")
    return token


_TOKEN = _read_token()
EXPECTED_AUTHORIZATION = _digest("Bearer " + _TOKEN) if _TOKEN else None
del _TOKEN


def authorized(headers):
    if EXPECTED_AUTHORIZATION is None:
        return True
    presented = headers.get("authorization")
    return presented is not None and hmac.compare_digest(_digest(presented), EXPECTED_AUTHORIZATION)


def end_of_activation():
    sys.stdout.write(SENTINEL + "\n")
    sys.stdout.flush()
    sys.stderr.write(SENTINEL + "\n")
    sys.stderr.flush()


def load_action(value):
    main_name = value.get("main") or "main"
    code = value.get("code")
    if not isinstance(code, str):
        raise ValueError("Missing main/no code to execute.")
    namespace = {"__name__": "__main__"}
    if value.get("binary"):
        os.makedirs(ACTION_DIR, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(base64.b64decode(code))) as archive:
            archive.extractall(ACTION_DIR)
        entry = os.path.join(ACTION_DIR, "__main__.py")
        if not os.path.exists(entry):
            raise ValueError("Zip file does not include __main__.py")
        sys.path.insert(0, ACTION_DIR)
        with open(entry, "r", encoding="utf-8") as source:
            exec(compile(source.read(), entry, "exec"), namespace)
    else:
        exec(compile(code, "__main__.py", "exec"), namespace)
    main = namespace.get(main_name)
    if not callable(main):
        raise ValueError("Action entrypoint '%s' is not a function." % main_name)
    return main


# Seconds a connection may stay without presenting the token.
UNAUTHENTICATED_IDLE_S = 5


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep the action's stdout for the action
        pass

    def setup(self):
        super().setup()
        # Headers and body are two writes: without this, Nagle holds the body until the client's
        # delayed ACK of the headers, about 40 ms on every reply over a kept-alive TCP connection.
        if self.connection.family in (socket.AF_INET, socket.AF_INET6):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # A connection must show the token within seconds: one that sends nothing is dropped.
        self.connection.settimeout(UNAUTHENTICATED_IDLE_S)

    def reply(self, status, body, close=False):
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        if close:
            self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def read_json(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw.decode("utf-8") or "{}")

    def do_POST(self):
        if not authorized(self.headers):
            # Refused before the body is read; the connection is not reused.
            self.close_connection = True
            self.reply(403, {"error": "Forbidden: this runtime answers only its invoker."}, close=True)
            return
        # The invoker's own connection: kept for the container's life, however long a run takes.
        self.connection.settimeout(None)
        try:
            message = self.read_json()
        except Exception as error:  # malformed body
            self.reply(400, {"error": "Bad request: %s" % error})
            return
        if self.path == "/init":
            self.init(message)
        elif self.path == "/run":
            self.run(message)
        elif self.path == "/warmup":
            self.warm_up()
        else:
            self.reply(404, {"error": "Not found."})

    def warm_up(self):
        """A stem cell's first request (Skywhisk's, not OpenWhisk's): it takes the first-use costs
        of the connection, a compile and a reply, so the action's /init does not. It changes nothing."""
        exec(compile("def main(args):\n    return args\n", "__warmup__.py", "exec"), {"__name__": "__warmup__"})
        self.reply(200, {"ok": True})

    def init(self, message):
        if state["initialized"]:
            self.reply(403, {"error": "Cannot initialize the action more than once."})
            return
        value = message.get("value") or {}
        try:
            for key, v in (value.get("env") or {}).items():
                os.environ[key] = v if isinstance(v, str) else json.dumps(v)
            state["main"] = load_action(value)
            state["initialized"] = True
            self.reply(200, {"ok": True})
        except Exception as error:
            traceback.print_exc()
            self.reply(502, {"error": "Initialization has failed due to: %s" % error})
            end_of_activation()

    def run(self, message):
        if not state["initialized"]:
            self.reply(403, {"error": "System not ready, status is not initialized."})
            end_of_activation()
            return
        with run_lock:
            for key, v in message.items():
                if key != "value" and isinstance(v, str):
                    os.environ["__OW_" + key.upper()] = v
            try:
                result = state["main"](message.get("value") or {})
            except Exception as error:
                traceback.print_exc()
                self.reply(502, {"error": "An error has occurred: %s" % error})
                end_of_activation()
                return
            sys.stdout.flush()
            sys.stderr.flush()
            if isinstance(result, (dict, list)):
                self.reply(200, result)
            else:
                self.reply(502, {"error": "The action did not return a dictionary."})
            end_of_activation()


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    # A full backlog refuses unix connections at once (EAGAIN), the invoker's included.
    request_queue_size = 128

    def get_request(self):
        request, _ = super().get_request()
        return request, ("local", 0)


class TCPServer(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    listen = os.environ.get("__OW_LISTEN", "8080")
    if listen.isdigit():
        server = TCPServer((os.environ.get("__OW_LISTEN_HOST", "0.0.0.0"), int(listen)), Handler)
    else:
        server = UnixHTTPServer(listen, Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
