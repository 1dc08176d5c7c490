#!/usr/bin/env python3
"""Checks that the rendered Kubernetes manifests and the binary agree.

Usage: check_manifests.py RENDERED_DIR BINARY

RENDERED_DIR holds `kubectl kustomize` output for each overlay (dev.yaml, production.yaml, ...);
BINARY is the release `cramp-cds`. For every overlay with a cramp-cds Deployment it checks:
- the ConfigMap's config.toml ports (server.grpc_addr, http_addr, health_addr) are the
  container's `grpc`, `http` and `health` ports;
- the readiness, liveness and startup probes are native gRPC probes on the health port, asking
  for health service names the binary actually serves ("" for readiness, the binary's liveness
  name for liveness and startup);
- both Services target container ports that exist, the gRPC one headless with appProtocol grpc;
- terminationGracePeriodSeconds covers preStop + drain delay + shutdown grace + the final
  stream flush; TOKIO_WORKER_THREADS follows the CPU limit; the HPA, PDB and NetworkPolicy
  select the Deployment's pods;
and then starts BINARY with the dev overlay's config file (addresses moved to free loopback
ports) and asks its health port for the probes' service names over gRPC, as the kubelet would.
"""

import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import time
import tomllib

import grpc
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

# From src/server.rs: the batch streams' final-status window after the grace period.
FINAL_FLUSH_SECONDS = 2
REPO = pathlib.Path(__file__).resolve().parent.parent

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def port_of(addr):
    return int(addr.rsplit(":", 1)[1])


def liveness_name():
    source = (REPO / "src/server.rs").read_text()
    match = re.search(r'pub const LIVENESS: &str = "([^"]+)";', source)
    if not match:
        sys.exit("cannot find the LIVENESS health name in src/server.rs")
    return match.group(1)


def by_kind(documents, kind):
    return [d for d in documents if d and d.get("kind") == kind]


def check_overlay(name, documents, liveness):
    deployments = [d for d in by_kind(documents, "Deployment") if d["metadata"]["name"] == "cramp-cds"]
    if not deployments:
        return None
    deployment = deployments[0]
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    container = next(c for c in pod["spec"]["containers"] if c["name"] == "cramp-cds")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}

    config_maps = [c for c in by_kind(documents, "ConfigMap") if c["metadata"]["name"].startswith("cramp-cds-config")]
    check(len(config_maps) == 1, f"{name}: expected one cramp-cds-config ConfigMap")
    config_text = config_maps[0]["data"]["config.toml"]
    config = tomllib.loads(config_text)
    server = config["server"]
    mounted = [v for v in pod["spec"]["volumes"] if v.get("configMap", {}).get("name") == config_maps[0]["metadata"]["name"]]
    check(mounted, f"{name}: the Deployment does not mount the generated ConfigMap")
    check(container["args"][:3] == ["serve", "--config", "/etc/cramp/config.toml"], f"{name}: args do not load the mounted config")

    for key, port_name in (("grpc_addr", "grpc"), ("http_addr", "http"), ("health_addr", "health")):
        check(key in server, f"{name}: config.toml has no server.{key}")
        if key in server:
            check(port_of(server[key]) == ports.get(port_name), f"{name}: server.{key} {server[key]} is not containerPort {port_name}={ports.get(port_name)}")

    health_port = ports.get("health")
    expected = {"readinessProbe": "", "livenessProbe": liveness, "startupProbe": liveness}
    for probe_name, service in expected.items():
        probe = container.get(probe_name)
        check(probe is not None, f"{name}: no {probe_name}")
        if probe is None:
            continue
        grpc_probe = probe.get("grpc")
        check(grpc_probe is not None, f"{name}: {probe_name} is not a native gRPC probe")
        if grpc_probe:
            check(grpc_probe["port"] == health_port, f"{name}: {probe_name} port {grpc_probe['port']} is not the health port {health_port}")
            check(grpc_probe.get("service", "") == service, f"{name}: {probe_name} asks for {grpc_probe.get('service')!r}, the binary serves {service!r} for it")

    for service in by_kind(documents, "Service"):
        selector = service["spec"].get("selector", {})
        if selector.get("app.kubernetes.io/name") != labels["app.kubernetes.io/name"]:
            continue
        for port in service["spec"]["ports"]:
            target = port.get("targetPort")
            check(target in ports or target in ports.values(), f"{name}: Service {service['metadata']['name']} targets unknown port {target}")
        if service["metadata"]["name"] == "cramp-cds-grpc":
            check(service["spec"].get("clusterIP") == "None", f"{name}: the gRPC Service is not headless")
            check(all(p.get("appProtocol") == "grpc" for p in service["spec"]["ports"]), f"{name}: the gRPC Service lacks appProtocol grpc")

    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    needed = pre_stop + server.get("drain_delay_seconds", 0) + server.get("shutdown_grace_seconds", 10) + FINAL_FLUSH_SECONDS
    grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
    check(grace > needed, f"{name}: terminationGracePeriodSeconds {grace} does not exceed preStop+drain+grace+flush = {needed}")

    workers = [e for e in container.get("env", []) if e["name"] == "TOKIO_WORKER_THREADS"]
    check(workers and workers[0].get("valueFrom", {}).get("resourceFieldRef", {}).get("resource") == "limits.cpu", f"{name}: TOKIO_WORKER_THREADS does not follow limits.cpu")
    check(container["securityContext"].get("readOnlyRootFilesystem") is True, f"{name}: root filesystem not read-only")
    check(deployment["spec"]["replicas"] >= 2, f"{name}: fewer than 2 replicas")

    for hpa in by_kind(documents, "HorizontalPodAutoscaler"):
        check(hpa["spec"]["scaleTargetRef"]["name"] == "cramp-cds", f"{name}: HPA targets {hpa['spec']['scaleTargetRef']['name']}")
        check(hpa["spec"]["minReplicas"] >= 2, f"{name}: HPA allows fewer than 2 replicas")
    for kind in ("PodDisruptionBudget", "NetworkPolicy"):
        for item in by_kind(documents, kind):
            selector = item["spec"].get("selector", item["spec"].get("podSelector", {})).get("matchLabels", {})
            check(all(labels.get(k) == v for k, v in selector.items()), f"{name}: {kind} {item['metadata']['name']} does not select the pods")
    return config_text


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe_the_binary(binary, config_text, liveness):
    """Runs the binary with the overlay's config and asks its health port what the probes ask."""
    config = tomllib.loads(config_text)
    health_port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "config.toml"
        path.write_text(config_text)
        env = {
            "CRAMP__SERVER__GRPC_ADDR": f"127.0.0.1:{free_port()}",
            "CRAMP__SERVER__HTTP_ADDR": f"127.0.0.1:{free_port()}",
            "CRAMP__SERVER__HEALTH_ADDR": f"127.0.0.1:{health_port}",
            # No collector here: export off (the config names the in-cluster agent).
            "OTEL_SDK_DISABLED": "true",
        }
        process = subprocess.Popen([binary, "serve", "--config", str(path)], env=env, stdout=subprocess.DEVNULL)
        try:
            channel = grpc.insecure_channel(f"127.0.0.1:{health_port}")
            stub = health_pb2_grpc.HealthStub(channel)
            deadline = time.monotonic() + 20
            while True:
                try:
                    stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                    break
                except grpc.RpcError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        sys.exit("the binary did not serve health with the dev overlay's config")
                    time.sleep(0.2)
            for service in ("", liveness):
                answer = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2)
                check(answer.status == health_pb2.HealthCheckResponse.SERVING, f"binary: health {service!r} is {answer.status}")
        finally:
            process.terminate()
            process.wait(timeout=60)
    check(process.returncode == 0, f"binary: exit status {process.returncode} after SIGTERM")
    return config["server"]["health_addr"]


def main():
    rendered, binary = pathlib.Path(sys.argv[1]), sys.argv[2]
    liveness = liveness_name()
    dev_config = None
    for path in sorted(rendered.glob("*.yaml")):
        documents = list(yaml.safe_load_all(path.read_text()))
        before = len(failures)
        config_text = check_overlay(path.stem, documents, liveness)
        if config_text is not None and len(failures) == before:
            print(f"{path.stem}: ports, probes, services, grace and selectors agree")
            if path.stem == "dev":
                dev_config = config_text
    if dev_config is None:
        sys.exit("no dev overlay rendered")
    probe_the_binary(binary, dev_config, liveness)
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(f"{len(failures)} disagreement(s) between the manifests and the binary")
    print(f"the binary serves the probes' health names {['', liveness]} on the configured health port")


main()
