// Calls to the public Beacon API, from the browser like any client. A beacon answers JSON; an aggregator
// answers NDJSON (one line per member as it answers, then {"merged": ...}), which is how the page learns
// it is talking to a network.
"use strict";

const NDJSON = "application/x-ndjson";
const TOKEN_KEY = "beacon.bearerToken";

// The token lives here and in sessionStorage (this tab only), never in localStorage or cookies.
export const session = { token: sessionStorage.getItem(TOKEN_KEY) || "", network: false, onNetwork: null };

export function rememberToken(token) {
  session.token = token;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function authHeaders(auth = true) {
  return auth && session.token ? { Authorization: `Bearer ${session.token}` } : {};
}

async function* ndjsonLines(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (line) yield JSON.parse(line);
    }
  }
  if (buffer.trim()) yield JSON.parse(buffer);
}

export async function beaconCall(path, { body = null, auth = true, onMember = null } = {}) {
  const init = { method: body ? "POST" : "GET", headers: { Accept: `${NDJSON}, application/json`, ...authHeaders(auth) } };
  if (body) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const type = response.headers.get("Content-Type") || "";
  if (!type.includes(NDJSON)) {
    const document = type.includes("json") ? await response.json() : null;
    return { status: response.status, document, members: null };
  }
  session.network = true;
  if (session.onNetwork) session.onNetwork();
  const members = [];
  let merged = null;
  for await (const line of ndjsonLines(response.body)) {
    if ("merged" in line) {
      merged = line.merged;
    } else {
      members.push(line);
      if (onMember) onMember(line);
    }
  }
  return { status: response.status, document: merged, members };
}

export function queryBody(query) {
  return { meta: { apiVersion: "v2.0.0" }, query };
}

// The same question as a shell command, without the token (the reader adds their own).
export function curlCommand(path, body) {
  const json = JSON.stringify(body).replaceAll("'", "'\\''");
  return `curl -X POST '${location.origin}${path}' -H 'Content-Type: application/json' -d '${json}'`;
}
