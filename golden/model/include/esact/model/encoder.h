// A sentence encoder maps one tokenised sentence to its embedding. The evaluation driver only sees
// this interface, so float, INT8-dense and ESACT forwards plug in side by side.
#pragma once

#include <string>
#include <vector>

#include "esact/model/tokenizer.h"

namespace esact::model {

class SentenceEncoder {
 public:
  virtual ~SentenceEncoder() = default;
  // Must be safe to call concurrently from several threads.
  virtual std::vector<float> embed(const Encoding& encoding) const = 0;
  virtual std::string name() const = 0;
};

}  // namespace esact::model
