// ParseModel: spec string → Model. Grammar (docs/learn.md):
//   spec  := "mlp:" INT ("-" INT)+            first INT = input size, last = class count
//          | "cnn:" block ("-" block)*
//   block := "c" INT ["k" INT]                 conv, INT channels, odd kernel (default 3)
//          | "p"                               max-pool 2×2 stride 2
//          | "d" INT                           hidden dense + ReLU (no conv/pool after it)
// A CNN ends with an implicit dense layer to the class count; a flatten is inserted
// before the first dense layer.
#include <charconv>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/check.h"
#include "learn/layers_conv.h"
#include "learn/model.h"

namespace grapevine::learn {

// Assembles layers, layout and symmetry groups in order; knows the current activation
// shape so each layer gets its input geometry and each group its consumer's block size.
class ModelBuilder {
 public:
  ModelBuilder(const std::string& spec, Shape input, int num_classes)
      : model_(new Model(spec, input, num_classes)), features_(input.size()) {}

  void AddConv(int channels, int kernel) {
    Model& m = *model_;
    if (!image_) {
      Shape in = m.input_;
      m.layers_.push_back(std::make_unique<UnflattenLayer>(in.channels, in.height, in.width));
      image_ = true;
      c_ = in.channels, h_ = in.height, w_ = in.width;
    }
    const std::string name = "conv" + std::to_string(++convs_);
    const int64_t kk = static_cast<int64_t>(kernel) * kernel;
    const int wi = AddTensor(name + ".weight", channels, c_ * kk, c_ * kk);
    const int bi = AddTensor(name + ".bias", channels, 1, 0);
    AttachConsumer(wi, kk);
    m.layers_.push_back(
        std::make_unique<Conv2dLayer>(m.layout_, wi, bi, c_, kernel, h_, w_, /*relu=*/true));
    OpenGroup(name, channels, wi, bi);
    c_ = channels;
  }

  void AddPool() {
    GV_CHECK(image_ && h_ >= 2 && w_ >= 2);
    model_->layers_.push_back(std::make_unique<MaxPool2dLayer>(c_, h_, w_));
    h_ /= 2;
    w_ /= 2;
  }

  void AddDense(int units, bool relu) {
    Model& m = *model_;
    int64_t block = 1;
    if (image_) {
      m.layers_.push_back(std::make_unique<FlattenLayer>(c_, h_, w_));
      block = static_cast<int64_t>(h_) * w_;
      features_ = c_ * block;
      image_ = false;
    }
    const std::string name = "dense" + std::to_string(++denses_);
    const int wi = AddTensor(name + ".weight", units, features_, features_);
    const int bi = AddTensor(name + ".bias", units, 1, 0);
    AttachConsumer(wi, block);
    m.layers_.push_back(std::make_unique<DenseLayer>(m.layout_, wi, bi, relu));
    if (relu) OpenGroup(name, units, wi, bi);
    features_ = units;
  }

  bool image() const { return image_; }
  int height() const { return h_; }
  int width() const { return w_; }

  std::unique_ptr<Model> Finish() {
    Model& m = *model_;
    GV_CHECK(!has_open_group_);  // the output layer consumed the last group
    m.first_param_layer_ = 0;
    while (!m.layers_[static_cast<size_t>(m.first_param_layer_)]->HasParams()) {
      ++m.first_param_layer_;
    }
    return std::move(model_);
  }

 private:
  int AddTensor(const std::string& name, int64_t rows, int64_t cols, int64_t fan_in) {
    model_->fan_in_.push_back(fan_in);
    return model_->layout_.Add(name, rows, cols);
  }

  void OpenGroup(const std::string& name, int64_t units, int wi, int bi) {
    Model& m = *model_;
    m.symmetry_.groups.push_back(
        HiddenGroup{name, units, {{wi, Axis::kRows, 1}, {bi, Axis::kRows, 1}}});
    m.group_layers_.push_back(static_cast<int>(m.layers_.size()) - 1);
    has_open_group_ = true;
  }

  void AttachConsumer(int weight_index, int64_t block) {
    if (!has_open_group_) return;
    model_->symmetry_.groups.back().moves.push_back({weight_index, Axis::kCols, block});
    has_open_group_ = false;
  }

  std::unique_ptr<Model> model_;
  bool image_ = false;
  int c_ = 0, h_ = 0, w_ = 0;
  int64_t features_;
  int convs_ = 0, denses_ = 0;
  bool has_open_group_ = false;
};

namespace {

constexpr int64_t kMaxWidth = 1 << 16;  // units or channels per layer
constexpr int kMaxKernel = 15;

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// Parses a whole token as a positive integer ≤ kMaxWidth; false otherwise.
bool ParsePositive(std::string_view s, int* out) {
  if (s.empty()) return false;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v <= 0 || v > kMaxWidth) return false;
  *out = static_cast<int>(v);
  return true;
}

Result<std::unique_ptr<Model>> ParseMlp(const std::string& spec, std::string_view body,
                                        Shape input, int num_classes) {
  auto bad = [&](const std::string& m) { return Status::Invalid("model spec '" + spec + "': " + m); };
  std::vector<int> sizes;
  for (std::string_view token : Split(body, '-')) {
    int v = 0;
    if (!ParsePositive(token, &v)) return bad("bad layer size '" + std::string(token) + "'");
    sizes.push_back(v);
  }
  if (sizes.size() < 2) return bad("an mlp needs at least an input and an output size");
  if (sizes.front() != input.size()) {
    return bad("first size " + std::to_string(sizes.front()) + " must equal the input size " +
               std::to_string(input.size()));
  }
  if (sizes.back() != num_classes) {
    return bad("last size " + std::to_string(sizes.back()) + " must equal the class count " +
               std::to_string(num_classes));
  }
  ModelBuilder builder(spec, input, num_classes);
  for (size_t i = 1; i < sizes.size(); ++i) builder.AddDense(sizes[i], i + 1 < sizes.size());
  return builder.Finish();
}

Result<std::unique_ptr<Model>> ParseCnn(const std::string& spec, std::string_view body,
                                        Shape input, int num_classes) {
  auto bad = [&](const std::string& m) { return Status::Invalid("model spec '" + spec + "': " + m); };
  if (input.height < 2 || input.width < 2) {
    return bad("a cnn needs image input, the data has " + std::to_string(input.size()) +
               " flat features");
  }
  ModelBuilder builder(spec, input, num_classes);
  bool seen_dense = false;
  for (std::string_view token : Split(body, '-')) {
    const std::string tok(token);
    if (token.empty()) return bad("empty layer token");
    if (token[0] == 'c') {
      if (seen_dense) return bad("conv '" + tok + "' after a dense layer");
      const size_t k_pos = token.find('k');
      int channels = 0, kernel = 3;
      if (!ParsePositive(token.substr(1, k_pos == std::string_view::npos ? k_pos : k_pos - 1),
                         &channels)) {
        return bad("bad conv channel count in '" + tok + "'");
      }
      if (k_pos != std::string_view::npos &&
          (!ParsePositive(token.substr(k_pos + 1), &kernel) || kernel % 2 == 0 ||
           kernel > kMaxKernel)) {
        return bad("bad kernel size in '" + tok + "' (odd, 1.." + std::to_string(kMaxKernel) + ")");
      }
      builder.AddConv(channels, kernel);
    } else if (token == "p") {
      if (seen_dense) return bad("pool 'p' after a dense layer");
      if (!builder.image()) return bad("pool 'p' before any conv layer");
      if (builder.height() < 2 || builder.width() < 2) {
        return bad("pool 'p' on a " + std::to_string(builder.height()) + "x" +
                   std::to_string(builder.width()) + " activation");
      }
      builder.AddPool();
    } else if (token[0] == 'd') {
      int units = 0;
      if (!ParsePositive(token.substr(1), &units)) return bad("bad dense size in '" + tok + "'");
      if (!seen_dense && !builder.image()) return bad("dense '" + tok + "' before any conv layer");
      seen_dense = true;
      builder.AddDense(units, /*relu=*/true);
    } else {
      return bad("unknown layer token '" + tok + "' (expected cN[kK], p or dN)");
    }
  }
  builder.AddDense(num_classes, /*relu=*/false);
  return builder.Finish();
}

}  // namespace

Result<std::unique_ptr<Model>> ParseModel(const std::string& spec, Shape input,
                                          int num_classes) {
  if (input.size() <= 0 || num_classes <= 0) {
    return Status::Invalid("model spec '" + spec + "': data has no features or no classes");
  }
  if (spec == "mlp") {
    // The default model: two hidden layers (256, 128), input and output from the data —
    // mlp:784-256-128-10 on Fashion-MNIST, and it fits synthetic data as well.
    return ParseModel("mlp:" + std::to_string(input.size()) + "-256-128-" +
                          std::to_string(num_classes),
                      input, num_classes);
  }
  const size_t colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  if (colon == std::string::npos || colon + 1 == spec.size()) {
    return Status::Invalid("model spec '" + spec +
                           "': expected mlp:SIZES or cnn:LAYERS, e.g. mlp:784-256-128-10");
  }
  const std::string_view body = std::string_view(spec).substr(colon + 1);
  if (kind == "mlp") return ParseMlp(spec, body, input, num_classes);
  if (kind == "cnn") return ParseCnn(spec, body, input, num_classes);
  return Status::Invalid("model spec '" + spec + "': unknown model kind '" + kind +
                         "' (expected mlp or cnn)");
}

}  // namespace grapevine::learn
