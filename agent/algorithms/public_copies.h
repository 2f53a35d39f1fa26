// PublicCopies: CHOCO-style compressed model gossip (ALGORITHMS.md §5), the part that
// choco, `dpsgd --compress` and CompCGA (`cga --compress`) share. Each agent keeps a
// public copy x̂_i of its model and, per in-neighbour j, an exact copy of x̂_j; a gossip
// sends q = Q(x − x̂_i) (x̂_i += C(q) on both ends), so only compressed differences
// travel and what Q dropped stays in x − x̂_i for later (implicit error feedback).
//
// Exactness under churn: a sender knows who holds its x̂ (every update handed over since
// the start or since the last snapshot); a neighbour that missed one (not connected,
// new, re-joined) gets a full-precision snapshot (purpose publicCopy) instead. A
// receiver checks every update against the sender's hash of its x̂ after the update; a
// copy that fails (a lost update, garbage) leaves the consensus and is re-seeded by a
// snapshot it asks for (a publicCopy without values), at most every kRequestEvery ticks.
//
// Per-neighbour copies instead of the paper's s = Σ w_ij x̂_j (2 + d vectors, not 3): a
// change of w_ij (joins and leaves change the Metropolis weights) or one lost stream
// re-seeds one neighbour, not all of them. Memory: (2 + d)·P floats.
//
// Thread-safety: training thread only, like the plug-ins that own one.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "agent/algorithms/algorithm.h"
#include "agent/algorithms/option.h"
#include "merge/compress.h"

namespace grapevine::agent::algorithms {

// merge::CodecKind ↔ the wire's proto::TensorCodec (float32 for kNone).
proto::TensorCodec WireCodec(merge::CodecKind kind);
// The codec a compressed message names, with its parameter; float32 (no codec) and a
// fraction outside (0, 1] are errors.
Result<merge::CodecSpec> CodecFromWire(proto::TensorCodec codec, float param);

// A compressed payload of `purpose` for `tick`: the codec's wire id, parameter and
// seed, and the packed blocks (the caller sets the content hash where it has one).
proto::ModelPayload CompressedPayload(proto::ModelPurpose purpose, uint64_t tick,
                                      const merge::CodecSpec& codec, uint64_t seed,
                                      std::vector<uint8_t> packed);
// Encodes `v` with `codec` and decodes the blocks back into `decoded` (resized to
// v's size): what every receiver will decode, for the sender's own copy or error memory.
// Returns the packed blocks.
std::vector<uint8_t> EncodeAndReadBack(const merge::CodecSpec& codec, std::span<const float> v,
                                       std::span<const size_t> tensor_sizes, uint64_t seed,
                                       uint64_t tick, Eigen::VectorXf* decoded);
// Decodes a compressed payload's blocks (its codec, parameter, seed and round) into
// `out` (resized to Σ tensor_sizes). Invalid for an unknown codec or bad blocks.
Status DecodePayload(const proto::ModelPayload& p, std::span<const size_t> tensor_sizes,
                     Eigen::VectorXf* out);

// `--compress` values the way an option validator reports them ("" when good).
std::string CheckCodecOption(const std::string& value);
// The same for the algorithms that mix public copies with the plain average (step 1:
// `dpsgd --compress`, CompCGA): none|q8|q4|sign. The codecs that keep a small fraction
// (topk, randk) need a smaller, tuned step and are `--algo choco`'s.
std::string CheckStepOneCodec(const std::string& value);
inline constexpr OptionSpec kStepOneCompressOption = {
    "compress",
    "codec of the gossiped model differences (choco: none|q8|q4|sign|topk:F|randk:F; "
    "dpsgd, cga: none|q8|q4|sign; cga also compresses its cross-gradients; efficient-adam: "
    "q8|q4|sign|topk:F|randk:F for the steps both ways and between leaders)",
    "none", "CODEC", CheckStepOneCodec};

class PublicCopies {
 public:
  explicit PublicCopies(merge::CodecSpec codec) : codec_(codec) {}

  const merge::CodecSpec& codec() const { return codec_; }
  // Sets the starting copies: the shared initial model (every fresh agent starts its x̂
  // there), or 0 with per-node seeds (the paper's x̂ = 0). A joiner (`initial` given)
  // starts from a state transfer its neighbours do not hold: snapshots both ways.
  void Start(AlgorithmContext& ctx, const proto::ModelPayload* initial);

  // One gossip of `tick`: sends q = Q(x − x̂_i) of the trainer's parameters (snapshots to
  // whoever needs one), then takes what arrives until every live in-neighbour's copy is
  // at `tick` and `also_done(id)` holds, or the exchange deadline passed.
  // `on_poll` runs after every take while waiting (cga answers its neighbours there, so
  // two agents waiting for each other's answers cannot deadlock).
  void Gossip(AlgorithmContext& ctx, uint64_t tick,
              const AlgorithmContext::NeighbourDone& also_done = {},
              const std::function<void()>& on_poll = {});
  // The same gossip with `peers` (any members, neighbours or not; efficient-adam's
  // leaders) in place of the out- and in-neighbours. The caller keeps links to them
  // open (AlgorithmContext::LinkTo).
  void GossipWith(AlgorithmContext& ctx, uint64_t tick, const std::vector<proto::NodeId>& peers,
                  const std::function<void()>& on_poll = {});
  // x += γ Σ_j w_ij (x̂_j − x̂_i) over the last exchange's neighbours whose copy is exact.
  void Consensus(const AlgorithmContext& ctx, double gamma, Eigen::VectorXf* x) const {
    Consensus(ctx.MixingRow(), gamma, x);
  }
  // The same over an explicit row (peer, w_ij).
  void Consensus(const std::vector<std::pair<proto::NodeId, double>>& row, double gamma,
                 Eigen::VectorXf* x) const;
  // Takes the updates, snapshots and requests that arrived, and sends owed snapshots.
  void Absorb(AlgorithmContext& ctx);

  // Our exact copy of `id`'s public model and the tick it is at; nullopt when we hold
  // none that is exact.
  struct Copy {
    const Eigen::VectorXf* hat = nullptr;
    uint64_t tick = 0;
  };
  std::optional<Copy> CopyOf(proto::NodeId id) const;
  const Eigen::VectorXf& self_hat() const { return self_hat_; }

  void ForgetAll();                  // our id changed: nobody holds our x̂ any more
  void ForgetPeer(proto::NodeId id);  // `id` names another agent now

  uint64_t rejected() const { return rejected_; }
  uint64_t resyncs() const { return resyncs_; }
  const std::vector<size_t>& tensor_sizes() const { return sizes_; }
  uint64_t seed() const { return seed_; }

 private:
  struct Peer {
    Eigen::VectorXf hat;   // our copy of its x̂
    bool exact = false;    // equal to its x̂ (hash-checked)
    uint64_t tick = 0;     // newest tick it sent us
    bool heard = false;
    std::optional<uint64_t> requested_at;  // tick of our last snapshot request
  };

  void DoGossip(AlgorithmContext& ctx, uint64_t tick, const std::vector<proto::NodeId>* peers,
                const AlgorithmContext::NeighbourDone& also_done,
                const std::function<void()>& on_poll);
  void SendSnapshots(AlgorithmContext& ctx);
  Peer& PeerOf(proto::NodeId id);
  void Request(AlgorithmContext& ctx, proto::NodeId id, Peer& p);
  Status Apply(const proto::ModelPayload& p, Eigen::VectorXf* hat);

  merge::CodecSpec codec_;
  std::vector<size_t> sizes_;
  uint64_t seed_ = 0;
  bool fresh_ = true;
  bool sent_once_ = false;
  Eigen::VectorXf start_, self_hat_, delta_, decoded_;
  std::map<proto::NodeId, Peer> peers_;
  std::set<proto::NodeId> synced_out_;   // out-neighbours that hold our x̂ exactly
  std::set<proto::NodeId> snapshot_to_;  // out-neighbours owed a snapshot
  uint64_t tick_ = 0;
  uint64_t rejected_ = 0;
  uint64_t resyncs_ = 0;
};

// Spans over an Eigen vector, for the codecs.
inline std::span<const float> SpanOf(const Eigen::VectorXf& v) {
  return {v.data(), static_cast<size_t>(v.size())};
}
inline std::span<float> MutableSpanOf(Eigen::VectorXf& v) {
  return {v.data(), static_cast<size_t>(v.size())};
}

}  // namespace grapevine::agent::algorithms
