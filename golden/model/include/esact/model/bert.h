// BERT encoder configuration and weights as stored by Hugging Face (PyTorch layout), loaded from a
// model folder holding config.json and model.safetensors. Shared by every forward implementation
// (float reference here; integer dense/ESACT forwards quantise from the same struct).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "esact/model/safetensors.h"

namespace esact::model {

struct BertConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;         // D
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;   // F
  int64_t max_positions = 0;
  int64_t type_vocab_size = 0;
  double layer_norm_eps = 1e-12;

  int64_t head_dim() const { return hidden_size / num_heads; }

  // Reads and checks config.json (model_type bert, hidden_act gelu, absolute positions).
  static BertConfig from_json_file(const std::string& path);
};

// nn.Linear: y = x W^T + b, weight row-major [out_features][in_features] as in the file.
struct LinearWeights {
  int64_t out_features = 0;
  int64_t in_features = 0;
  std::vector<float> weight;
  std::vector<float> bias;
};

struct LayerNormWeights {
  std::vector<float> gamma;
  std::vector<float> beta;
};

struct BertLayerWeights {
  LinearWeights query, key, value;    // D -> D each
  LinearWeights attention_output;     // D -> D
  LayerNormWeights attention_norm;    // after attention residual
  LinearWeights intermediate;         // D -> F, then GELU
  LinearWeights output;               // F -> D
  LayerNormWeights output_norm;       // after FFN residual
};

struct BertWeights {
  BertConfig config;
  std::vector<float> word_embeddings;        // [vocab_size][D]
  std::vector<float> position_embeddings;    // [max_positions][D]
  std::vector<float> token_type_embeddings;  // [type_vocab_size][D]
  LayerNormWeights embedding_norm;
  std::vector<BertLayerWeights> layers;

  // Tensor names with or without the "bert." prefix are accepted; every shape is checked against
  // the config and every failure names the file and tensor.
  static BertWeights from_safetensors(const SafetensorsFile& file, const BertConfig& config);
  // <dir>/config.json + <dir>/model.safetensors.
  static BertWeights load(const std::string& model_dir);
};

// Default model folder written by ci/fetch-model: ${ESACT_CACHE:-$HOME/.cache/esact}/models/all-MiniLM-L6-v2.
std::string default_model_dir();

}  // namespace esact::model
