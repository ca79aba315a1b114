// Helpers shared by the model tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <fstream>
#include <string>
#include <unistd.h>

#include "esact/model/bert.h"

namespace esact::model::test {

// A fresh folder under $TMPDIR (or /tmp) that lives for the test process.
// Removed again when the test process exits.
inline std::string temp_dir() {
  struct TempDir {
    std::string path;
    TempDir() {
      const char* base = std::getenv("TMPDIR");
      path = std::string(base && *base ? base : "/tmp") + "/esact_model_test.XXXXXX";
      if (::mkdtemp(path.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    }
    ~TempDir() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static TempDir dir;
  return dir.path;
}

inline std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// The model folder the "model" tests use: $ESACT_MODEL_DIR or the ci/fetch-model default.
inline std::string model_dir() {
  if (const char* env = std::getenv("ESACT_MODEL_DIR"); env && *env) return env;
  return default_model_dir();
}

}  // namespace esact::model::test
