#include <doctest/doctest.h>

#include <cmath>

#include "esact/model/stats.h"

using namespace esact::model;

TEST_CASE("average ranks share ties") {
  CHECK(average_ranks({10, 20, 10, 30}) == std::vector<double>{1.5, 3, 1.5, 4});
  CHECK(average_ranks({5, 5, 5}) == std::vector<double>{2, 2, 2});
  CHECK(average_ranks({3, 1, 2}) == std::vector<double>{3, 1, 2});
}

TEST_CASE("spearman on a hand-computed example") {
  // y ranks: 5->1, 6->2, 7->3.5, 8->5, 7->3.5. Against ranks 1..5: sxy = 8, sxx = 10, syy = 9.5.
  const double expected = 8.0 / std::sqrt(10.0 * 9.5);  // 0.82078...
  CHECK(spearman({1, 2, 3, 4, 5}, {5, 6, 7, 8, 7}) == doctest::Approx(expected).epsilon(1e-12));
  CHECK(spearman({1, 2, 3, 4}, {10, 100, 1000, 10000}) == doctest::Approx(1.0));
  CHECK(spearman({1, 2, 3, 4}, {4, 3, 2, 1}) == doctest::Approx(-1.0));
  CHECK_THROWS(spearman({1, 2}, {1}));
  CHECK_THROWS(spearman({1, 1, 1}, {1, 2, 3}));
}

TEST_CASE("pearson and cosine") {
  CHECK(pearson({1, 2, 3}, {2, 4, 7}) == doctest::Approx(0.9933992677987828));
  CHECK(cosine({1, 0}, {1, 1}) == doctest::Approx(1 / std::sqrt(2.0)));
  CHECK(cosine({1, 2, 3}, {-1, -2, -3}) == doctest::Approx(-1.0));
  CHECK(cosine({0, 0}, {1, 1}) == 0.0);
}
