// CSV datasets: one example per line, the label first, then the features.
//
// Format: comma-separated; spaces around fields and a trailing '\r' are ignored; blank
// lines are skipped. If the first field of the first non-blank line is not a number, that
// line is a header and is skipped. Every row must have the same number of fields (the
// header's, if present, else the first row's). Labels are non-negative integers (written
// as "3" or "3.0") below kMaxCsvClasses; features are finite numbers.
// Errors name file:line and, for a bad field, the 1-based column.
//
// Thread-safety: pure functions over independent files.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "learn/dataset.h"

namespace grapevine::learn {

inline constexpr int kMaxCsvClasses = 100000;

// Reads one CSV file, un-normalised. num_classes = max label + 1; shape {1, 1, features}.
Result<Dataset> ReadCsv(const std::string& path);

// Train and test from CSV. With an empty test_path, a seeded hold-out of round(n/7)
// rows (at least 1) becomes the test set and the rest the training set, both in file
// order. num_classes = max label over both sets + 1. Features are standardised per
// feature with the training set's mean and std (StandardizeFeatures).
Result<DataSplit> LoadCsv(const std::string& train_path, const std::string& test_path,
                          uint64_t seed);

}  // namespace grapevine::learn
