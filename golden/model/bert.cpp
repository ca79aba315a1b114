#include "esact/model/bert.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "esact/json.h"

namespace esact::model {

namespace {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

BertConfig BertConfig::from_json_file(const std::string& path) {
  Json json;
  try {
    json = parse_json(read_text_file(path));
  } catch (const std::exception& e) {
    throw std::runtime_error("model config '" + path + "': " + e.what());
  }
  auto fail = [&](const std::string& what) -> void {
    throw std::runtime_error("model config '" + path + "': " + what);
  };
  if (!json.is_object()) fail("not a JSON object");
  auto integer = [&](const char* key) -> int64_t {
    const Json* v = json.find(key);
    if (v == nullptr || !v->is_int() || v->as_int() <= 0) {
      fail(std::string("field '") + key + "' must be a positive integer");
    }
    return v->as_int();
  };
  auto string_is = [&](const char* key, const char* want, bool required) {
    const Json* v = json.find(key);
    if (v == nullptr) {
      if (required) fail(std::string("field '") + key + "' is missing");
      return;
    }
    if (!v->is_string() || v->as_string() != want) {
      fail(std::string("field '") + key + "' must be \"" + want + "\" for this BERT implementation");
    }
  };
  string_is("model_type", "bert", true);
  string_is("hidden_act", "gelu", true);
  string_is("position_embedding_type", "absolute", false);

  BertConfig c;
  c.vocab_size = integer("vocab_size");
  c.hidden_size = integer("hidden_size");
  c.num_layers = integer("num_hidden_layers");
  c.num_heads = integer("num_attention_heads");
  c.intermediate_size = integer("intermediate_size");
  c.max_positions = integer("max_position_embeddings");
  c.type_vocab_size = integer("type_vocab_size");
  const Json* eps = json.find("layer_norm_eps");
  if (eps != nullptr) {
    if (!eps->is_number() || eps->as_number() <= 0) fail("field 'layer_norm_eps' must be a positive number");
    c.layer_norm_eps = eps->as_number();
  }
  if (c.hidden_size % c.num_heads != 0) fail("field 'hidden_size' is not a multiple of 'num_attention_heads'");
  return c;
}

BertWeights BertWeights::from_safetensors(const SafetensorsFile& file, const BertConfig& config) {
  const std::string prefix = file.contains("bert.embeddings.word_embeddings.weight") ? "bert." : "";
  const int64_t d = config.hidden_size, f = config.intermediate_size;
  auto tensor = [&](const std::string& name, std::vector<int64_t> shape) {
    return file.read_f32(prefix + name, shape);
  };
  auto linear = [&](const std::string& name, int64_t out, int64_t in) {
    LinearWeights l;
    l.out_features = out;
    l.in_features = in;
    l.weight = tensor(name + ".weight", {out, in});
    l.bias = tensor(name + ".bias", {out});
    return l;
  };
  auto norm = [&](const std::string& name) {
    LayerNormWeights n;
    n.gamma = tensor(name + ".weight", {d});
    n.beta = tensor(name + ".bias", {d});
    return n;
  };

  BertWeights w;
  w.config = config;
  w.word_embeddings = tensor("embeddings.word_embeddings.weight", {config.vocab_size, d});
  w.position_embeddings = tensor("embeddings.position_embeddings.weight", {config.max_positions, d});
  w.token_type_embeddings = tensor("embeddings.token_type_embeddings.weight", {config.type_vocab_size, d});
  w.embedding_norm = norm("embeddings.LayerNorm");
  for (int64_t i = 0; i < config.num_layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    BertLayerWeights layer;
    layer.query = linear(p + "attention.self.query", d, d);
    layer.key = linear(p + "attention.self.key", d, d);
    layer.value = linear(p + "attention.self.value", d, d);
    layer.attention_output = linear(p + "attention.output.dense", d, d);
    layer.attention_norm = norm(p + "attention.output.LayerNorm");
    layer.intermediate = linear(p + "intermediate.dense", f, d);
    layer.output = linear(p + "output.dense", d, f);
    layer.output_norm = norm(p + "output.LayerNorm");
    w.layers.push_back(std::move(layer));
  }
  if (file.contains(prefix + "encoder.layer." + std::to_string(config.num_layers) + ".output.dense.weight")) {
    throw SafetensorsError("safetensors file '" + file.path() + "': has more encoder layers than config says (" +
                           std::to_string(config.num_layers) + ")");
  }
  return w;
}

BertWeights BertWeights::load(const std::string& model_dir) {
  const BertConfig config = BertConfig::from_json_file(model_dir + "/config.json");
  const SafetensorsFile file(model_dir + "/model.safetensors");
  return from_safetensors(file, config);
}

std::string default_model_dir() {
  std::string cache;
  if (const char* env = std::getenv("ESACT_CACHE"); env != nullptr && *env != '\0') {
    cache = env;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    cache = std::string(home) + "/.cache/esact";
  } else {
    throw std::runtime_error("neither ESACT_CACHE nor HOME is set: cannot locate the model cache");
  }
  return cache + "/models/all-MiniLM-L6-v2";
}

}  // namespace esact::model
