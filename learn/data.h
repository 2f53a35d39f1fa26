// Loading a training/test split from a data spec — the one entry point the CLI, the
// trainer and the agents use (docs/data.md has the user-facing description).
//
// Specs:
//   fashion-mnist           (default, also "") Debian's dataset-fashion-mnist package in
//                           kFashionMnistDir; NotFound with an apt-get hint if absent.
//   idx:DIR                 {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] in DIR.
//   csv:FILE[,TEST]         label-first CSV (learn/csv.h); without TEST a seeded 1/7 hold-out.
//   synthetic[:N[:D[:C]]]   Gaussian blobs (learn/synthetic.h): N train (default 2000),
//                           N/4 test, D features (20), C classes (4).
//
// Normalisation: images are scaled to [0, 1] (pixel/255), then standardised with the
// training set's GLOBAL mean and std over all pixels (Fashion-MNIST: 0.2860 / 0.3530);
// the test set uses the training statistics. CSV and synthetic features are standardised
// PER FEATURE with the training set's mean and std (a constant feature becomes 0).
// Images keep shape {1, rows, cols} and are held compactly (one byte per pixel plus the
// 256-entry normalisation table, Dataset::compact); CSV and synthetic are dense floats of
// shape {1, 1, features}. An agent does not call LoadData: it opens a DataSource
// (learn/data_source.h) and loads only its shard.
//
// `seed` only matters for the CSV hold-out and the synthetic set; every agent passes the
// run's seed so they all load the identical split.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "learn/dataset.h"
#include "learn/synthetic.h"

namespace grapevine::learn {

inline constexpr char kFashionMnistDir[] = "/usr/share/datasets/fashion-mnist";

struct DataSpec {
  enum class Kind { kFashionMnist, kIdx, kCsv, kSynthetic };
  Kind kind = Kind::kFashionMnist;
  std::string path;       // idx: directory; csv: training file
  std::string test_path;  // csv: optional test file
  SyntheticOptions synthetic;
};

// Parses and validates a spec without touching the file system.
Result<DataSpec> ParseDataSpec(const std::string& spec);

// Loads the split described by `spec`. NotFound for missing files (exit 2 in the CLI),
// Invalid for malformed content.
Result<DataSplit> LoadData(const std::string& spec, uint64_t seed);

// Loads the four IDX files from `dir` (plain or .gz names). num_classes > 0 fixes the
// class count (labels must be below it); 0 means max label + 1 over train and test.
Result<DataSplit> LoadIdxDir(const std::string& dir, int num_classes);

// Standardises every feature (row of x) with train's mean and std; test uses the same
// statistics. A feature whose std is below 1e-6 is only centred.
void StandardizeFeatures(Dataset* train, Dataset* test);

}  // namespace grapevine::learn
