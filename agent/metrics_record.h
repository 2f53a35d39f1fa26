// MetricsRecord: one line of an agent's metrics file (--metrics FILE, JSONL, one line per
// round), the single definition of that line. The agent fills one per round
// (agent/node_training.cc WriteMetrics) and MetricsWriter writes ToJsonLine(); every
// reader in tools/ (run summary, report, launch progress) parses with ReadMetricsFile.
//
// The JSON keys are the field names below and never change meaning (old run folders stay
// readable). Fields added after the first release are optional, so a line written by an
// older agent parses; a field that is present but has the wrong type makes the line
// malformed. `round` is the only required field.
//
//   {"t":1.25,"node":3,"round":7,"step":350,"loss":0.41,"test_accuracy":0.83,
//    "bytes_in":..,"bytes_out":..,"models_received":..,"models_merged":..,
//    "models_rejected":..,"models_stale":..,"models_superseded":..,"neighbours_alive":2,
//    "wait_seconds":0.03,"frame":1,"gradients_answered":4,"push_weight":1.0}
//
// The algorithm-specific fields (frame, gradients_answered, push_weight) are filled from
// the running plug-in's Metrics() by name through SetMetricsField.
//
// Thread-safety: plain value type; the functions are pure (ReadMetricsFile reads a file).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace grapevine::agent {

struct MetricsRecord {
  int64_t round = 0;                    // 0-based round this line closes
  std::optional<double> t;              // seconds since the agent started
  std::optional<uint32_t> node;         // the agent's node id (changes on a re-join)
  std::optional<int64_t> step;          // optimizer steps so far
  std::optional<double> loss;           // last training loss
  std::optional<double> test_accuracy;  // evaluation rounds only (--eval-every)
  std::optional<uint64_t> bytes_in;     // cumulative counters from here on
  std::optional<uint64_t> bytes_out;
  std::optional<uint64_t> models_received;
  std::optional<uint64_t> models_merged;
  std::optional<uint64_t> models_rejected;
  std::optional<uint64_t> models_stale;
  std::optional<uint64_t> models_superseded;
  std::optional<int64_t> neighbours_alive;  // live neighbours at the end of the round
  std::optional<double> wait_seconds;       // time spent waiting for neighbours' models
  std::optional<uint32_t> frame;            // dimat, wm: the node whose unit order is used
  std::optional<uint64_t> gradients_answered;  // cross-gradient algorithms (cga)
  std::optional<double> push_weight;           // push-sum algorithms (sgp): this agent's w
  std::optional<double> consensus_gamma;       // choco: the consensus step size in use
  std::optional<uint64_t> updates_rejected;    // choco, efficient-adam: updates that failed checks
  std::optional<uint64_t> resyncs;             // choco, efficient-adam: re-seeds by a snapshot
  // bytes_out by what the frames carried: full-precision models (gossip, state transfer,
  // push shares, public copies), compressed updates, cross-gradients, the rest
  // (membership, handshakes, status). Cumulative, like bytes_out.
  std::optional<uint64_t> bytes_out_model;
  std::optional<uint64_t> bytes_out_compressed;
  std::optional<uint64_t> bytes_out_gradient;
  std::optional<uint64_t> bytes_out_control;
  std::optional<int64_t> resumed_from;  // first round after a resume: the checkpoint's round
  std::optional<int64_t> group_leader;   // efficient-adam: our group's leader (-1: none)
  std::optional<int64_t> group_members;  // efficient-adam: the leader's group size (1 else)
  std::optional<uint64_t> updates_late;  // efficient-adam: members' steps after the average
  // Topology files with `group`s: bytes_out to members of our group / of other groups
  // (cumulative; the two tiers of hierarchical schedules, DESIGN §10).
  std::optional<uint64_t> bytes_out_local_tier;
  std::optional<uint64_t> bytes_out_global_tier;
  // Largest ‖x_j − x_i‖₂ over the neighbours' full models this round's exchange
  // delivered, taken before merging: how far the farthest neighbour's model is (absent
  // when none arrived).
  std::optional<double> neighbour_distance;
  // Straggler emulation (--slowdown / node attribute slowdown=F): F, when not 1.
  std::optional<double> slowdown;
  // daso: the schedule in use (phase 0 warm-up, 1 cycling, 2 cool-down; gs, ls, btw), the
  // neighbourhood-averaged loss its plateau test got, and the exchanges per tier
  // (cumulative): blocking with every neighbour, blocking inside the group, snapshots
  // sent to and merged from other groups, snapshots dropped as stale.
  std::optional<int64_t> daso_phase;
  std::optional<int64_t> daso_gs;
  std::optional<int64_t> daso_ls;
  std::optional<int64_t> daso_btw;
  std::optional<double> daso_neighbourhood_loss;
  std::optional<uint64_t> exchanges_blocking;
  std::optional<uint64_t> exchanges_local_tier;
  std::optional<uint64_t> snapshots_sent_global_tier;
  std::optional<uint64_t> merges_global_tier;
  std::optional<uint64_t> snapshots_stale;
  std::optional<uint64_t> staleness_waits;  // daso: waits for a lagging global neighbour

  bool operator==(const MetricsRecord&) const = default;
};

// Calls f(key, member) for every field, in the order of metrics.csv's columns
// (tools/report_data.h). One table for the writer, the reader and the CSV.
template <typename Record, typename F>
void ForEachMetricsField(Record& r, F&& f) {
  f("round", r.round);
  f("step", r.step);
  f("t", r.t);
  f("loss", r.loss);
  f("test_accuracy", r.test_accuracy);
  f("bytes_in", r.bytes_in);
  f("bytes_out", r.bytes_out);
  f("models_received", r.models_received);
  f("models_merged", r.models_merged);
  f("models_rejected", r.models_rejected);
  f("models_stale", r.models_stale);
  f("models_superseded", r.models_superseded);
  f("neighbours_alive", r.neighbours_alive);
  f("wait_seconds", r.wait_seconds);
  f("frame", r.frame);
  f("gradients_answered", r.gradients_answered);
  f("push_weight", r.push_weight);
  f("node", r.node);
  f("consensus_gamma", r.consensus_gamma);
  f("updates_rejected", r.updates_rejected);
  f("resyncs", r.resyncs);
  f("bytes_out_model", r.bytes_out_model);
  f("bytes_out_compressed", r.bytes_out_compressed);
  f("bytes_out_gradient", r.bytes_out_gradient);
  f("bytes_out_control", r.bytes_out_control);
  f("resumed_from", r.resumed_from);
  f("group_leader", r.group_leader);
  f("group_members", r.group_members);
  f("updates_late", r.updates_late);
  f("bytes_out_local_tier", r.bytes_out_local_tier);
  f("bytes_out_global_tier", r.bytes_out_global_tier);
  f("neighbour_distance", r.neighbour_distance);
  f("daso_phase", r.daso_phase);
  f("daso_gs", r.daso_gs);
  f("daso_ls", r.daso_ls);
  f("daso_btw", r.daso_btw);
  f("daso_neighbourhood_loss", r.daso_neighbourhood_loss);
  f("exchanges_blocking", r.exchanges_blocking);
  f("exchanges_local_tier", r.exchanges_local_tier);
  f("snapshots_sent_global_tier", r.snapshots_sent_global_tier);
  f("merges_global_tier", r.merges_global_tier);
  f("snapshots_stale", r.snapshots_stale);
  f("staleness_waits", r.staleness_waits);
  f("slowdown", r.slowdown);
}

// Sets the field called `key` to `value` (converted to the field's type). False, and
// nothing changes, when no field has that name or `value` does not fit its type.
bool SetMetricsField(MetricsRecord& record, std::string_view key, double value);

// One JSON object, no newline.
std::string ToJsonLine(const MetricsRecord& record);

// Invalid with the reason ("not JSON", "'round' is missing", "'loss' is "high", not a
// number") when the line is not a metrics record.
Result<MetricsRecord> ParseMetricsLine(std::string_view line);

struct MetricsFile {
  std::vector<MetricsRecord> records;  // the well-formed lines, in file order
  std::vector<std::string> errors;     // "PATH:LINE: reason", one per malformed line
};

// Every line of a metrics file. Malformed lines (a crashed agent may leave half a line)
// are skipped and listed in `errors`; empty lines are ignored. NotFound when the file
// cannot be opened.
Result<MetricsFile> ReadMetricsFile(const std::string& path);

}  // namespace grapevine::agent
