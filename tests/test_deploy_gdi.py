"""deploy/gdi/ (the GDI node: two beacons from one image) against the project itself, offline.

As tests/test_deploy.py does for deploy/: every file is parsed, and each claim it makes (a subcommand,
a configuration file, a port, a store, a dataset, a probe path) is checked against the real CLIs, the
real configuration loader and the real app. `docker compose config` and `kubectl kustomize` run too
where they are installed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate
import pytest
import yaml

from beacon.api.app import create_app
from beacon.config import Config, load_config
from tests.conftest import AiohttpClient
from tests.test_deploy import KUBERNETES_VERSION, LOOPBACK, _app_of, _exec_form, _final, _image_env, _parse

ROOT = Path(__file__).resolve().parent.parent
GDI = ROOT / "deploy" / "gdi"
BEACONS = ("allele-frequency", "individuals")


# --- compose ----------------------------------------------------------------------------------------


@cache
def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = yaml.safe_load((GDI / "compose.yaml").read_text())["services"]
    return services


def _argv(service: str) -> list[str]:
    spec = _services()[service]
    entrypoint = spec.get("entrypoint") or _exec_form(_final().last("ENTRYPOINT"))
    return list(entrypoint) + list(spec.get("command") or _exec_form(_final().last("CMD")))


def _env(service: str) -> dict[str, str]:
    return _image_env() | {k: str(v) for k, v in _services()[service].get("environment", {}).items()}


def _mounted(service: str, container_path: str) -> Path:
    """The repository file a compose service sees at `container_path` (a bind mount of deploy/gdi/)."""
    for volume in _services()[service].get("volumes", []):
        source, dest = volume.split(":")[:2]
        if source.startswith(".") and PurePosixPath(dest) == PurePosixPath(container_path):
            return (GDI / source).resolve()
    pytest.fail(f"{service}: {container_path} is not mounted from the repository")


def _config_of(service: str) -> Config:
    args = _parse(_argv(service))
    return load_config(_mounted(service, str(args.config)), env=_env(service))


def test_compose_runs_two_beacons_each_after_its_loader() -> None:
    assert set(_services()) == {"load-allele-frequency", "load-individuals", *BEACONS}
    for beacon in BEACONS:
        assert _app_of(_argv(beacon)) == "beacon"
        assert _services()[beacon]["depends_on"] == {f"load-{beacon}": {"condition": "service_completed_successfully"}}
        assert _services()[f"load-{beacon}"]["restart"] == "no"


@pytest.mark.parametrize("service", sorted(_services()))
def test_compose_service_is_our_image_running_a_subcommand_with_a_valid_configuration(service: str) -> None:
    build = _services()[service]["build"]
    assert (GDI / build["context"]).resolve() == ROOT
    assert build["dockerfile"] == "deploy/Dockerfile"
    args = _parse(_argv(service))
    assert args.config is not None, "each beacon has its own configuration file"
    assert _config_of(service).beacon.id.startswith("org.example.gdi.")


@pytest.mark.parametrize("beacon", BEACONS)
def test_compose_beacon_listens_on_its_published_port_and_probe_port(beacon: str) -> None:
    args = _parse(_argv(beacon))
    config = _config_of(beacon)
    port = args.port or config.server.port
    assert args.host not in LOOPBACK
    assert _services()[beacon]["ports"] == [f"{port}:{port}"]
    assert _env(beacon)["BEACON_PORT"] == str(port), "the image's HEALTHCHECK probes BEACON_PORT"
    assert config.beacon.base_url == f"http://127.0.0.1:{port}/api"


def test_compose_loader_and_beacon_share_one_store_and_the_two_beacons_never_do() -> None:
    stores = {}
    for beacon in BEACONS:
        loader, server = _config_of(f"load-{beacon}"), _config_of(beacon)
        assert loader.store_uri == server.store_uri, beacon
        assert loader.store_uri != _image_env()["BEACON_STORE"], "not the image's default store"
        stores[beacon] = server.store_uri
        volumes = {v.split(":")[0] for v in _services()[beacon]["volumes"]}
        assert volumes & {v.split(":")[0] for v in _services()[f"load-{beacon}"]["volumes"]} >= {"gdi-stores"}
    assert len(set(stores.values())) == 2
    assert "gdi-stores" in yaml.safe_load((GDI / "compose.yaml").read_text())["volumes"]


@pytest.mark.parametrize("beacon", BEACONS)
def test_compose_loader_loads_the_dataset_its_beacon_declares(beacon: str) -> None:
    args = _parse(_argv(f"load-{beacon}"))
    declared = {d.id: d for d in _config_of(beacon).datasets}
    assert args.dataset in declared
    assert getattr(args, "assembly", None) == declared[args.dataset].assembly
    inputs = [PurePosixPath(str(p)) for p in getattr(args, "files", None) or [args.directory]]
    assert all(PurePosixPath("/data") in p.parents for p in inputs)
    assert _mounted(f"load-{beacon}", "/data") == GDI / "data"


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode != 0,
    reason="docker compose is not installed",
)
def test_docker_compose_accepts_the_file() -> None:
    done = subprocess.run(
        ["docker", "compose", "-f", str(GDI / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


# --- Kubernetes -------------------------------------------------------------------------------------


@cache
def _kustomization() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((GDI / "kustomization.yaml").read_text())
    return data


@cache
def _manifests() -> tuple[dict[str, Any], ...]:
    """The resources as kustomize renders them, without kustomize: namespace set, ConfigMap generated."""
    docs = []
    for resource in _kustomization()["resources"]:
        for doc in yaml.safe_load_all((GDI / resource).read_text()):
            if doc["kind"] != "Namespace":
                doc["metadata"]["namespace"] = _kustomization()["namespace"]
            docs.append(doc)
    for generator in _kustomization()["configMapGenerator"]:
        data = {Path(f).name: (GDI / f).read_text() for f in generator["files"]}
        meta = {"name": generator["name"], "namespace": _kustomization()["namespace"]}
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data})
    return tuple(docs)


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _manifests() if d["kind"] == kind}


def _containers() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for kind in ("Deployment", "Job"):
        for name, doc in _of_kind(kind).items():
            pod = doc["spec"]["template"]["spec"]
            for container in pod["containers"]:
                yield f"{kind}/{name}", pod, container


def _k8s_argv(container: dict[str, Any]) -> list[str]:
    command = container.get("command") or _exec_form(_final().last("ENTRYPOINT"))
    return list(command) + list(container["args"])


def _k8s_config(pod: dict[str, Any], container: dict[str, Any]) -> tuple[Path, dict[str, str]]:
    """The configuration file a container reads (from the generated ConfigMap) and its environment."""
    args = _parse(_k8s_argv(container))
    target = PurePosixPath(str(args.config))
    volumes = {v["name"]: v for v in pod["volumes"]}
    (mount,) = [m for m in container["volumeMounts"] if PurePosixPath(m["mountPath"]) == target.parent]
    generated = volumes[mount["name"]]["configMap"]["name"]
    (generator,) = [g for g in _kustomization()["configMapGenerator"] if g["name"] == generated]
    (source,) = [GDI / f for f in generator["files"] if Path(f).name == target.name]
    secrets = _of_kind("Secret")
    env = _image_env()
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        ref = item["valueFrom"]["secretKeyRef"]
        env[item["name"]] = secrets[ref["name"]]["stringData"][ref["key"]]
    return source, env


@pytest.mark.parametrize("doc", _manifests(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_manifest_is_valid_for_kubernetes(doc: dict[str, Any]) -> None:
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {'.'.join(map(str, exc.path))}: {exc.message}")


def test_kustomization_lists_every_manifest_and_generates_the_configuration_from_the_compose_files() -> None:
    listed = set(_kustomization()["resources"])
    on_disk = {f"kubernetes/{p.name}" for p in (GDI / "kubernetes").glob("*.yaml")}
    assert listed == on_disk
    (generator,) = _kustomization()["configMapGenerator"]
    assert sorted(generator["files"]) == [f"{b}.yaml" for b in BEACONS]
    images = {i["name"] for i in _kustomization()["images"]}
    assert {c["image"] for _, _, c in _containers()} <= images


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_kustomize_renders_the_same_objects() -> None:
    done = subprocess.run(["kubectl", "kustomize", str(GDI)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    rendered = {
        (d["kind"], d["metadata"]["name"].rsplit("-", 1)[0] if d["kind"] == "ConfigMap" else d["metadata"]["name"])
        for d in yaml.safe_load_all(done.stdout)
    }
    assert rendered == {(d["kind"], d["metadata"]["name"]) for d in _manifests()}


@dataclass(frozen=True)
class Workload:
    """A one-container Deployment or Job: its manifest, pod, container, arguments, configuration and environment."""

    manifest: dict[str, Any]
    pod: dict[str, Any]
    container: dict[str, Any]
    args: argparse.Namespace
    source: Path
    env: dict[str, str]

    @classmethod
    def named(cls, kind: str, name: str) -> Workload:
        manifest = _of_kind(kind)[name]
        pod = manifest["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        return cls(manifest, pod, container, _parse(_k8s_argv(container)), *_k8s_config(pod, container))

    def config(self) -> Config:
        return load_config(self.source, env=self.env)


@pytest.mark.parametrize("beacon", BEACONS)
def test_each_beacon_deployment_serves_its_configuration_on_its_container_port_and_service(beacon: str) -> None:
    workload = Workload.named("Deployment", f"gdi-{beacon}")
    deployment, container = workload.manifest, workload.container
    assert workload.args.command == "serve"
    assert workload.source == GDI / f"{beacon}.yaml", "the same file compose mounts"
    config = workload.config()
    assert config.server.host not in LOOPBACK
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": config.server.port}
    assert config.store_uri.startswith("mongodb://"), "the Secret's store, not the file's SQLite"
    service = _of_kind("Service")[f"gdi-{beacon}"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(config.server.port)


@pytest.mark.parametrize("beacon", BEACONS)
def test_each_load_job_fills_the_store_its_beacon_reads_with_a_declared_dataset(beacon: str) -> None:
    job = Workload.named("Job", f"gdi-load-{beacon}")
    assert job.env["BEACON_STORE"] == Workload.named("Deployment", f"gdi-{beacon}").env["BEACON_STORE"]
    assert job.args.dataset in {d.id for d in job.config().datasets}
    assert job.pod["restartPolicy"] == "Never"
    claims = {v["persistentVolumeClaim"]["claimName"] for v in job.pod["volumes"] if "persistentVolumeClaim" in v}
    assert claims <= set(_of_kind("PersistentVolumeClaim"))


def test_the_two_beacons_have_separate_stores_and_the_secret_holds_only_placeholders() -> None:
    (secret,) = _of_kind("Secret").values()
    stores = secret["stringData"]
    assert set(stores) == set(BEACONS)
    assert len(set(stores.values())) == 2
    assert all("PLACEHOLDER" in uri for uri in stores.values())


# --- the real app behind the probes -----------------------------------------------------------------


@pytest.fixture(scope="module")
def profile_configs() -> dict[str, Config]:
    return {b: load_config(GDI / f"{b}.yaml", env={}) for b in BEACONS}


@pytest.mark.parametrize("beacon", BEACONS)
async def test_probe_and_scrape_paths_answer_200_on_the_real_app(
    beacon: str, profile_configs: dict[str, Config], aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    config = replace(profile_configs[beacon], store_uri=f"sqlite:///{tmp_path / 'empty.db'}")
    client = await aiohttp_client(create_app(config))
    container = _of_kind("Deployment")[f"gdi-{beacon}"]["spec"]["template"]["spec"]["containers"][0]
    annotations = _of_kind("Deployment")[f"gdi-{beacon}"]["spec"]["template"]["metadata"]["annotations"]
    paths = [container[p]["httpGet"]["path"] for p in ("readinessProbe", "livenessProbe")]
    for path in [*paths, annotations["prometheus.io/path"], "/.well-known/oauth-protected-resource"]:
        resp = await client.get(path)
        assert resp.status == 200, (path, await resp.text())
