#pragma once

// Decoding an inbound record by its source lives in the decision core, shared with the
// simulator (decide/decode_record.h); these are its names for the pipeline.

#include "leadrouter/decide/decode_record.h"

namespace leadrouter::pipeline {

using decide::DecodedRecord;
using decide::DecodeRecord;
using decide::kHeaderSource;
using decide::kNoSource;
using decide::kUnknownSource;

}  // namespace leadrouter::pipeline
