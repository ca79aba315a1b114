// The vector library's JSON is the project's one JSON reader/writer (esact/json.h).
#pragma once
#include "esact/json.h"

namespace esact::vectors {
using esact::dump_json;
using esact::Json;
using esact::JsonError;
using esact::parse_json;
}  // namespace esact::vectors
