// The rescue steps as child spans of the request's root span (Workers
// tracing). What the span is named and what goes on it come from Rust
// (`trace.rs`): the names, the attributes at the start and the table that
// names what came back. A runtime without `tracing` gets the step as it is.
import * as platform from "cloudflare:workers";

const tracing = platform.tracing;

// The step's promise, resolving to the same value once its child span of
// `root` has the outcome and has ended.
export function step(root, name, promise, start, table) {
  if (root === undefined || typeof tracing?.withActiveSpan !== "function") return promise;
  let span;
  try {
    span = tracing.withActiveSpan(root, () => tracing.startSpan(name));
    span.setAttributes(start);
  } catch {
    return promise;
  }
  const end = (out) => {
    try {
      span.setAttributes(outcome(out, table));
      span.end();
    } catch {
      // The trace is a help, never another failure.
    }
    return out;
  };
  return promise.then(end, (error) => {
    end(undefined);
    throw error;
  });
}

// The attributes of what came back: the context's kind by Rust's name for
// it (and the origin's status when it has one), or `answered` when the
// origin's response went to the client.
function outcome(out, table) {
  const a = {};
  const came = out?.came;
  if (out === undefined) {
    a[table.outcome] = table.rejected;
  } else if (came === undefined || came === null) {
    // A Response, or a watched one ({ response, tail }).
    a[table.outcome] = table.answered;
  } else {
    a[table.outcome] = table.kinds[came.kind];
    if (came.status > 0) a[table.originStatus] = came.status;
  }
  return a;
}
