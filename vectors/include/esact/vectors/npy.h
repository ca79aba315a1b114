// NumPy .npy files (format version 1.0), the tensor container of the vector format.
//
// Only what the format needs: little-endian (or byte-order-free) integer dtypes |i1 |u1 <i2 <i4,
// C order. The reader validates every byte: magic, version, header length, header dictionary (exactly
// the keys descr, fortran_order, shape), descr, fortran_order == False, shape against the data size.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "esact/tensor.h"
#include "esact/vectors/error.h"

namespace esact::vectors {

enum class DType { kI8, kU8, kI16, kI32 };

const char* dtype_descr(DType t);  // "|i1", "|u1", "<i2", "<i4"
size_t dtype_size(DType t);
// Parses a descr as written in case.json; false if it is not one of the four.
bool dtype_from_descr(std::string_view descr, DType* out);

template <typename T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, int8_t>) return DType::kI8;
  else if constexpr (std::is_same_v<T, uint8_t>) return DType::kU8;
  else if constexpr (std::is_same_v<T, int16_t>) return DType::kI16;
  else {
    static_assert(std::is_same_v<T, int32_t>, "unsupported tensor element type");
    return DType::kI32;
  }
}

// "[2,16,16]": how shapes appear in messages.
std::string shape_str(const std::vector<int64_t>& shape);

// A decoded array: dtype, shape, and the data as little-endian bytes.
struct NpyArray {
  DType dtype = DType::kU8;
  std::vector<int64_t> shape;
  std::string data;
};

// Parses the bytes of a .npy file; `file` is used only in error messages (VectorError).
NpyArray parse_npy(const std::string& file, std::string_view bytes);
// Serialises to .npy version 1.0 bytes, header padded to a multiple of 64 bytes as NumPy does.
std::string encode_npy(DType dtype, const std::vector<int64_t>& shape, std::string_view le_data);

template <typename T>
std::string encode_npy(const Tensor<T>& t) {
  std::string bytes;
  bytes.resize(t.data.size() * sizeof(T));
  for (size_t i = 0; i < t.data.size(); ++i) {
    const auto u = static_cast<std::make_unsigned_t<T>>(t.data[i]);
    for (size_t b = 0; b < sizeof(T); ++b) {
      bytes[i * sizeof(T) + b] = static_cast<char>((u >> (8 * b)) & 0xFF);
    }
  }
  return encode_npy(dtype_of<T>(), t.shape, bytes);
}

// Converts an array to a tensor; throws VectorError(file, "descr") on a dtype mismatch.
template <typename T>
Tensor<T> npy_to_tensor(const NpyArray& a, const std::string& file) {
  if (a.dtype != dtype_of<T>()) {
    throw VectorError(file, "descr",
                      std::string("expected '") + dtype_descr(dtype_of<T>()) + "', got '" +
                          dtype_descr(a.dtype) + "'");
  }
  Tensor<T> t;
  t.shape = a.shape;
  t.data.resize(a.data.size() / sizeof(T));
  for (size_t i = 0; i < t.data.size(); ++i) {
    std::make_unsigned_t<T> u = 0;
    for (size_t b = 0; b < sizeof(T); ++b) {
      u = static_cast<std::make_unsigned_t<T>>(
          u | (static_cast<std::make_unsigned_t<T>>(static_cast<uint8_t>(a.data[i * sizeof(T) + b]))
               << (8 * b)));
    }
    t.data[i] = static_cast<T>(u);
  }
  return t;
}

// Whole-file helpers; errors name the path.
std::string read_file_bytes(const std::string& path);
void write_file_bytes(const std::string& path, std::string_view bytes);
NpyArray read_npy(const std::string& path);

}  // namespace esact::vectors
