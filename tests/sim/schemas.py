"""Load GitHub's OpenAPI and webhook descriptions and validate JSON against them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

NPM = Path(__file__).resolve().parents[2] / ".cache" / "npm" / "node_modules" / "@octokit"
REST = NPM / "openapi" / "generated" / "api.github.com.json"
HOOKS = NPM / "openapi-webhooks" / "generated" / "api.github.com.json"


def need_specs() -> None:
    """Skip the calling test when the npm cache with GitHub's descriptions is missing."""
    if not REST.exists() or not HOOKS.exists():
        pytest.skip(f"GitHub OpenAPI descriptions not installed under {NPM}")


def denull(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` -> a JSON-schema union with null (or the check is wrong)."""
    if isinstance(node, list):
        return [denull(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: denull(v) for k, v in node.items()}
    if out.pop("nullable", False) is True:
        if "type" in out:
            kinds = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*kinds, "null"] if "null" not in kinds else kinds
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _registry() -> Registry:
    need_specs()
    reg: Registry = Registry()
    for uri, path in (("urn:rest", REST), ("urn:hooks", HOOKS)):
        doc = denull(json.loads(path.read_text()))
        reg = reg.with_resource(uri, Resource.from_contents(doc, default_specification=DRAFT202012))
    return reg


@cache
def _doc(uri: str) -> Any:
    return _registry().contents(uri)


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def errors_for(uri_pointer: str, instance: Any) -> list[str]:
    """Validation errors of `instance` against the schema at a registry URI#pointer."""
    # Formats are checked too ("uri" needs rfc3987), because Prism checks them.
    v = Draft202012Validator(
        {"$ref": uri_pointer},
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in v.iter_errors(instance)
    ]


def webhook_errors(event: str, action: str | None, payload: Any) -> list[str]:
    """Errors of a webhook payload against @octokit/openapi-webhooks for event+action."""
    key = event.replace("_", "-") + (f"-{action.replace('_', '-')}" if action else "")
    hooks = _doc("urn:hooks")["webhooks"]
    if key not in hooks:
        return [f"no webhook schema named {key}"]
    ptr = _pointer("webhooks", key, "post", "requestBody", "content", "application/json", "schema")
    return errors_for(f"urn:hooks#/{ptr}", payload)


def response_errors(method: str, template: str, status: int, body: Any) -> list[str]:
    """Errors of a REST response body against api.github.com.json for path/method/status."""
    op = _doc("urn:rest")["paths"][template][method.lower()]
    resp = op["responses"].get(str(status))
    if resp is None and status >= 400:
        # Prism only warns about undocumented error statuses; the body must still be an error.
        return errors_for("urn:rest#/components/schemas/basic-error", body)
    if resp is None:
        return [f"status {status} not documented for {method} {template}"]
    if "$ref" in resp:
        resp = _doc("urn:rest")["components"]["responses"][resp["$ref"].rsplit("/", 1)[-1]]
    schema = resp.get("content", {}).get("application/json", {}).get("schema")
    if schema is None and status >= 400:
        return errors_for("urn:rest#/components/schemas/basic-error", body)
    if schema is None:
        return [] if body is None else [f"no body expected for {status}, got {body!r:.80}"]
    return errors_for(_schema_ptr(method, template, str(status), op), body)


def _schema_ptr(method: str, template: str, status: str, op: Any) -> str:
    resp = op["responses"][status]
    if "$ref" in resp:
        name = resp["$ref"].rsplit("/", 1)[-1]
        ptr = _pointer("components", "responses", name, "content", "application/json", "schema")
    else:
        parts = (
            "paths",
            template,
            method.lower(),
            "responses",
            status,
            "content",
            "application/json",
            "schema",
        )
        ptr = _pointer(*parts)
    return f"urn:rest#/{ptr}"
