"""deploy/ against the project itself: CLIs, configuration loaders, real routes, Kubernetes schemas.

No container engine runs here or in CI, so nothing is built or started: every file is parsed, and each
claim it makes about the project (a subcommand, a config file, a port, a probe path, a scrape target)
is checked against the real code, the real configuration loaders and a real aiohttp server.
"""

from __future__ import annotations

import argparse
import re
import shlex
import tomllib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from beacon import cli as beacon_cli
from beacon.aggregator.app import create_aggregator_app
from beacon.aggregator.settings import load_aggregator_settings, settings_from
from beacon.api.app import create_app
from beacon.config import load_config
from ingest.arguments import build_parser as ingest_parser
from tests.conftest import AiohttpClient, make_config

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
KUBERNETES_VERSION = "1.30"  # the oldest minor version the manifests are meant for
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PARSERS: dict[str, Callable[[], argparse.ArgumentParser]] = {
    "beacon": beacon_cli._parser,
    "beacon-ingest": ingest_parser,
}
# Which application a served subcommand runs; probes and scrape paths are checked on that app.
APP_OF = {"serve": "beacon", "aggregate": "aggregator"}

ServerFactory = Callable[..., Awaitable[TestServer]]


def _yaml_docs(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def _deploy_yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in {".yaml", ".yml"})


# --- Dockerfile -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    base: str
    name: str | None
    instructions: tuple[tuple[str, str], ...]  # (KEYWORD, rest of the line)

    def all(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"stage {self.name or self.base}: no {keyword}"
        return found[-1]


@cache
def _stages() -> tuple[Stage, ...]:
    """deploy/Dockerfile as stages of (keyword, arguments), continuation lines joined."""
    logical: list[str] = []
    pending = ""
    for raw in (DEPLOY / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[tuple[str, str | None, list[tuple[str, str]]]] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].lower() == "as" else None
            stages.append((words[0], name, []))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1][2].append((keyword, rest.strip()))
    return tuple(Stage(base, name, tuple(instr)) for base, name, instr in stages)


def _final() -> Stage:
    return _stages()[-1]


def _exec_form(text: str) -> list[str]:
    value = yaml.safe_load(text)  # a JSON array is a YAML flow sequence
    assert isinstance(value, list), f"not in exec form: {text}"
    return [str(v) for v in value]


def _options(rest: str) -> tuple[dict[str, str], list[str]]:
    """`--from=build a b` -> ({'from': 'build'}, ['a', 'b'])."""
    options, words = {}, []
    for word in shlex.split(rest):
        if word.startswith("--"):
            key, _, value = word[2:].partition("=")
            options[key] = value
        else:
            words.append(word)
    return options, words


def _image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for rest in _final().all("ENV"):
        for word in shlex.split(rest):
            key, sep, value = word.partition("=")
            assert sep, f"ENV {rest}: use the KEY=value form"
            env[key] = value
    return env


def _image_workdir() -> PurePosixPath:
    return PurePosixPath(_final().last("WORKDIR"))


def _image_uid() -> int:
    user = _final().last("USER").split(":")[0]
    assert user.isdigit(), f"USER {user}: a numeric UID lets Kubernetes verify runAsNonRoot"
    return int(user)


def _image_file(container_path: str) -> Path | None:
    """The repository file a path inside the image comes from (COPY without --from), if any."""
    target = _image_workdir() / container_path
    for rest in _final().all("COPY"):
        options, words = _options(rest)
        if "from" in options:
            continue
        *sources, dest = words
        dest_path = _image_workdir() / dest
        for source in sources:
            into = dest_path / Path(source).name if dest.endswith("/") else dest_path
            if target == into or into in target.parents:
                return ROOT / source / target.relative_to(into)
    return None


def _dockerignore() -> list[str]:
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_dockerfile_builds_wheels_in_one_stage_and_runs_them_in_a_slim_one_without_compilers() -> None:
    stages = [s for s in _stages() if s.base != "scratch"]
    assert len(stages) >= 2
    builder, runtime = stages[0], _final()
    assert any("pip wheel" in r for r in builder.all("RUN"))
    assert any("gcc" in r for r in builder.all("RUN")), "the builder stage provides the compiler cyvcf2 may need"
    assert runtime.base.startswith("python:3.11")
    assert runtime.base.endswith("-slim")
    runtime_runs = " ".join(runtime.all("RUN"))
    assert not re.search(r"\b(gcc|g\+\+|clang|build-essential|make|[a-z0-9]+-dev)\b", runtime_runs), runtime_runs
    assert "--no-index" in runtime_runs, "the runtime installs only the wheels built in the builder stage"
    # Wheels come through a bind mount, so no layer of the final image holds them.
    assert not any("--from=build" in c for c in runtime.all("COPY"))


def test_dockerfile_stage_references_name_defined_stages() -> None:
    names = {s.name for s in _stages() if s.name}
    refs = re.findall(
        r"--(?:from|mount=type=bind,from)=([\w.-]+)", " ".join(r for s in _stages() for _, r in s.instructions)
    )
    assert refs
    assert set(refs) <= names, f"undefined stages: {set(refs) - names}"


def test_dockerfile_runs_as_a_fixed_non_root_uid() -> None:
    assert _image_uid() >= 1000
    assert f"--uid {_image_uid()}" in " ".join(_final().all("RUN")), "the user is created with the same UID"


def test_dockerfile_copies_only_repository_files_that_the_build_context_keeps() -> None:
    ignored = _dockerignore()
    copied = []
    for stage in _stages():
        for rest in stage.all("COPY"):
            options, words = _options(rest)
            if "from" not in options:
                copied += words[:-1]
    assert {"pyproject.toml", "beacon", "ingest", "schemas", "conf"} <= set(copied)
    for source in copied:
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        assert not any(fnmatch(source, pattern) for pattern in ignored), f"COPY {source}: excluded by the dockerignore"
    assert {".venv", ".git", "var"} <= set(ignored)


def test_dockerfile_entrypoint_and_command_are_a_beacon_subcommand() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert set(PARSERS) == set(scripts), "a console script without a parser here (or the reverse)"
    entrypoint, command = _exec_form(_final().last("ENTRYPOINT")), _exec_form(_final().last("CMD"))
    assert entrypoint == ["beacon"]
    args = _parse(entrypoint + command)
    assert args.command == "serve"
    assert args.host not in LOOPBACK, "a server bound to loopback cannot be reached from outside its container"


def test_dockerfile_exposes_the_port_the_image_configuration_listens_on() -> None:
    config = load_config(_image_file("conf/beacon.yaml"), env=_image_env())
    assert _final().last("EXPOSE").split("/")[0] == str(config.server.port)
    healthcheck = _final().last("HEALTHCHECK")
    assert re.search(rf"BEACON_PORT', '{config.server.port}'", healthcheck), healthcheck


def test_dockerfile_builds_the_wheel_with_the_schemas_and_sets_no_spec_dir() -> None:
    build = next(s for s in _stages() if s.name == "build")
    copied = {w for rest in build.all("COPY") for w in _options(rest)[1][:-1]}
    assert {"setup.py", "schemas"} <= copied, "setup.py maps schemas/ into the wheel"
    assert "BEACON_SPEC_DIR" not in _image_env(), "the image reads the schemas shipped in its wheel"


# --- compose ----------------------------------------------------------------------------------------


@cache
def _compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def _ours() -> list[str]:
    """Compose services running this project's image."""
    return [name for name, s in _services().items() if s.get("build", {}).get("dockerfile") == "deploy/Dockerfile"]


def _compose_env(service: str) -> dict[str, str]:
    env = _image_env()
    env.update({k: str(v) for k, v in _services()[service].get("environment", {}).items()})
    return env


def _parse(argv: list[str]) -> argparse.Namespace:
    program, *rest = argv
    assert program in PARSERS, f"{argv}: {program} is not one of this project's CLIs {sorted(PARSERS)}"
    try:
        return PARSERS[program]().parse_args(rest)
    except SystemExit as exc:
        pytest.fail(f"{shlex.join(argv)}: rejected by the {program} CLI (exit {exc.code})")


def _app_of(argv: list[str]) -> str | None:
    """ "beacon" or "aggregator" for a serving command line, else None (also when the CLI rejects it).

    Used while collecting tests, where a rejected command must not hide the other tests: the
    subcommand tests report it.
    """
    program, *rest = argv
    if program not in PARSERS:
        return None
    try:
        args = PARSERS[program]().parse_args(rest)
    except SystemExit:
        return None
    return APP_OF.get(args.command)


def _compose_argv(service: str) -> list[str]:
    command = _services()[service].get("command") or _exec_form(_final().last("CMD"))
    return _exec_form(_final().last("ENTRYPOINT")) + list(command)


def _compose_file(service: str, container_path: str) -> Path:
    """The repository file behind a path inside a compose container: a bind mount, else the image's COPY."""
    target = _image_workdir() / container_path
    for volume in _services()[service].get("volumes", []):
        source, dest = volume.split(":")[:2]
        if source.startswith(".") and PurePosixPath(dest) == target:
            return (DEPLOY / source).resolve()
    found = _image_file(container_path)
    assert found is not None, f"{service}: {container_path} is neither mounted nor copied into the image"
    return found


@dataclass(frozen=True)
class Listener:
    host: str
    port: int


def _config_path(args: argparse.Namespace) -> str:
    return str(args.config) if args.config else "conf/beacon.yaml"


def _compose_listener(service: str) -> Listener:
    args = _parse(_compose_argv(service))
    path = _compose_file(service, _config_path(args))
    if args.command == "aggregate":
        server = load_aggregator_settings(path).beacon.server
    else:
        server = load_config(path, env=_compose_env(service)).server
    return Listener(args.host or server.host, args.port or server.port)


def _served_by(service: str) -> str | None:
    return _app_of(_compose_argv(service))


def test_compose_runs_only_our_image_mongodb_and_prometheus() -> None:
    assert {"mongo", "load-demo", "beacon", "aggregator", "prometheus"} <= set(_services())
    assert set(_ours()) == {"load-demo", "beacon", "aggregator"}
    assert _services()["prometheus"]["image"].startswith("prom/prometheus:")


@pytest.mark.parametrize("service", _ours())
def test_compose_service_command_is_a_subcommand_of_our_cli(service: str) -> None:
    assert _parse(_compose_argv(service)).command in {"serve", "demo", "aggregate"}


@pytest.mark.parametrize("service", _ours())
def test_compose_service_config_file_is_in_the_repository_and_valid(service: str) -> None:
    args = _parse(_compose_argv(service))
    path = _compose_file(service, _config_path(args))
    assert path.is_file()
    assert ROOT in path.parents
    if args.command == "aggregate":
        load_aggregator_settings(path)
    else:
        load_config(path, env=_compose_env(service))


@pytest.mark.parametrize("service", [s for s in _ours() if _services()[s].get("ports")])
def test_compose_published_port_is_the_port_the_service_listens_on(service: str) -> None:
    listener = _compose_listener(service)
    assert listener.host not in LOOPBACK
    container_ports = {int(str(p).split(":")[-1]) for p in _services()[service]["ports"]}
    assert container_ports == {listener.port}


def test_compose_builds_from_the_repository_alone() -> None:
    for name in _ours():
        build = _services()[name]["build"]
        assert (DEPLOY / build["context"]).resolve() == ROOT
        assert (ROOT / build["dockerfile"]).is_file()
        assert "additional_contexts" not in build, "the schemas ship inside the repository and the wheel"


def test_compose_dependencies_name_services_that_can_meet_the_condition() -> None:
    image_has_healthcheck = bool(_final().all("HEALTHCHECK"))
    for name, service in _services().items():
        for target, spec in service.get("depends_on", {}).items():
            assert target in _services(), f"{name} depends on unknown {target}"
            other = _services()[target]
            if spec["condition"] == "service_healthy":
                own = other.get("healthcheck", {})
                checked = ("test" in own) or (target in _ours() and image_has_healthcheck and not own.get("disable"))
                assert checked, f"{name} waits for {target} to be healthy, which it never reports"
            if spec["condition"] == "service_completed_successfully":
                assert other.get("restart", "no") == "no", f"{target} is restarted, so never completes"


def test_compose_keeps_the_mongodb_that_make_compose_test_starts() -> None:
    mongo = _services()["mongo"]
    assert "127.0.0.1:27017:27017" in mongo["ports"]
    assert "test" in mongo["healthcheck"], "`up --wait` needs a healthcheck"
    makefile = (ROOT / "Makefile").read_text()
    assert "docker compose -f deploy/compose.yaml" in makefile
    assert "up --detach --wait mongo" in makefile
    store = _compose_env("beacon")["BEACON_STORE"]
    assert urlsplit(store).hostname == "mongo"
    assert urlsplit(store).port == 27017


def _mongo_users() -> dict[str, list[str]]:
    """User -> roles, as deploy/mongo-users.js creates them."""
    text = (DEPLOY / "mongo-users.js").read_text()
    found = re.findall(r'user: "(\w+)".*?roles: \[(.*?)\]', text, re.DOTALL)
    return {user: re.findall(r'role: "(\w+)"', roles) for user, roles in found}


def test_compose_mongodb_is_an_authenticated_replica_set_initiated_by_its_healthcheck() -> None:
    mongo = _services()["mongo"]
    argv = mongo["command"]
    assert argv[argv.index("--replSet") + 1] == "rs0"
    assert "--keyFile" in argv, "a replica set with authentication needs a member key file"
    assert mongo["environment"]["MONGO_INITDB_ROOT_USERNAME"]
    probe = " ".join(mongo["healthcheck"]["test"])
    assert "rs.initiate({_id: 'rs0', members: [{_id: 0, host: 'mongo:27017'}]})" in probe
    assert "isWritablePrimary" in probe, "healthy only once the member is the primary"
    assert "./mongo-users.js:/docker-entrypoint-initdb.d/beacon-users.js:ro" in mongo["volumes"]


def test_compose_api_reads_as_a_read_only_user_and_the_loader_writes_as_another() -> None:
    users = _mongo_users()
    api = urlsplit(_compose_env("beacon")["BEACON_STORE"])
    loader = urlsplit(_compose_env("load-demo")["BEACON_STORE"])
    assert users[str(api.username)] == ["read"]
    assert users[str(loader.username)] == ["readWrite"]
    for uri in (api, loader):
        assert {"replicaSet=rs0", "w=majority"} <= set(uri.query.split("&"))
    for user in users:
        assert f"BEACON_MONGO_{user.removeprefix('beacon_').upper()}_PASSWORD" in _services()["mongo"]["environment"]


def test_make_compose_test_connects_to_the_member_directly_with_credentials() -> None:
    makefile = (ROOT / "Makefile").read_text()
    uri = re.search(r'BEACON_TEST_MONGO_URI="([^"]+)"', makefile)
    assert uri is not None
    assert {"directConnection=true", "authSource=admin"} <= set(urlsplit(uri.group(1)).query.split("&"))


def test_kubernetes_store_uris_are_production_connection_strings() -> None:
    uris = _of_kind("Secret")["beacon-store"]["stringData"]
    for key in ("BEACON_STORE", "BEACON_INGEST_STORE"):
        query = set(urlsplit(uris[key]).query.split("&"))
        assert {"replicaSet=rs0", "tls=true", "w=majority"} <= query, key
        assert len(urlsplit(uris[key]).netloc.split("@")[1].split(",")) >= 3, f"{key}: name the set's members"
    assert urlsplit(uris["BEACON_STORE"]).username == "beacon_api"
    assert urlsplit(uris["BEACON_INGEST_STORE"]).username == "beacon_loader"
    for cid, _, container in _containers():
        stores = [e for e in container.get("env", []) if e["name"] == "BEACON_STORE"]
        if not stores:
            continue  # the aggregator has no store
        (store,) = stores
        expected = "BEACON_STORE" if _app_of(_k8s_argv(container)) else "BEACON_INGEST_STORE"
        assert store["valueFrom"]["secretKeyRef"]["key"] == expected, f"{cid}: servers read, jobs write"


def test_compose_aggregator_members_are_compose_services_on_their_ports() -> None:
    args = _parse(_compose_argv("aggregator"))
    settings = load_aggregator_settings(_compose_file("aggregator", str(args.config)))
    assert settings.members
    for member in settings.members:
        url = urlsplit(member.url)
        assert url.hostname in _services(), f"{member.url}: no such compose service"
        assert url.port == _compose_listener(url.hostname).port
        assert _served_by(url.hostname) == "beacon"
        assert url.path == "/api"


def _prometheus() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_compose_mounts_the_prometheus_scrape_config() -> None:
    volumes = _services()["prometheus"]["volumes"]
    assert "./prometheus.yml:/etc/prometheus/prometheus.yml:ro" in volumes
    assert (DEPLOY / "prometheus.yml").is_file()


def test_prometheus_scrapes_the_beacon_and_the_aggregator_on_their_compose_ports() -> None:
    scraped = set()
    for job in _prometheus()["scrape_configs"]:
        for group in job["static_configs"]:
            for target in group["targets"]:
                host, _, port = target.partition(":")
                assert host in _services(), f"job {job['job_name']}: {host} is not a compose service"
                assert int(port) == _compose_listener(host).port, f"job {job['job_name']}: wrong port for {host}"
                scraped.add(_served_by(host))
    assert scraped == {"beacon", "aggregator"}


def test_compose_healthchecks_probe_the_port_the_service_listens_on() -> None:
    for name in _ours():
        check = _services()[name].get("healthcheck", {})
        if check.get("disable"):
            continue
        if "test" not in check:
            continue  # the image's HEALTHCHECK, checked with the Dockerfile
        port = re.search(r"http://127\.0\.0\.1:(\d+)/", " ".join(check["test"]))
        assert port, f"{name}: healthcheck without a loopback URL"
        assert int(port.group(1)) == _compose_listener(name).port


# --- Kubernetes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    file: str
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.doc["kind"])

    @property
    def name(self) -> str:
        return str(self.doc["metadata"]["name"])

    def __str__(self) -> str:
        return f"{self.file}:{self.kind}/{self.name}"


@cache
def _manifests() -> tuple[Manifest, ...]:
    return tuple(
        Manifest(path.name, doc)
        for path in sorted(K8S.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in _yaml_docs(path)
    )


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {m.name: m.doc for m in _manifests() if m.kind == kind}


def _pod_templates() -> list[tuple[str, dict[str, Any]]]:
    """(workload, pod spec) of every Deployment, Job and CronJob."""
    out = []
    for m in _manifests():
        if m.kind in {"Deployment", "Job"}:
            out.append((f"{m.kind}/{m.name}", m.doc["spec"]["template"]["spec"]))
        if m.kind == "CronJob":
            out.append((f"{m.kind}/{m.name}", m.doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]))
    return out


def _containers() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [(f"{w}/{c['name']}", pod, c) for w, pod in _pod_templates() for c in pod["containers"]]


def _container_ids() -> list[str]:
    return [cid for cid, _, _ in _containers()]


def _k8s_argv(container: dict[str, Any]) -> list[str]:
    command = container.get("command") or _exec_form(_final().last("ENTRYPOINT"))
    return list(command) + list(container.get("args") or _exec_form(_final().last("CMD")))


def _k8s_env(container: dict[str, Any]) -> dict[str, str]:
    env = _image_env()
    secrets = _of_kind("Secret")
    configmaps = _of_kind("ConfigMap")
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        source = item["valueFrom"]
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            env[item["name"]] = str(secrets[ref["name"]]["stringData"][ref["key"]])
        else:
            ref = source["configMapKeyRef"]
            env[item["name"]] = str(configmaps[ref["name"]]["data"][ref["key"]])
    return env


def _k8s_file(pod: dict[str, Any], container: dict[str, Any], path: str) -> str:
    """The text of a ConfigMap key mounted at `path` in the container."""
    target = PurePosixPath(path)
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        where = PurePosixPath(mount["mountPath"])
        if where == target.parent and "configMap" in volumes[mount["name"]]:
            data = _of_kind("ConfigMap")[volumes[mount["name"]]["configMap"]["name"]]["data"]
            assert target.name in data, f"{path}: the ConfigMap has no key {target.name}"
            return str(data[target.name])
    pytest.fail(f"{path}: no ConfigMap mounted there")


@pytest.fixture
def k8s_config_files(tmp_path: Path) -> Callable[[str], Path]:
    """Writes a container's --config file (from its ConfigMap) to tmp_path; returns the local path."""

    def write(container_id: str) -> Path:
        _, pod, container = next(c for c in _containers() if c[0] == container_id)
        args = _parse(_k8s_argv(container))
        local = tmp_path / container_id.replace("/", "_")
        local.write_text(_k8s_file(pod, container, _config_path(args)))
        return local

    return write


def _k8s_listener(container_id: str, local_config: Path) -> Listener:
    _, _, container = next(c for c in _containers() if c[0] == container_id)
    args = _parse(_k8s_argv(container))
    if args.command == "aggregate":
        server = load_aggregator_settings(local_config).beacon.server
    else:
        server = load_config(local_config, env=_k8s_env(container)).server
    return Listener(args.host or server.host, args.port or server.port)


def _servers() -> list[str]:
    """Containers that serve HTTP (serve or aggregate)."""
    return [cid for cid, _, c in _containers() if _app_of(_k8s_argv(c))]


@pytest.mark.parametrize("manifest", _manifests(), ids=str)
def test_manifest_is_valid_for_kubernetes(manifest: Manifest) -> None:
    try:
        kubernetes_validate.validate(manifest.doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{manifest}: {'.'.join(map(str, exc.path))}: {exc.message}")


def test_kustomization_lists_every_manifest_and_nothing_else() -> None:
    (kustomization,) = _yaml_docs(K8S / "kustomization.yaml")
    assert kustomization["apiVersion"].startswith("kustomize.config.k8s.io/")
    assert kustomization["kind"] == "Kustomization"
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk
    namespaces = _of_kind("Namespace")
    assert kustomization["namespace"] in namespaces
    images = {i["name"] for i in kustomization.get("images", [])}
    assert {c["image"] for _, _, c in _containers()} <= images, "every container image is set in one place"


def test_kubernetes_runs_the_aggregator_the_beacon_and_an_ingest_job() -> None:
    commands = {_parse(_k8s_argv(c)).command for _, _, c in _containers()}
    assert commands == {"serve", "aggregate", "bff", "gc"}
    assert {"Deployment", "Service", "ConfigMap", "Secret", "Job"} <= {m.kind for m in _manifests()}


@pytest.mark.parametrize("container_id", _container_ids())
def test_container_runs_a_subcommand_of_our_cli(container_id: str) -> None:
    _, _, container = next(c for c in _containers() if c[0] == container_id)
    _parse(_k8s_argv(container))


@pytest.mark.parametrize("container_id", _container_ids())
def test_container_runs_as_the_image_user_without_privileges_on_a_read_only_root(container_id: str) -> None:
    _, pod, container = next(c for c in _containers() if c[0] == container_id)
    pod_security = pod["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] == _image_uid()
    assert pod_security["seccompProfile"]["type"] == "RuntimeDefault"
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    assert pod["automountServiceAccountToken"] is False
    resources = container["resources"]
    assert resources["requests"]["cpu"]
    assert resources["requests"]["memory"]
    assert resources["limits"]["memory"]


def test_workloads_refer_only_to_defined_configmaps_secrets_and_claims() -> None:
    configmaps, secrets = _of_kind("ConfigMap"), _of_kind("Secret")
    claims = _of_kind("PersistentVolumeClaim")
    for workload, pod in _pod_templates():
        for volume in pod.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in configmaps, f"{workload}: {volume}"
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, f"{workload}: {volume}"
        names = {v["name"] for v in pod.get("volumes", [])}
        for container in pod["containers"]:
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in names, f"{workload}: mount of undefined volume {mount['name']}"
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets[ref["name"]]["stringData"], f"{workload}: {ref}"


def test_secret_holds_only_marked_placeholders() -> None:
    secrets = _of_kind("Secret")
    assert secrets
    for name, secret in secrets.items():
        assert "data" not in secret, f"{name}: base64 data hides what is committed; use stringData placeholders"
        for key, value in secret["stringData"].items():
            assert "CHANGE-ME" in value, f"{name}.{key}: not a marked placeholder"


@pytest.mark.parametrize("container_id", _servers())
def test_server_config_from_its_configmap_validates_and_listens_on_the_container_port(
    container_id: str, k8s_config_files: Callable[[str], Path]
) -> None:
    _, _, container = next(c for c in _containers() if c[0] == container_id)
    listener = _k8s_listener(container_id, k8s_config_files(container_id))
    assert listener.host not in LOOPBACK, "probes and Services reach the pod IP, not loopback"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert list(ports.values()) == [listener.port]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] in ports, f"{probe} names an undefined port"


def test_beacon_store_comes_from_the_secret_and_is_a_mongodb_uri(k8s_config_files: Callable[[str], Path]) -> None:
    (beacon,) = [cid for cid in _servers() if cid.startswith("Deployment/beacon/")]
    _, _, container = next(c for c in _containers() if c[0] == beacon)
    config = load_config(k8s_config_files(beacon), env=_k8s_env(container))
    assert config.store_uri == _of_kind("Secret")["beacon-store"]["stringData"]["BEACON_STORE"]
    assert config.store_uri.startswith("mongodb://")


def test_ingest_job_loads_a_declared_dataset_from_its_mounted_volume(k8s_config_files: Callable[[str], Path]) -> None:
    (job,) = [cid for cid in _container_ids() if cid.startswith("Job/")]
    _, pod, container = next(c for c in _containers() if c[0] == job)
    args = _parse(_k8s_argv(container))
    config = load_config(k8s_config_files(job), env=_k8s_env(container))
    declared = {d.id: d for d in config.datasets}
    assert args.dataset in declared
    assert args.assembly == declared[args.dataset].assembly
    mounts = [PurePosixPath(m["mountPath"]) for m in container["volumeMounts"]]
    assert any(m in args.directory.parents for m in mounts), f"{args.directory}: on no mounted volume"
    assert pod["restartPolicy"] == "Never"


def test_services_select_a_deployment_and_target_its_named_port() -> None:
    deployments = _of_kind("Deployment")
    for name, service in _of_kind("Service").items():
        selector = service["spec"]["selector"]
        matches = [
            d for d in deployments.values() if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matches) == 1, f"Service {name} selects {len(matches)} Deployments"
        container_ports = {
            p["name"]: p["containerPort"]
            for c in matches[0]["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in container_ports, f"Service {name}: no container port {port['targetPort']}"
            assert port["port"] == container_ports[port["targetPort"]], "the Service port is the one configured"


def test_deployment_selectors_match_their_pod_labels_and_scrape_annotations_name_the_port() -> None:
    for name, deployment in _of_kind("Deployment").items():
        template = deployment["spec"]["template"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items(), name
        annotations = template["metadata"].get("annotations", {})
        if "prometheus.io/port" in annotations:
            ports = {p["containerPort"] for c in template["spec"]["containers"] for p in c.get("ports", [])}
            assert int(annotations["prometheus.io/port"]) in ports, name


def test_kubernetes_aggregator_members_are_cluster_services(k8s_config_files: Callable[[str], Path]) -> None:
    (aggregator,) = [cid for cid in _servers() if "aggregator" in cid]
    settings = load_aggregator_settings(k8s_config_files(aggregator))
    services = _of_kind("Service")
    for member in settings.members:
        url = urlsplit(member.url)
        host = (url.hostname or "").split(".")[0]
        assert host in services, f"{member.url}: no Service {host}"
        assert url.port in {p["port"] for p in services[host]["spec"]["ports"]}
        assert url.path == "/api"


def test_termination_grace_outlasts_the_configured_shutdown_drain(k8s_config_files: Callable[[str], Path]) -> None:
    for container_id in _servers():
        workload, pod, container = next(c for c in _containers() if c[0] == container_id)
        local = k8s_config_files(container_id)
        if _parse(_k8s_argv(container)).command == "aggregate":
            drain = load_aggregator_settings(local).beacon.server.shutdown_timeout_s
        else:
            drain = load_config(local, env=_k8s_env(container)).server.shutdown_timeout_s
        assert pod["terminationGracePeriodSeconds"] > drain, workload


# --- every YAML parses; every probe, healthcheck and scrape path is a real route --------------------


@pytest.mark.parametrize("path", _deploy_yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_yaml_file_parses_into_mappings(path: Path) -> None:
    docs = _yaml_docs(path)
    assert docs
    assert all(isinstance(doc, dict) for doc in docs)


@dataclass(frozen=True)
class RouteClaim:
    source: str  # where the path is named
    app: str  # "beacon" or "aggregator"
    path: str

    def __str__(self) -> str:
        return f"{self.source} GET {self.path} on the {self.app}"


def _route_claims() -> Iterator[RouteClaim]:
    url_path = re.compile(r"http://127\.0\.0\.1:[^/\s]+(/[\w/.-]*)")
    image_app = _app_of(_exec_form(_final().last("ENTRYPOINT")) + _exec_form(_final().last("CMD")))
    dockerfile_check = url_path.search(_final().last("HEALTHCHECK"))
    if image_app and dockerfile_check:  # else the Dockerfile tests fail
        yield RouteClaim("Dockerfile HEALTHCHECK", image_app, dockerfile_check.group(1))
    for name in _ours():
        found = url_path.search(" ".join(_services()[name].get("healthcheck", {}).get("test", [])))
        app = _served_by(name)
        if found and app:
            yield RouteClaim(f"compose {name} healthcheck", app, found.group(1))
    for job in _prometheus()["scrape_configs"]:
        for group in job["static_configs"]:
            for target in group["targets"]:
                app = _served_by(target.partition(":")[0]) if target.partition(":")[0] in _services() else None
                if app:
                    yield RouteClaim(f"prometheus job {job['job_name']}", app, job["metrics_path"])
    for container_id, _, container in _containers():
        app = _app_of(_k8s_argv(container))
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if app and "httpGet" in container.get(probe, {}):
                yield RouteClaim(f"{container_id} {probe}", app, container[probe]["httpGet"]["path"])
    for m in _manifests():
        if m.kind == "Deployment":
            template = m.doc["spec"]["template"]
            path = template["metadata"].get("annotations", {}).get("prometheus.io/path")
            apps = {_app_of(_k8s_argv(c)) for c in template["spec"]["containers"]} - {None}
            if path and len(apps) == 1:
                yield RouteClaim(f"{m} scrape annotation", str(apps.pop()), path)


def test_every_served_path_is_checked_on_the_real_app() -> None:
    """The claims below are collected leniently; here nothing may have been dropped."""
    claims = list(_route_claims())
    k8s_probes = sum(1 for _, _, c in _containers() for p in ("readinessProbe", "livenessProbe") if p in c)
    assert sum(1 for c in claims if "Probe" in c.source) == k8s_probes
    assert sum(1 for c in claims if c.source.startswith("prometheus")) == sum(
        len(g["targets"]) for j in _prometheus()["scrape_configs"] for g in j["static_configs"]
    )
    assert any(c.source == "Dockerfile HEALTHCHECK" for c in claims)


# The compose aggregator's settings, read before any event loop runs.
COMPOSE_AGGREGATOR = yaml.safe_load((DEPLOY / "aggregator.yaml").read_text())


@pytest.fixture
async def served(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, tmp_path: Path
) -> dict[str, TestClient[Any, Any]]:
    """The real beacon app on an empty SQLite store, and the real aggregator with it as its one member."""
    beacon_server = await aiohttp_server(create_app(make_config(f"sqlite:///{tmp_path / 'beacon.db'}")))
    data = dict(COMPOSE_AGGREGATOR)
    data["members"] = [{"id": "beacon", "url": str(beacon_server.make_url("/api"))}]
    aggregator = await aiohttp_client(create_aggregator_app(settings_from(data)))
    return {"beacon": await aiohttp_client(beacon_server), "aggregator": aggregator}


@pytest.mark.parametrize("claim", list(_route_claims()), ids=str)
async def test_probe_healthcheck_and_scrape_paths_answer_200_on_the_real_app(
    claim: RouteClaim, served: dict[str, TestClient[Any, Any]]
) -> None:
    response = await served[claim.app].get(claim.path)
    assert response.status == 200, f"{claim}: {response.status} {await response.text()}"
