// DataSource: a data spec opened in two steps, so that an agent holds only what it trains
// and evaluates on (docs/memory.md).
//
//   Open()       reads the training labels (all an agent needs to compute the partition),
//                the image shape, the class count and the test set — its first
//                `test_limit` examples when that is positive (--eval-samples).
//   LoadTrain()  returns the training examples at the given indices. For the IDX specs
//                (fashion-mnist, idx:DIR) the images file is streamed once through a
//                bounded buffer and only those rows are kept, as bytes (Dataset's compact
//                storage); the same pass counts every pixel, because the normalisation
//                uses the whole training set's mean and std exactly as LoadData does.
//                CSV and synthetic sets are held whole (dense) from Open() on and
//                LoadTrain is a Subset().
//
// The examples LoadTrain(indices) returns are exactly LoadData(spec).train.Subset(indices)
// (same order, same float values), and train_labels() is LoadData's train.y, so
// PartitionAll over it gives the shards it always gave (tests/learn/data_source_test.cc).
// Thread-safety: not thread-safe; the agent uses it on one thread at a time.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "learn/dataset.h"

namespace grapevine::learn {

class DataSource {
 public:
  DataSource() = default;

  // NotFound for missing files (with the apt-get hint for fashion-mnist), Invalid for
  // malformed ones — each naming the file. test_limit <= 0 keeps the whole test set.
  static Result<DataSource> Open(const std::string& spec, uint64_t seed, int64_t test_limit = 0);
  // The IDX directory form of Open: num_classes > 0 fixes the class count, 0 = max label + 1.
  static Result<DataSource> OpenIdxDir(const std::string& dir, int num_classes,
                                       int64_t test_limit);

  const std::string& name() const { return name_; }
  const Shape& shape() const { return shape_; }
  int num_classes() const { return num_classes_; }
  int64_t train_size() const { return static_cast<int64_t>(train_labels_.size()); }
  std::span<const int32_t> train_labels() const { return train_labels_; }

  // The training examples at `indices` (strictly ascending, each < train_size()).
  // Invalid if the images file became unreadable or changed shape since Open().
  Result<Dataset> LoadTrain(std::span<const int64_t> indices);
  // The evaluation set. REQUIRES: a LoadTrain() succeeded (for IDX specs the
  // normalisation is known only after the training file was read).
  const Dataset& test() const;

 private:
  std::string name_;
  Shape shape_;
  int num_classes_ = 0;
  std::vector<int32_t> train_labels_;
  bool idx_ = false;
  std::string train_images_path_;  // idx: streamed by LoadTrain
  Dataset train_;                  // csv, synthetic: the whole training set
  Dataset test_;
  bool normalised_ = false;
};

}  // namespace grapevine::learn
