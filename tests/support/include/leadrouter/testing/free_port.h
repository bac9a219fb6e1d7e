#pragma once

namespace leadrouter::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
// Another process may take it before the caller binds, so callers retry on "address in use".
// Returns -1 if no socket could be bound.
int FreeLoopbackPort();

}  // namespace leadrouter::testing
