// The guard's JS half in library mode, bundled into the app by worker-build
// like any wasm-bindgen snippet: it takes each request's root span as the
// request enters, and answers a Wasm trap. Rust decides; this only holds
// the span and carries requests from a trapped instance to the fresh one.
//
// The span (Workers tracing) is taken in the request's first synchronous
// turn, the only place the runtime's active span is surely its own: Rust
// futures run later on a shared microtask queue. Nothing is set on it here;
// Rust sets the failure's facts, and only on a failure. A runtime without
// `tracing` leaves it `undefined`.
//
// A trap kills the instance: the promise of every request it was serving
// never settles, and no Rust runs again there. worker-build's entry sets its
// handler with `Entrypoint.prototype.fetch = …` on a WorkerEntrypoint
// subclass; the setter below (loaded before that line runs) wraps it, so the
// promise the runtime awaits is this file's. When the instance aborts
// (workers-rs's abort hook, chained by the guard, calls `aborted`), each
// request Shield::run had begun is handed once more to the app's fetch on
// the fresh instance, where Shield::run finds it here (`guarded`) and
// answers it with the uniform 500 and its one `worker_trap` record.
import * as platform from "cloudflare:workers";

// Read off the namespace: a runtime without Workers tracing has no
// `tracing` export, and a named import of it would fail to load.
const { WorkerEntrypoint, tracing } = platform;

// Request → its pending call: { guarded, trap, settle, again, span }.
const calls = new Map();
// What the guard said to answer when even the fresh instance fails.
let last = null;

try {
  Object.defineProperty(WorkerEntrypoint.prototype, "fetch", {
    configurable: true,
    set(handler) {
      Object.defineProperty(this, "fetch", {
        value: wrap(handler),
        writable: true,
        configurable: true,
        enumerable: true,
      });
    },
  });
} catch {
  // A frozen prototype: traps stay unanswered and failures off the trace,
  // as without the guard.
}

function wrap(handler) {
  return function fetch(request, ...rest) {
    const again = () => handler.call(this, request, ...rest);
    return new Promise((resolve, reject) => {
      const span = entered();
      const call = { guarded: false, trap: null, again, resolve, reject, wake: null, span };
      rearm(call);
      calls.set(request, call);
      run(request, call, again, false);
    });
  };
}

// `call.wake(action)`, from whichever request trapped, runs `action` in this
// request's own context (a promise made here), where the answer's body may be
// read; each wake makes the next one, in the same context.
function rearm(call) {
  new Promise((woken) => (call.wake = woken)).then((action) => {
    rearm(call);
    action();
  });
}

// Calls the handler; its answer settles the call unless a trap got there first.
function run(request, call, handler, retried) {
  let out;
  try {
    out = handler();
  } catch (error) {
    out = Promise.reject(error);
  }
  Promise.resolve(out).then(
    (response) => settle(request, call, response),
    (error) => failed(request, call, error, retried),
  );
}

function settle(request, call, response) {
  if (calls.get(request) !== call) return;
  calls.delete(request);
  call.resolve(response);
}

// A rejected promise: a guarded request gets the uniform answer from a
// fresh call (once; then the last resort); anything else fails as it would
// have. A trap's own answer may be on its way already.
function failed(request, call, error, retried) {
  if (calls.get(request) !== call) return;
  if (retried) {
    settle(request, call, lastResort(kind(error)));
  } else if (call.trap) {
    return;
  } else if (call.guarded) {
    again(request, call, { message: describe(error), trapped: false });
  } else {
    calls.delete(request);
    call.reject(error);
  }
}

function again(request, call, trap) {
  call.trap = trap;
  run(request, call, call.again, true);
}

// Called by the guard from the dying instance: each call it was serving is
// woken in its own context, after the abort handler has returned.
export function aborted() {
  for (const [request, call] of calls) {
    if (call.trap) {
      // The fresh instance trapped too, answering it.
      call.wake(() => settle(request, call, lastResort(TRAP)));
    } else if (call.guarded) {
      call.trap = { message: TRAP, trapped: true };
      call.wake(() => run(request, call, call.again, true));
    } else {
      calls.delete(request);
      call.wake(() => call.reject(new Error(TRAP)));
    }
  }
}

const TRAP = "the Wasm instance aborted (abort, unreachable, stack overflow or out of memory)";

// Called by Shield::run for each request: marks it as the guard's, and
// returns the trap it is being answered for (undefined: run the handler).
export function guarded(request) {
  const call = calls.get(request);
  if (call === undefined) return undefined;
  call.guarded = true;
  return call.trap ?? undefined;
}

// The request's root span, as it entered (undefined: not traced, or no
// Workers tracing in this runtime).
export function span(request) {
  return calls.get(request)?.span;
}

function entered() {
  try {
    return tracing?.getActiveSpan?.() ?? undefined;
  } catch {
    // The trace is a help, never a reason for another failure.
    return undefined;
  }
}

// The guard's last resort, once per instance: the text answer and the
// record's halves around its JSON-quoted message.
export function arm(status, body, contentType, recordHead, recordTail) {
  last = { status, body, contentType, recordHead, recordTail };
}

function lastResort(message) {
  const r = last ?? { status: 500, body: "", contentType: "text/plain", recordHead: "", recordTail: "" };
  console.error(r.recordHead + JSON.stringify(message) + r.recordTail);
  return new Response(r.body, { status: r.status, headers: { "content-type": r.contentType } });
}

function describe(error) {
  return String(error?.stack ?? error);
}

// What the last resort may log of an error it cannot redact (no Rust is
// left to do it): its kind only, never a message that may quote a URL.
function kind(error) {
  return String(error?.name ?? typeof error);
}
