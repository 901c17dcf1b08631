// The worker's entry: the Rust fetch handler, plus the one thing Rust cannot
// do for itself. If the Wasm instance traps (abort, unreachable, stack
// overflow, out of memory) inside a future, the request's promise never
// settles and workerd fires a global `error` event instead. We keep the
// in-flight requests of this isolate and answer each of them from that
// listener with the uniform 500, rendered and logged by Rust's `trap`
// export on the freshly re-instantiated module.
import { WorkerEntrypoint } from "cloudflare:workers";
import Rust from "./shield.js";

const rustFetch = Rust.prototype.fetch;
const rustTrap = Rust.prototype.trap;
const inflight = new Set();

addEventListener("error", (event) => {
  event.preventDefault();
  const message = describe(event.error ?? event.message);
  for (const pending of inflight) trapped(pending, message);
});

export default class ErrorShield extends WorkerEntrypoint {
  fetch(request) {
    return new Promise((resolve) => {
      const pending = { request, env: this.env, ctx: this.ctx, resolve };
      inflight.add(pending);
      try {
        rustFetch.call(this, request).then(
          (response) => {
            inflight.delete(pending);
            resolve(response);
          },
          (error) => trapped(pending, describe(error)),
        );
      } catch (error) {
        trapped(pending, describe(error));
      }
    });
  }
}

function trapped(pending, message) {
  inflight.delete(pending);
  try {
    pending.resolve(rustTrap.call(pending, pending.request, pending.env, message));
  } catch (error) {
    // The module cannot even render the 500: the smallest safe answer.
    console.error(JSON.stringify({ level: "error", cause: "worker_trap", message: `${message}; then ${describe(error)}` }));
    pending.resolve(new Response("Internal Server Error\n", {
      status: 500,
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff", vary: "Accept" },
    }));
  }
}

// The error and its first frames: enough to find the trap, short enough to read.
function describe(error) {
  return String(error?.stack ?? error).split("\n").slice(0, 6).join("\n").slice(0, 1000);
}
