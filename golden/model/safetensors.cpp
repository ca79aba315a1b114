#include "esact/model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "esact/json.h"

namespace esact::model {

namespace {

struct DTypeEntry {
  const char* name;
  DType dtype;
  size_t size;
};

constexpr DTypeEntry kDTypes[] = {
    {"BOOL", DType::kBool, 1},  {"U8", DType::kU8, 1},     {"I8", DType::kI8, 1},
    {"F8_E4M3", DType::kF8E4M3, 1}, {"F8_E5M2", DType::kF8E5M2, 1}, {"I16", DType::kI16, 2},
    {"U16", DType::kU16, 2},    {"F16", DType::kF16, 2},   {"BF16", DType::kBF16, 2},
    {"I32", DType::kI32, 4},    {"U32", DType::kU32, 4},   {"F32", DType::kF32, 4},
    {"F64", DType::kF64, 8},    {"I64", DType::kI64, 8},   {"U64", DType::kU64, 8},
};

// Largest header we accept; the real files have a few kB, the reference implementation caps at 100 MB.
constexpr uint64_t kMaxHeaderBytes = 100u * 1024u * 1024u;

}  // namespace

const char* dtype_name(DType dtype) {
  for (const auto& e : kDTypes) if (e.dtype == dtype) return e.name;
  return "?";
}

size_t dtype_size(DType dtype) {
  for (const auto& e : kDTypes) if (e.dtype == dtype) return e.size;
  return 0;
}

uint64_t TensorInfo::element_count() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void SafetensorsFile::fail(const std::string& what) const {
  throw SafetensorsError("safetensors file '" + path_ + "': " + what);
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail(std::string("cannot stat: ") + std::strerror(err));
  }
  map_size_ = static_cast<size_t>(st.st_size);
  if (map_size_ < 8) {
    ::close(fd);
    fail("header length: file has " + std::to_string(map_size_) + " bytes, fewer than the 8-byte length prefix");
  }
  void* p = ::mmap(nullptr, map_size_, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_err = errno;
  ::close(fd);
  if (p == MAP_FAILED) fail(std::string("cannot mmap: ") + std::strerror(map_err));
  map_ = static_cast<const uint8_t*>(p);

  try {
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | map_[i];
    const uint64_t available = map_size_ - 8;
    if (header_len > available) {
      fail("header length: prefix says " + std::to_string(header_len) + " bytes but only " +
           std::to_string(available) + " bytes follow it");
    }
    if (header_len > kMaxHeaderBytes) fail("header length: " + std::to_string(header_len) + " bytes is too large");
    if (header_len < 2) fail("header length: " + std::to_string(header_len) + " bytes cannot hold a JSON object");
    const std::string header(reinterpret_cast<const char*>(map_ + 8), header_len);
    data_begin_ = map_ + 8 + header_len;
    parse_header(header, available - header_len);
  } catch (...) {
    ::munmap(const_cast<uint8_t*>(map_), map_size_);
    map_ = nullptr;
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_ != nullptr) ::munmap(const_cast<uint8_t*>(map_), map_size_);
}

void SafetensorsFile::parse_header(const std::string& header_text, uint64_t data_size) {
  if (header_text[0] != '{') fail("header: JSON header must start with '{'");
  Json header;
  try {
    header = parse_json(header_text);
  } catch (const JsonError& e) {
    fail(std::string("header: invalid JSON: ") + e.what());
  }
  if (!header.is_object()) fail("header: JSON header is not an object");

  for (const auto& [name, entry] : header.as_object()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail("field '__metadata__': expected an object of strings");
      for (const auto& [key, value] : entry.as_object()) {
        if (!value.is_string()) fail("field '__metadata__." + key + "': expected a string value");
        metadata_[key] = value.as_string();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!entry.is_object()) fail(where + ": entry is not an object");
    for (const auto& [field, unused] : entry.as_object()) {
      (void)unused;
      if (field != "dtype" && field != "shape" && field != "data_offsets") {
        fail(where + ": unknown field '" + field + "'");
      }
    }
    TensorInfo info;
    info.name = name;

    const Json* dtype = entry.find("dtype");
    if (dtype == nullptr) fail(where + ": field 'dtype' is missing");
    if (!dtype->is_string()) fail(where + ": field 'dtype' is not a string");
    bool known = false;
    for (const auto& e : kDTypes) {
      if (dtype->as_string() == e.name) { info.dtype = e.dtype; known = true; }
    }
    if (!known) fail(where + ": field 'dtype': unknown dtype '" + dtype->as_string() + "'");

    const Json* shape = entry.find("shape");
    if (shape == nullptr) fail(where + ": field 'shape' is missing");
    if (!shape->is_array()) fail(where + ": field 'shape' is not an array");
    uint64_t elements = 1;
    bool overflow = false;
    for (const Json& dim : shape->as_array()) {
      if (!dim.is_int() || dim.as_int() < 0) {
        fail(where + ": field 'shape' must hold non-negative integers");
      }
      const uint64_t d = static_cast<uint64_t>(dim.as_int());
      info.shape.push_back(dim.as_int());
      if (d != 0 && elements > std::numeric_limits<uint64_t>::max() / d) overflow = true;
      elements *= d;
    }

    const Json* offsets = entry.find("data_offsets");
    if (offsets == nullptr) fail(where + ": field 'data_offsets' is missing");
    if (!offsets->is_array() || offsets->as_array().size() != 2) {
      fail(where + ": field 'data_offsets' must be an array [begin, end]");
    }
    for (const Json& off : offsets->as_array()) {
      if (!off.is_int() || off.as_int() < 0) {
        fail(where + ": field 'data_offsets' must hold non-negative integers");
      }
    }
    info.begin = static_cast<uint64_t>(offsets->as_array()[0].as_int());
    info.end = static_cast<uint64_t>(offsets->as_array()[1].as_int());
    if (info.begin > info.end) {
      fail(where + ": field 'data_offsets': begin " + std::to_string(info.begin) + " > end " +
           std::to_string(info.end));
    }
    const uint64_t elem_size = dtype_size(info.dtype);
    if (overflow || (elem_size != 0 && elements > std::numeric_limits<uint64_t>::max() / elem_size)) {
      fail(where + ": field 'shape' " + shape_to_string(info.shape) + " overflows the byte size");
    }
    if (elements * elem_size != info.byte_size()) {
      fail(where + ": field 'shape' " + shape_to_string(info.shape) + " of " + dtype_name(info.dtype) +
           " needs " + std::to_string(elements * elem_size) + " bytes but data_offsets span " +
           std::to_string(info.byte_size()));
    }
    if (info.end > data_size) {
      fail(where + ": field 'data_offsets' [" + std::to_string(info.begin) + ", " + std::to_string(info.end) +
           "] is out of range: the data buffer has " + std::to_string(data_size) + " bytes");
    }
    tensors_.emplace(name, std::move(info));
  }

  std::vector<const TensorInfo*> by_offset;
  for (const auto& [name, info] : tensors_) {
    (void)name;
    if (info.byte_size() > 0) by_offset.push_back(&info);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    if (by_offset[i]->begin < by_offset[i - 1]->end) {
      fail("tensor '" + by_offset[i]->name + "': field 'data_offsets' overlaps tensor '" +
           by_offset[i - 1]->name + "'");
    }
  }
}

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) fail("tensor '" + name + "' is not in the file");
  return it->second;
}

std::vector<float> SafetensorsFile::read_f32(const std::string& name,
                                             const std::vector<int64_t>& expected_shape) const {
  const TensorInfo& t = info(name);
  if (t.dtype != DType::kF32) {
    fail("tensor '" + name + "': field 'dtype' is " + dtype_name(t.dtype) + ", expected F32");
  }
  if (!expected_shape.empty() && t.shape != expected_shape) {
    fail("tensor '" + name + "': field 'shape' is " + shape_to_string(t.shape) + ", expected " +
         shape_to_string(expected_shape));
  }
  static_assert(sizeof(float) == 4, "F32 must be a 32-bit IEEE float");
  std::vector<float> out(t.element_count());
  // The format stores little-endian values; this host (x86-64) is little-endian too.
  std::memcpy(out.data(), data(t), t.byte_size());
  return out;
}

}  // namespace esact::model
