// Width-generic access to Verilated ports: the same harness code drives a 16-bit port of the
// `tiny` model and a 1024-bit VlWide port of the `minilm` model.
#pragma once
#include <verilated.h>

#include <cstdint>
#include <type_traits>

namespace esact::sim {

template <typename T>
inline void set_field(T& port, int lsb, int width, uint64_t value) {
  static_assert(std::is_integral<T>::value, "scalar port");
  const uint64_t mask = width >= 64 ? ~uint64_t{0} : ((uint64_t{1} << width) - 1);
  uint64_t v = static_cast<uint64_t>(port);
  v = (v & ~(mask << lsb)) | ((value & mask) << lsb);
  port = static_cast<T>(v);
}

template <std::size_t W>
inline void set_field(VlWide<W>& port, int lsb, int width, uint64_t value) {
  for (int b = 0; b < width; ++b) {
    const int bit = lsb + b;
    EData& word = port[static_cast<std::size_t>(bit / 32)];
    const EData m = EData{1} << (bit % 32);
    word = ((value >> b) & 1) ? (word | m) : (word & ~m);
  }
}

template <typename T>
inline uint64_t get_field(const T& port, int lsb, int width) {
  static_assert(std::is_integral<T>::value, "scalar port");
  const uint64_t mask = width >= 64 ? ~uint64_t{0} : ((uint64_t{1} << width) - 1);
  return (static_cast<uint64_t>(port) >> lsb) & mask;
}

template <std::size_t W>
inline uint64_t get_field(const VlWide<W>& port, int lsb, int width) {
  uint64_t v = 0;
  for (int b = 0; b < width; ++b) {
    const int bit = lsb + b;
    v |= static_cast<uint64_t>((port[static_cast<std::size_t>(bit / 32)] >> (bit % 32)) & 1) << b;
  }
  return v;
}

// Byte e of a port (bits 8e+7..8e): the lane layout of the input stream.
template <typename T>
inline void set_byte(T& port, int e, uint8_t value) {
  set_field(port, 8 * e, 8, value);
}
template <std::size_t W>
inline void set_byte(VlWide<W>& port, int e, uint8_t value) {
  EData& word = port[static_cast<std::size_t>(e / 4)];
  const int sh = 8 * (e % 4);
  word = (word & ~(EData{0xFF} << sh)) | (EData{value} << sh);
}

template <typename T>
inline bool get_bit(const T& port, int bit) {
  return get_field(port, bit, 1) != 0;
}

}  // namespace esact::sim
