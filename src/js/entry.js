// The worker's entry: the Rust fetch handler, plus the one thing Rust cannot
// do for itself, answering a request whose Wasm instance trapped.
//
// The hot path runs no Rust future: Rust's synchronous `start` returns a
// response (a failure found before the fetch) or the promise of the origin's
// outcome, and only a failed fetch calls back into Rust, synchronously
// (`failed`). A trap there throws to us and is answered at once. Only the
// async path (`fetchAsync`, for stale-if-error and retries) runs Rust inside
// futures: if the instance traps there, the request's promise never settles
// and workerd fires a global `error` event instead. We keep those in-flight
// requests and answer each of them from that listener. Every trap gets the
// uniform 500, rendered and logged by Rust's `trap` export on the freshly
// re-instantiated module.
import { WorkerEntrypoint } from "cloudflare:workers";
import Rust from "./shield.js";

const { start, fetchAsync, failed, trap } = Rust.prototype;
const inflight = new Set();

addEventListener("error", (event) => {
  event.preventDefault();
  const message = describe(event.error ?? event.message);
  for (const wake of inflight) wake(message);
  inflight.clear();
});

export default class ErrorShield extends WorkerEntrypoint {
  fetch(request) {
    const { env } = this;
    const { headers } = request;
    let out;
    try {
      out = start(
        request,
        env,
        request.url,
        headers.get("x-request-id"),
        headers.get("cf-ray"),
        headers.has("x-error-shield-hop"), // origin::HOP_HEADER
      );
    } catch (error) {
      return trapped(request, env, describe(error));
    }
    if (out === undefined) return tracked(request, env, this.ctx);
    if (out instanceof Response) return out;
    return out.then((res) => {
      if (res instanceof Response) return res;
      try {
        return failed(request, env, res);
      } catch (error) {
        return trapped(request, env, describe(error));
      }
    });
  }
}

// The async path, with the request kept in `inflight` until it settles.
// The listener runs in the context of the request that trapped, and a
// response made there cannot serve another request. So each request waits on
// a promise of its own: resolved from the listener, its continuation runs back
// in this request's context (workerd's cross-request promise resolution),
// where the 500 is made.
function tracked(request, env, ctx) {
  return new Promise((resolve) => {
    let wake;
    const settle = (response) => {
      inflight.delete(wake);
      resolve(response);
    };
    new Promise((r) => (wake = r)).then((message) => settle(trapped(request, env, message)));
    inflight.add(wake);
    try {
      fetchAsync(request, env, ctx).then(settle, (error) => settle(trapped(request, env, describe(error))));
    } catch (error) {
      settle(trapped(request, env, describe(error)));
    }
  });
}

function trapped(request, env, message) {
  try {
    return trap(request, env, message);
  } catch (error) {
    // The module cannot even render the 500: the smallest safe answer.
    console.error(JSON.stringify({ level: "error", cause: "worker_trap", message: `${message}; then ${describe(error)}` }));
    return new Response("Internal Server Error\n", {
      status: 500,
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff", vary: "Accept" },
    });
  }
}

// The error and its first frames: enough to find the trap, short enough to read.
function describe(error) {
  return String(error?.stack ?? error).split("\n").slice(0, 6).join("\n").slice(0, 1000);
}
