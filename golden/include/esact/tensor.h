// A dense, row-major tensor of fixed-width integers: the golden model's only container.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace esact {

template <typename T>
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<T> data;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> s, T fill = T{}) : shape(std::move(s)) {
    data.assign(static_cast<size_t>(numel_of(shape)), fill);
  }
  static int64_t numel_of(const std::vector<int64_t>& s) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    return n;
  }
  int64_t numel() const { return numel_of(shape); }
  T& operator()(int64_t i, int64_t j) { return data[static_cast<size_t>(i * shape[1] + j)]; }
  const T& operator()(int64_t i, int64_t j) const {
    return data[static_cast<size_t>(i * shape[1] + j)];
  }
  T& operator()(int64_t a, int64_t i, int64_t j) {
    return data[static_cast<size_t>((a * shape[1] + i) * shape[2] + j)];
  }
  const T& operator()(int64_t a, int64_t i, int64_t j) const {
    return data[static_cast<size_t>((a * shape[1] + i) * shape[2] + j)];
  }
  bool operator==(const Tensor& o) const { return shape == o.shape && data == o.data; }
  bool operator!=(const Tensor& o) const { return !(*this == o); }
};

using TensorI8 = Tensor<int8_t>;
using TensorU8 = Tensor<uint8_t>;
using TensorI16 = Tensor<int16_t>;
using TensorI32 = Tensor<int32_t>;

}  // namespace esact
