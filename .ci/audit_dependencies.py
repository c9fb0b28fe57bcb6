"""Audit the installed dependencies against PyPI's vulnerability data; exit 1 on any known one.

PyPI publishes, for each release, the advisories that affect it (the PyPA advisory database
and OSV, the data pip-audit reads) in the release's JSON (`/pypi/<name>/<version>/json`).
Some build machines reach the package index but get 404 for those per-release documents;
the project document (`/pypi/<name>/json`) still answers, with the advisories of the newest
release. So each installed distribution is checked on its release's document, or else on
the project's when the installed version is the newest. A distribution neither can speak for
is *unaudited*: that fails too, unless --allow-unaudited, which prints how many went
unchecked (loudly) and lets the build go on; a known vulnerability always fails.

Run with the project's interpreter so it sees what requirements.txt and requirements-dev.txt
installed: `.venv/bin/python .ci/audit_dependencies.py`.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

INDEX = "https://pypi.org/pypi"


@dataclass
class Finding:
    name: str
    version: str
    source: str = ""  # "release" or "project"; empty when unaudited
    vulnerabilities: list[dict[str, Any]] = field(default_factory=list)
    problem: str = ""


def _get(url: str, timeout: float) -> dict[str, Any] | None:
    """The JSON document, or None if the index has none (404)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            document: dict[str, Any] = json.load(response)
            return document
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def _active(vulnerabilities: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [vuln for vuln in vulnerabilities if not vuln.get("withdrawn")]


def audit_one(name: str, version: str, *, index: str, timeout: float) -> Finding:
    finding = Finding(name, version)
    try:
        release = _get(f"{index}/{name}/{version}/json", timeout)
        if release is not None:
            finding.source = "release"
            finding.vulnerabilities = _active(release.get("vulnerabilities") or [])
            return finding
        project = _get(f"{index}/{name}/json", timeout)
    except (OSError, ValueError) as exc:
        finding.problem = f"index unreachable ({type(exc).__name__})"
        return finding
    if project is None:
        finding.problem = "not on the index"
    elif project["info"]["version"] != version:
        finding.problem = f"no data for this release (newest is {project['info']['version']})"
    else:
        finding.source = "project"
        finding.vulnerabilities = _active(project.get("vulnerabilities") or [])
    return finding


def installed() -> list[tuple[str, str]]:
    names = {
        (dist.metadata["Name"], dist.version)
        for dist in metadata.distributions()
        if dist.metadata["Name"] and dist.metadata["Name"].lower() not in {"pip", "setuptools"}
    }
    return sorted(names, key=lambda item: item[0].lower())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allow-unaudited", action="store_true")
    parser.add_argument("--index", default=INDEX, help="PyPI's JSON API root.")
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument(
        "packages", nargs="*", help="name==version (default: every installed distribution)"
    )
    args = parser.parse_args(argv)
    packages = [tuple(spec.split("==", 1)) for spec in args.packages] or installed()

    with ThreadPoolExecutor(max_workers=8) as pool:
        findings = list(
            pool.map(
                lambda package: audit_one(*package, index=args.index, timeout=args.timeout),
                packages,
            )
        )

    vulnerable = [finding for finding in findings if finding.vulnerabilities]
    unaudited = [finding for finding in findings if not finding.source]
    for finding in vulnerable:
        for vuln in finding.vulnerabilities:
            fixed = ", ".join(vuln.get("fixed_in") or []) or "no fix yet"
            print(f"VULNERABLE {finding.name} {finding.version}: {vuln.get('id')} ", end="")
            print(f"(fixed in {fixed})")
    for finding in unaudited:
        print(f"unaudited  {finding.name} {finding.version}: {finding.problem}")
    audited = len(findings) - len(unaudited)
    print(
        f"dependency audit: {audited} of {len(findings)} distributions checked, "
        f"{len(vulnerable)} with known vulnerabilities, {len(unaudited)} unaudited"
    )
    if vulnerable:
        print("dependency audit: upgrade the pins above.", file=sys.stderr)
        return 1
    if unaudited:
        banner = "#" * 78
        print(
            f"{banner}\n# dependency audit: {len(unaudited)} distributions could NOT be audited "
            f"(listed above).\n{banner}",
            file=sys.stderr,
        )
        return 0 if args.allow_unaudited else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
