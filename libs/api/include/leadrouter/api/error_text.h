#pragma once

// The quoting and bounding of error messages live in core (pure code uses them too); the API's
// callers keep their names.
#include "leadrouter/core/error_text.h"

namespace leadrouter::api {
using core::BoundErrorMessage;
using core::kMaxErrorMessageBytes;
using core::QuoteForError;
}  // namespace leadrouter::api
