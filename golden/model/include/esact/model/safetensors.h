// Reader for the safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON header, then the data buffer. The file is memory-mapped read-only.
//
// Validation on open (every failure throws SafetensorsError naming the file and the tensor/field):
//   - N fits in the file, the header is a strict JSON object starting with '{';
//   - each tensor entry has exactly "dtype", "shape", "data_offsets"; the dtype is known;
//   - shape entries are non-negative integers, data_offsets is [begin, end] with begin <= end;
//   - end - begin equals product(shape) * dtype size (overflow-checked);
//   - offsets lie inside the data buffer and no two tensors overlap;
//   - "__metadata__", when present, maps strings to strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace esact::model {

class SafetensorsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class DType { kBool, kU8, kI8, kF8E4M3, kF8E5M2, kI16, kU16, kF16, kBF16, kI32, kU32, kF32, kF64, kI64, kU64 };

const char* dtype_name(DType dtype);
size_t dtype_size(DType dtype);

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data buffer
  uint64_t end = 0;

  uint64_t element_count() const;
  uint64_t byte_size() const { return end - begin; }
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }

  // Throws SafetensorsError naming the file when the tensor is absent.
  const TensorInfo& info(const std::string& name) const;
  // Raw bytes of a tensor (may be unaligned).
  const uint8_t* data(const TensorInfo& tensor) const { return data_begin_ + tensor.begin; }

  // Copies an F32 tensor after checking dtype and (when given) the expected shape.
  std::vector<float> read_f32(const std::string& name, const std::vector<int64_t>& expected_shape = {}) const;

 private:
  [[noreturn]] void fail(const std::string& what) const;
  void parse_header(const std::string& header_text, uint64_t data_size);

  std::string path_;
  const uint8_t* map_ = nullptr;
  size_t map_size_ = 0;
  const uint8_t* data_begin_ = nullptr;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

std::string shape_to_string(const std::vector<int64_t>& shape);

}  // namespace esact::model
