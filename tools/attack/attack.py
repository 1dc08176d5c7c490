#!/usr/bin/env python3
"""The attack suite (issue 14): replays what an outside attack found against the real binary on
loopback, each scenario bounded in time and count, and fails on a crash, a lost or duplicated
record, memory over a per-scenario ceiling (VmRSS of the server, sampled), a hang, or a wrong
status.

usage: attack.py BINARY [--only NAME ...]

Starts its own servers (tight limits, JSON logs to temporary files) on 127.0.0.1 port 0, so it
needs nothing running. Clients: Python grpcio (learning the API by reflection), the `h2` package
for raw HTTP/2 streams, and raw sockets. Prints one line per scenario; exits 1 if any failed.
"""
import argparse, json, os, resource, signal, socket, subprocess, sys, tempfile, threading, time

import grpc
import h2.config, h2.connection, h2.events
from google.protobuf import descriptor_pool, message_factory
from google.rpc import error_details_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from grpc_status import rpc_status

# Tight limits so that each scenario reaches them within seconds.
TIGHT = {
    "CRAMP__LIMITS__HEADER_READ_TIMEOUT_SECONDS": "4",
    "CRAMP__LIMITS__BODY_READ_TIMEOUT_SECONDS": "5",
    "CRAMP__LIMITS__MAX_CONNECTIONS_PER_LISTENER": "1024",
    "CRAMP__SERVER__DRAIN_DELAY_SECONDS": "0",
    "CRAMP__SERVER__SHUTDOWN_GRACE_SECONDS": "1",
}
API = "cramp.v1.CrampAssessmentService"


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


class Server:
    """The binary under attack, with its log and an RSS sampler."""

    def __init__(self, binary, env):
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        full = dict(os.environ, CRAMP__LOG__FORMAT="json", CRAMP__LOG__FILTER="info", **env)
        full.pop("RUST_LOG", None)
        self.proc = subprocess.Popen(
            [binary, "serve", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=full)
        deadline = time.time() + 20
        self.grpc_addr = self.http_addr = None
        while time.time() < deadline and self.grpc_addr is None:
            for fields in self.lines():
                if fields.get("message") == "serving":
                    self.grpc_addr, self.http_addr = fields["grpc_addr"], fields["http_addr"]
            if self.proc.poll() is not None:
                raise Failure("the server exited at start")
            time.sleep(0.05)
        check(self.grpc_addr, "the server did not report its address")
        self.peak = 0
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def lines(self):
        out = []
        with open(self.log.name) as f:
            for line in f:
                try:
                    out.append(json.loads(line).get("fields", {}))
                except ValueError:
                    pass
        return out

    def rss_mib(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0

    def _sample(self):
        while self._sampling:
            self.peak = max(self.peak, self.rss_mib())
            time.sleep(0.01)

    def reset_peak(self):
        self.peak = self.rss_mib()

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise Failure("the server did not stop within 30 s of SIGTERM")
        self._sampling = False
        return self.proc.returncode


class Api:
    """grpcio stubs for the API and health, built from the server's reflection."""

    def __init__(self, addr):
        self.channel = grpc.insecure_channel(addr)
        grpc.channel_ready_future(self.channel).result(timeout=10)
        db = ProtoReflectionDescriptorDatabase(self.channel)
        pool = descriptor_pool.DescriptorPool(db)
        service = pool.FindServiceByName(API)
        self.methods = {}
        for name in ("Assess", "AssessBatch"):
            m = service.methods_by_name[name]
            self.methods[name] = (message_factory.GetMessageClass(m.input_type),
                                  message_factory.GetMessageClass(m.output_type))
        health = pool.FindServiceByName("grpc.health.v1.Health").methods_by_name["Check"]
        self.HealthReq = message_factory.GetMessageClass(health.input_type)
        self.HealthResp = message_factory.GetMessageClass(health.output_type)
        self.BatchReq = self.methods["AssessBatch"][0]

    def assess(self, request_id, timeout=5):
        Req, Resp = self.methods["Assess"]
        req = Req(request_id=request_id)
        req.history.patient.age_years = 50
        call = self.channel.unary_unary(f"/{API}/Assess", request_serializer=Req.SerializeToString,
                                        response_deserializer=Resp.FromString)
        return call(req, timeout=timeout)

    def health(self, service="", timeout=5):
        call = self.channel.unary_unary("/grpc.health.v1.Health/Check",
                                        request_serializer=self.HealthReq.SerializeToString,
                                        response_deserializer=self.HealthResp.FromString)
        status = call(self.HealthReq(service=service), timeout=timeout).status
        return self.HealthResp.DESCRIPTOR.fields_by_name["status"].enum_type.values_by_number[status].name

    def batch_record(self, i):
        r = self.BatchReq(record_id=f"r-{i}")
        r.history.patient.age_years = 40 + i % 50
        if "view" in self.BatchReq.DESCRIPTOR.fields_by_name:
            r.view = 2
        return r

    def batch_call(self):
        Req, Resp = self.methods["AssessBatch"]
        return self.channel.stream_stream(f"/{API}/AssessBatch", request_serializer=Req.SerializeToString,
                                          response_deserializer=Resp.FromString)

    def close(self):
        self.channel.close()


def reason(error):
    """The ErrorInfo reason of a grpcio error, or None."""
    status = rpc_status.from_call(error)
    for detail in (status.details if status else []):
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason
    return None


def host_port(addr):
    host, port = addr.rsplit(":", 1)
    return host, int(port)


def http_request(addr, raw, timeout=5):
    """Sends raw bytes; returns the status code of the answer (or None when closed unanswered)."""
    with socket.create_connection(host_port(addr), timeout=timeout) as s:
        s.sendall(raw)
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (socket.timeout, ConnectionResetError):
            return None
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None


def post(addr, path, body, content_type="application/json", timeout=10):
    head = (f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: {content_type}\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode()
    return http_request(addr, head + body, timeout)


def get(addr, path, timeout=5):
    return http_request(addr, f"GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".encode(), timeout)


def closed(sock, within):
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


# --- scenarios ---------------------------------------------------------------------------------

def idle_sockets(server, api):
    """1,500 idle sockets (1,200 on the HTTP door, past its cap of 1,024; 300 on gRPC): health and
    the API keep answering, readiness turns NOT_SERVING while the HTTP door is full, every socket
    is closed after the 4 s first-bytes deadline, and readiness comes back."""
    # Readiness is read as soon as the HTTP door is full, before the first sockets reach their
    # first-bytes deadline (on a loaded machine, opening the rest can take seconds).
    socks = [socket.create_connection(host_port(server.http_addr), timeout=5) for _ in range(1200)]
    deadline = time.time() + 2
    while api.health(API) != "NOT_SERVING" and time.time() < deadline:
        time.sleep(0.05)
    check(api.health(API) == "NOT_SERVING", "readiness stayed SERVING with the HTTP door at its cap")
    socks += [socket.create_connection(host_port(server.grpc_addr), timeout=5) for _ in range(300)]
    check(api.health(timeout=5) in ("SERVING", "NOT_SERVING"), "health unreachable")
    api.assess("beside-idle-sockets")
    start = time.time()
    still_open = sum(1 for s in socks if not closed(s, max(0.1, 8 - (time.time() - start))))
    for s in socks:
        s.close()
    check(still_open == 0, f"{still_open} idle sockets still open after the first-bytes deadline")
    deadline = time.time() + 3
    while api.health(API) != "SERVING" and time.time() < deadline:
        time.sleep(0.05)
    check(api.health(API) == "SERVING", "readiness did not come back")
    check(get(server.http_addr, "/ready") == 200, "/ready not 200 after the sockets went")


def slow_bodies(server, api):
    """520 HTTP bodies and 200 gRPC messages sent at 1 byte/s: other calls are still served (no
    RESOURCE_EXHAUSTED, no 503), health stays SERVING, and the slow ones end at the 5 s body-read
    timeout (408; DEADLINE_EXCEEDED)."""
    socks = []
    for _ in range(520):
        s = socket.create_connection(host_port(server.http_addr), timeout=10)
        s.sendall(b"POST /fhir/$cramp-assess HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                  b"content-length: 1000\r\n\r\n{")
        socks.append(s)
    grpc_slow = [SlowGrpc(server.grpc_addr, streams=20) for _ in range(10)]
    stop = threading.Event()

    def trickle():
        while not stop.wait(1):
            for s in socks:
                try:
                    s.sendall(b" ")
                except OSError:
                    pass
            for g in grpc_slow:
                g.trickle()
    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    time.sleep(0.5)
    for i in range(50):
        api.assess(f"beside-slow-{i}")
    check(get(server.http_addr, "/about") == 200, "/about refused beside slow bodies")
    check(api.health(API) == "SERVING", "readiness NOT_SERVING though no slot is taken")
    answered = {}
    for s in socks:
        s.settimeout(10)
        try:
            line = s.recv(64)
            code = int(line.split(b" ", 2)[1]) if line.startswith(b"HTTP/1.1 ") else None
        except (socket.timeout, OSError):
            code = None
        answered[code] = answered.get(code, 0) + 1
        s.close()
    stop.set()
    statuses = {}
    for g in grpc_slow:
        for code in g.finish(timeout=10):
            statuses[code] = statuses.get(code, 0) + 1
    check(answered == {408: 520}, f"slow HTTP bodies answered {answered}, expected 408 x 520")
    check(statuses == {"4": 200}, f"slow gRPC messages ended {statuses}, expected grpc-status 4 x 200")


class SlowGrpc:
    """One HTTP/2 connection (the `h2` package) with unary Assess calls whose message trickles."""

    def __init__(self, addr, streams):
        self.sock = socket.create_connection(host_port(addr), timeout=10)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.streams = []
        for _ in range(streams):
            sid = self.conn.get_next_available_stream_id()
            self.conn.send_headers(sid, [(":method", "POST"), (":scheme", "http"), (":authority", addr),
                                         (":path", f"/{API}/Assess"), ("content-type", "application/grpc"),
                                         ("te", "trailers")])
            # A 5-byte prefix announcing a 100-byte message, then one byte of it.
            self.conn.send_data(sid, b"\x00\x00\x00\x00\x64\x0a")
            self.streams.append(sid)
        self.sock.sendall(self.conn.data_to_send())

    def trickle(self):
        try:
            for sid in self.streams:
                self.conn.send_data(sid, b"\x00")
            self.sock.sendall(self.conn.data_to_send())
        except Exception:  # streams already ended by the server
            pass

    def finish(self, timeout):
        """The grpc-status of each stream (None for one that got none in time)."""
        status = {}
        deadline = time.time() + timeout
        self.sock.settimeout(0.5)
        while len(status) < len(self.streams) and time.time() < deadline:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            for event in self.conn.receive_data(data):
                headers = getattr(event, "headers", None)
                if headers:
                    for k, v in headers:
                        k = k.decode() if isinstance(k, bytes) else k
                        if k == "grpc-status":
                            status[event.stream_id] = v.decode() if isinstance(v, bytes) else v
            try:
                self.sock.sendall(self.conn.data_to_send())
            except OSError:
                break
        self.sock.close()
        return [status.get(sid) for sid in self.streams]


def json_amplification(server, api):
    """16 concurrent $cramp-assess bodies of 240k tiny QuestionnaireResponse items (3.8 MB each)
    and 16 CDS Hooks prefetches of 90k Conditions: all 413 before any model is built."""
    items = b",".join([b'{"linkId":"x"}'] * 240_000)
    qr = (b'{"resourceType":"Parameters","parameter":[{"name":"response","resource":'
          b'{"resourceType":"QuestionnaireResponse","status":"completed","item":[' + items + b"]}}]}")
    entries = b",".join([b'{"resource":{"resourceType":"Condition"}}'] * 90_000)
    hook = (b'{"hook":"patient-view","hookInstance":"d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",'
            b'"context":{"userId":"Practitioner/1","patientId":"p1"},'
            b'"prefetch":{"conditions":{"resourceType":"Bundle","type":"searchset","entry":[' + entries + b"]}}}")
    results = []

    def send(path, body):
        results.append(post(server.http_addr, path, body, timeout=20))
    threads = [threading.Thread(target=send, args=("/fhir/$cramp-assess", qr)) for _ in range(16)]
    threads += [threading.Thread(target=send, args=("/cds-services/leg-cramp-screen", hook)) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    check(results == [413] * 32, f"answers {sorted(set(map(str, results)))}, expected 413 x 32")


def json_at_the_caps(server, api):
    """16 concurrent $cramp-assess bodies at the caps (10,000 items of 8 values each: 80,000
    values): read and answered on their merits, within the per-request memory budget the README
    states (the RSS ceiling of this scenario)."""
    items = b",".join([b'{"linkId":"x","answer":[{"valueString":"y"}],"item":[{"linkId":"z"}]}'] * 10_000)
    qr = (b'{"resourceType":"Parameters","parameter":[{"name":"response","resource":'
          b'{"resourceType":"QuestionnaireResponse","status":"completed","item":[' + items + b"]}}]}")
    results = []
    threads = [threading.Thread(target=lambda: results.append(post(server.http_addr, "/fhir/$cramp-assess", qr)))
               for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    check(len(results) == 16 and 413 not in results and None not in results and 503 not in results,
          f"answers {results}")


def hostile_bodies(server, api):
    """Bodies that survived the first attack stay answered right: 100k-deep JSON (413), a 50 MB
    declared body (413), an unterminated chunked body (408 at the body-read timeout), text/plain."""
    deep = b"[" * 100_000 + b"]" * 100_000
    check(post(server.http_addr, "/fhir/$cramp-assess", deep) == 413, "100k-deep JSON not 413")
    head = (b"POST /fhir/$cramp-assess HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"content-length: 52428800\r\n\r\n")
    check(http_request(server.http_addr, head) == 413, "declared 50 MB body not 413")
    chunked = (b"POST /fhir/$cramp-assess HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
               b"transfer-encoding: chunked\r\n\r\n10\r\n{\"resourceType\"")
    check(http_request(server.http_addr, chunked, timeout=8) == 408, "unterminated chunked body not 408")


def batch_sigterm(binary):
    """SIGTERM during AssessBatch streams (grpcio, one record per DATA frame, 3 runs): every answer
    the server logged is received, in order, then UNAVAILABLE with SERVER_SHUTTING_DOWN."""
    for run in range(3):
        server = Server(binary, TIGHT)
        api = Api(server.grpc_addr)
        received = 0
        ending = None
        try:
            for answer in api.batch_call()((api.batch_record(i) for i in range(1_000_000)), timeout=60):
                check(answer.record_id == f"r-{received}", f"run {run}: answer {answer.record_id} out of order")
                received += 1
                if received == 3_000:
                    server.proc.send_signal(signal.SIGTERM)
        except grpc.RpcError as e:
            ending = (e.code(), reason(e))
        api.close()
        code = server.stop()
        logged = [f.get("answered") for f in server.lines() if f.get("message") == "batch stream closed"]
        check(code == 0, f"run {run}: exit code {code}")
        check(ending == (grpc.StatusCode.UNAVAILABLE, "SERVER_SHUTTING_DOWN"),
              f"run {run}: the stream ended {ending}, expected UNAVAILABLE SERVER_SHUTTING_DOWN")
        check(logged == [received], f"run {run}: server answered {logged}, client received {received}")
        check(received > 3_000, f"run {run}: the stream did not run on after the signal")


SCENARIOS = [
    # name, function, RSS ceiling (MiB) while it runs, time budget (s)
    # One server runs them in turn and its allocator keeps what a scenario used, so the
    # scenarios with the lower ceilings run before the JSON bodies that use the most.
    ("idle_sockets", idle_sockets, 150, 25),
    ("slow_bodies", slow_bodies, 150, 25),
    ("hostile_bodies", hostile_bodies, 150, 20),
    ("json_amplification", json_amplification, 200, 30),
    ("json_at_the_caps", json_at_the_caps, 250, 30),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 8192), hard), hard))
    failed = 0
    wanted = lambda name: not a.only or name in a.only
    server = Server(a.binary, TIGHT)
    api = Api(server.grpc_addr)
    for name, scenario, ceiling, budget in SCENARIOS:
        if not wanted(name):
            continue
        server.reset_peak()
        started = time.time()
        try:
            scenario(server, api)
            check(server.alive(), "the server died")
            check(server.peak <= ceiling, f"peak RSS {server.peak:.0f} MiB over the {ceiling} MiB ceiling")
            elapsed = time.time() - started
            check(elapsed <= budget, f"took {elapsed:.1f} s, budget {budget} s")
            verdict = "ok"
        except (Failure, grpc.RpcError, OSError) as e:
            failed += 1
            verdict = f"FAILED: {e}"
        print(f"{name}: {verdict} ({time.time() - started:.1f} s, peak RSS {server.peak:.0f} MiB)", flush=True)
    api.close()
    code = server.stop()
    if code != 0:
        failed += 1
        print(f"server exit code {code}")
    if wanted("batch_sigterm"):
        started = time.time()
        try:
            batch_sigterm(a.binary)
            verdict = "ok"
        except (Failure, grpc.RpcError, OSError) as e:
            failed += 1
            verdict = f"FAILED: {e}"
        print(f"batch_sigterm: {verdict} ({time.time() - started:.1f} s)", flush=True)
    print(f"attack suite: {'FAILED' if failed else 'passed'} ({failed} failed)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
