// Correlation and similarity measures used by the evaluations.
#pragma once

#include <vector>

namespace esact::model {

// Fractional ranks 1..n; tied values share the average of the ranks they span.
std::vector<double> average_ranks(const std::vector<double>& values);
// Pearson correlation; throws std::invalid_argument on size mismatch, n < 2 or zero variance.
double pearson(const std::vector<double>& x, const std::vector<double>& y);
// Spearman rank correlation = Pearson of average ranks (the scipy.stats.spearmanr definition).
double spearman(const std::vector<double>& x, const std::vector<double>& y);
// Cosine similarity; 0 when either vector is zero. Throws on size mismatch.
double cosine(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace esact::model
