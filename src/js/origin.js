// The runtime edge of the proxy: one call from Rust per request, so the hot
// path crosses the Wasm boundary once for the fetch and once for the status.

// Sends `request` to `url` (null: the incoming URL) with the request id and
// hop marker added, redirects not followed, and an abort after `ms` unless
// the response headers arrived first. Rejects with an Error named
// "TimeoutError" on timeout, with the fetch error otherwise.
export function originFetch(request, url, ms, id, forwardedHost) {
  const out = new Request(url ?? request.url, request);
  out.headers.set("x-request-id", id);
  out.headers.set("x-error-shield-hop", "1"); // proxy::HOP_HEADER
  if (forwardedHost !== undefined) out.headers.set("x-forwarded-host", forwardedHost);
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), ms);
  return fetch(out, { redirect: "manual", signal: ctl.signal }).then(
    (res) => {
      clearTimeout(timer);
      return res;
    },
    (err) => {
      clearTimeout(timer);
      if (ctl.signal.aborted) {
        const e = new Error(`no response headers within ${ms} ms`);
        e.name = "TimeoutError";
        throw e;
      }
      throw err;
    },
  );
}

// Reads at most `max` bytes of a failing response's body for the log, then
// cancels the rest so a huge body is never read whole. Never rejects: a body
// that breaks mid-way yields what arrived.
export async function bodyExcerpt(res, max) {
  if (max === 0 || res.body === null) {
    if (res.body !== null) res.body.cancel().catch(() => {});
    return new Uint8Array(0);
  }
  const out = new Uint8Array(max);
  let len = 0;
  const reader = res.body.getReader();
  try {
    while (len < max) {
      const { done, value } = await reader.read();
      if (done) break;
      const n = Math.min(value.byteLength, max - len);
      out.set(value.subarray(0, n), len);
      len += n;
    }
  } catch {
    // Reset mid-body: log what we have.
  }
  reader.cancel().catch(() => {});
  return out.subarray(0, len);
}
