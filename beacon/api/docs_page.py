"""GET /api/docs: a self-contained page (no external assets) that reads /api/openapi.json and lists every endpoint.

The page is held in memory, so serving it does no file I/O; its script builds the DOM with
`textContent` only, so nothing from the document is ever interpreted as HTML.
"""

from __future__ import annotations

from aiohttp import web

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Beacon API</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 70rem; padding: 1rem 1.5rem; color: #1d232a; }
h1 { margin-bottom: .2rem; }
h2 { border-bottom: 2px solid #d8dee4; padding-bottom: .2rem; margin-top: 2rem; }
.op { border: 1px solid #d8dee4; border-radius: 6px; margin: .5rem 0; }
.op > summary { cursor: pointer; padding: .45rem .7rem; list-style: none; }
.op[open] > summary { border-bottom: 1px solid #d8dee4; background: #f6f8fa; }
.op .body { padding: .3rem .8rem .8rem; }
.method { display: inline-block; width: 3.6rem; font-weight: 700; text-transform: uppercase; font-size: .8rem; }
.get { color: #0b6e4f; } .post { color: #8a4b08; }
.path { font-family: ui-monospace, monospace; }
.summary { color: #57606a; margin-left: .6rem; }
table { border-collapse: collapse; width: 100%; margin: .3rem 0 .6rem; }
th, td { text-align: left; vertical-align: top; padding: .25rem .5rem; border-bottom: 1px solid #eaeef2; }
th { font-size: .8rem; color: #57606a; font-weight: 600; }
code, pre { font-family: ui-monospace, monospace; font-size: .85rem; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; border-radius: 4px; }
#error { color: #b42318; }
</style>
</head>
<body>
<h1 id="title">Beacon API</h1>
<p id="description"></p>
<p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI <span id="version"></span>).</p>
<p id="error"></p>
<main id="operations"></main>
<script>
"use strict";

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function resolve(doc, value) {
  let node = value;
  while (node && typeof node.$ref === "string" && node.$ref.startsWith("#/")) {
    node = node.$ref.slice(2).split("/").reduce((obj, key) => (obj ? obj[key] : undefined), doc);
  }
  return node || {};
}

function typeOf(schema) {
  if (!schema) return "";
  if (schema.enum) return "one of " + schema.enum.join(", ");
  if (schema.type === "array") {
    const bounds = schema.maxItems ? " (at most " + schema.maxItems + ")" : "";
    return "list of " + typeOf(schema.items) + bounds + ", comma-separated";
  }
  const parts = [schema.type || "object"];
  if (schema.minimum !== undefined) parts.push("\\u2265 " + schema.minimum);
  if (schema.pattern) parts.push("matching " + schema.pattern);
  if (schema.default !== undefined) parts.push("default " + JSON.stringify(schema.default));
  return parts.join(", ");
}

function example(value) {
  return Array.isArray(value) ? value.join(",") : value === undefined ? "" : String(value);
}

function parameterTable(doc, parameters) {
  const table = el("table");
  const head = table.createTHead().insertRow();
  for (const name of ["name", "in", "type", "description", "example"]) head.appendChild(el("th", name));
  const body = table.createTBody();
  for (const raw of parameters) {
    const p = resolve(doc, raw);
    const row = body.insertRow();
    row.insertCell().appendChild(el("code", p.name + (p.required ? " *" : "")));
    row.insertCell().textContent = p.in;
    row.insertCell().textContent = typeOf(p.schema);
    row.insertCell().textContent = p.description || "";
    row.insertCell().appendChild(el("code", example(p.example)));
  }
  return table;
}

function responseList(doc, responses) {
  const list = el("ul");
  for (const [status, raw] of Object.entries(responses)) {
    const response = resolve(doc, raw);
    const item = el("li");
    item.appendChild(el("code", status));
    item.appendChild(document.createTextNode(" " + (response.description || "")));
    const content = response.content && response.content["application/json"];
    const schema = content ? resolve(doc, content.schema) : null;
    if (schema && schema.description) item.appendChild(el("div", schema.description, "summary"));
    list.appendChild(item);
  }
  return list;
}

function operation(doc, path, method, op, shared) {
  const box = el("details", null, "op");
  box.id = op.operationId;  // linkable: /api/docs#get_api_g_variants opens that operation
  const line = el("summary");
  line.appendChild(el("span", method, "method " + method));
  line.appendChild(el("span", path, "path"));
  line.appendChild(el("span", op.summary, "summary"));
  box.appendChild(line);
  const body = el("div", null, "body");
  if (op.description) body.appendChild(el("p", op.description));
  const parameters = [...shared, ...(op.parameters || [])];
  if (parameters.length) {
    body.appendChild(el("h4", "Parameters"));
    body.appendChild(parameterTable(doc, parameters));
  }
  const content = op.requestBody && op.requestBody.content["application/json"];
  if (content) {
    body.appendChild(el("h4", "Request body (" + resolve(doc, content.schema).title + ")"));
    for (const [name, ex] of Object.entries(content.examples || {})) {
      body.appendChild(el("div", name + ": " + (ex.summary || "")));
      body.appendChild(el("pre", JSON.stringify(ex.value, null, 2)));
    }
  }
  body.appendChild(el("h4", "Responses"));
  body.appendChild(responseList(doc, op.responses || {}));
  box.appendChild(body);
  return box;
}

function render(doc) {
  document.title = doc.info.title + " \\u2014 API";
  document.getElementById("title").textContent = doc.info.title;
  document.getElementById("description").textContent = doc.info.description || "";
  document.getElementById("version").textContent = doc.openapi;
  const main = document.getElementById("operations");
  const sections = new Map();
  for (const tag of doc.tags || []) {
    const section = el("section");
    section.appendChild(el("h2", tag.name));
    if (tag.description) section.appendChild(el("p", tag.description));
    sections.set(tag.name, section);
    main.appendChild(section);
  }
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ["get", "post"]) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags || ["other"])[0];
      if (!sections.has(tag)) {
        const section = el("section");
        section.appendChild(el("h2", tag));
        sections.set(tag, section);
        main.appendChild(section);
      }
      sections.get(tag).appendChild(operation(doc, path, method, op, item.parameters || []));
    }
  }
  const linked = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
  if (linked) {
    linked.open = true;
    linked.scrollIntoView();
  }
}

fetch("openapi.json")
  .then((response) => {
    if (!response.ok) throw new Error("openapi.json answered " + response.status);
    return response.json();
  })
  .then(render)
  .catch((error) => { document.getElementById("error").textContent = String(error); });
</script>
</body>
</html>
"""


async def docs_page(request: web.Request) -> web.Response:
    return web.Response(text=_PAGE, content_type="text/html", charset="utf-8")
