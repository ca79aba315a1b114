// Safetensors reader on hand-made files: one valid, and one per kind of corruption. Every error must
// name the file and the offending tensor/field.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "esact/model/safetensors.h"
#include "test_util.h"

using namespace esact::model;
using esact::model::test::write_file;

namespace {

// 8-byte little-endian length + header + data.
std::string make_file(const std::string& header, const std::string& data, uint64_t declared_len = UINT64_MAX) {
  const uint64_t len = declared_len == UINT64_MAX ? header.size() : declared_len;
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((len >> (8 * i)) & 0xFF);
  return bytes + header + data;
}

std::string floats(std::initializer_list<float> values) {
  std::string s(values.size() * 4, '\0');
  size_t i = 0;
  for (float v : values) std::memcpy(&s[4 * i++], &v, 4);
  return s;
}

// Opens the file and returns the error message (fails the test when no error is thrown).
std::string open_error(const std::string& path) {
  try {
    SafetensorsFile file(path);
  } catch (const SafetensorsError& e) {
    return e.what();
  }
  FAIL("no SafetensorsError for " << path);
  return {};
}

}  // namespace

TEST_CASE("safetensors: valid file") {
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("ids":{"dtype":"I64","shape":[1],"data_offsets":[16,24]},"e":{"dtype":"F32","shape":[0],"data_offsets":[24,24]}}   )";
  const std::string path = write_file("valid.safetensors", make_file(header, floats({1.f, -2.f, 3.5f, 0.25f}) + std::string(8, '\x07')));
  SafetensorsFile file(path);
  CHECK(file.tensors().size() == 3);
  CHECK(file.metadata().at("format") == "pt");
  CHECK(file.info("ids").dtype == DType::kI64);
  CHECK(file.read_f32("w", {2, 2}) == std::vector<float>{1.f, -2.f, 3.5f, 0.25f});
  CHECK(file.read_f32("e").empty());

  // Access errors name the file, the tensor and the field.
  auto message = [&](auto&& fn) -> std::string {
    try { fn(); } catch (const SafetensorsError& e) { return e.what(); }
    return "no error";
  };
  const std::string wrong_dtype = message([&] { file.read_f32("ids"); });
  CHECK(wrong_dtype.find(path) != std::string::npos);
  CHECK(wrong_dtype.find("tensor 'ids'") != std::string::npos);
  CHECK(wrong_dtype.find("dtype") != std::string::npos);
  const std::string wrong_shape = message([&] { file.read_f32("w", {4}); });
  CHECK(wrong_shape.find("tensor 'w'") != std::string::npos);
  CHECK(wrong_shape.find("shape") != std::string::npos);
  const std::string missing = message([&] { file.info("nope"); });
  CHECK(missing.find("tensor 'nope'") != std::string::npos);
}

TEST_CASE("safetensors: corrupt files are rejected with file and field named") {
  struct Case {
    const char* name;
    std::string bytes;
    std::vector<std::string> expected;  // substrings of the message besides the file name
  };
  const std::string ok_tensor = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::string data8 = floats({1.f, 2.f});
  const std::vector<Case> cases = {
      {"short", std::string(5, '\0'), {"header length", "fewer than the 8-byte"}},
      {"len_beyond_file", make_file("{" + ok_tensor + "}", data8, 1000), {"header length", "1000"}},
      {"bad_json", make_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})", data8), {"header", "JSON"}},
      {"not_object", make_file("[1,2]", data8), {"header", "'{'"}},
      {"bad_dtype", make_file(R"({"t":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", data8),
       {"tensor 't'", "dtype", "F33"}},
      {"size_mismatch", make_file(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data8),
       {"tensor 't'", "shape", "12 bytes", "span 8"}},
      {"offset_out_of_range", make_file(R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data8),
       {"tensor 't'", "data_offsets", "out of range"}},
      {"offsets_reversed", make_file(R"({"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", data8),
       {"tensor 't'", "data_offsets", "begin"}},
      {"overlap", make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data8),
       {"tensor 'b'", "data_offsets", "overlaps tensor 'a'"}},
      {"missing_field", make_file(R"({"t":{"dtype":"F32","data_offsets":[0,8]}})", data8), {"tensor 't'", "'shape' is missing"}},
      {"negative_dim", make_file(R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data8), {"tensor 't'", "shape"}},
      {"extra_field", make_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", data8), {"tensor 't'", "unknown field 'x'"}},
      {"duplicate_key", make_file("{" + ok_tensor + "," + ok_tensor + "}", data8), {"header", "duplicate"}},
      {"bad_metadata", make_file(R"({"__metadata__":{"k":1},)" + ok_tensor + "}", data8), {"__metadata__.k"}},
      {"overflow", make_file(R"({"t":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,8]}})", data8),
       {"tensor 't'", "overflows"}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const std::string path = write_file(std::string(c.name) + ".safetensors", c.bytes);
    const std::string msg = open_error(path);
    CAPTURE(msg);
    CHECK(msg.find(path) != std::string::npos);
    for (const std::string& part : c.expected) CHECK(msg.find(part) != std::string::npos);
  }
  const std::string missing = open_error(esact::model::test::temp_dir() + "/does_not_exist.safetensors");
  CHECK(missing.find("does_not_exist.safetensors") != std::string::npos);
}
