// choco — CHOCO-SGD (Koloskova, Stich, Jaggi, ICML 2019; ALGORITHMS.md §5): gossip of
// compressed differences with error feedback; with `--optimizer adam` it is the
// decentralized Efficient-Adam (Chen et al., TSP 2023): the post-Adam update is what
// gets compressed (it is in x), Adam's moments never leave the agent.
//
// State owned here: the public copy x̂_i of our model and, per in-neighbour j, our copy
// of its public copy x̂_j (see "Deviation" below). Every gossip tick (`--choco-every`
// optimizer steps, 0 = once a round):
//   q = Q(x − x̂_i), encoded with `--compress`; x̂_i += C(q) (what the receivers decode);
//   send q on kCompressedGossip to every out-neighbour that holds our x̂_i exactly, and a
//   full-precision snapshot of x̂_i (purpose publicCopy) to every other one;
//   take what arrived, waiting for the live in-neighbours' tick up to the adaptive
//   deadline: x̂_j += C(q_j), checked against the sender's hash of its x̂ after the
//   update; a snapshot sets x̂_j;
//   consensus: x += γ Σ_j w_ij (x̂_j − x̂_i) over the neighbours whose copy is exact, with
//   the exchange's Metropolis row.
// Error feedback is implicit: what Q did not send stays in x − x̂_i and is sent later.
//
// Exactness under churn: a sender knows who holds its x̂ (every update handed over since
// the start or since the last snapshot); a neighbour that missed one (not connected,
// new, re-joined) gets a snapshot instead. A receiver whose copy fails the hash check
// (a lost update, garbage) drops that neighbour from the consensus and asks it for a
// snapshot (a publicCopy without values), at most every kRequestEvery ticks.
//
// Deviation from the paper's "3 vectors" (x, x̂, s = Σ w_ij x̂_j): we keep x̂_j per
// neighbour (2 + d vectors). With s, a change of w_ij (a join or leave changes the
// Metropolis weights) or the loss of one neighbour needs every neighbour's snapshot at
// once; with per-neighbour copies the sum is recomputed with the current weights and a
// re-seed concerns one neighbour. Memory: (2 + d)·P floats (ring: 4 × 0.94 MB).
//
// γ: `--choco-gamma`, or tuned at start (choco_gamma.h) on the live graph and codec.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>
#include <array>
#include <map>
#include <optional>
#include <set>

#include "agent/algorithms/choco_gamma.h"
#include "agent/algorithms/plugins.h"
#include "agent/algorithms/shared.h"
#include "base/check.h"
#include "learn/trainer.h"
#include "merge/compress.h"
#include "proto/hash.h"

namespace grapevine::agent::algorithms {

namespace {

std::string CheckCompress(const std::string& value) {
  auto spec = merge::ParseCodec(value);
  return spec.ok() ? std::string() : spec.status().message();
}

std::string CheckGamma(const std::string& value) {
  const std::string why = NonNegativeNumber(value);
  if (!why.empty()) return why;
  if (std::stod(value) > 1.0) return "must be in [0, 1] (0 = tune at start), not " + value;
  return "";
}

constexpr std::array<OptionSpec, 3> kOptions = {{
    {"compress", "codec of the gossiped differences: none|q8|q4|sign|topk:F|randk:F",
     "sign", "CODEC", CheckCompress},
    {"choco-every", "optimizer steps between compressed gossips (0 = once a round)", "1", "INT",
     NonNegativeInteger},
    {"choco-gamma", "consensus step size in (0, 1]; 0 = tune at start on the live graph",
     "0", "FLOAT", CheckGamma},
}};

// Ticks between two snapshot requests to the same neighbour.
constexpr uint64_t kRequestEvery = 20;

// merge::CodecKind ↔ the wire's proto::TensorCodec, one row per compressed codec.
constexpr std::pair<merge::CodecKind, proto::TensorCodec> kWireCodecs[] = {
    {merge::CodecKind::kNone, proto::TensorCodec::kFloat32},
    {merge::CodecKind::kQ8, proto::TensorCodec::kInt8},
    {merge::CodecKind::kQ4, proto::TensorCodec::kQ4},
    {merge::CodecKind::kSign, proto::TensorCodec::kSignNorm},
    {merge::CodecKind::kTopK, proto::TensorCodec::kTopK},
    {merge::CodecKind::kRandK, proto::TensorCodec::kRandK},
};

proto::TensorCodec WireCodec(merge::CodecKind kind) {
  for (const auto& [k, wire] : kWireCodecs) {
    if (k == kind) return wire;
  }
  return proto::TensorCodec::kFloat32;
}

// The codec a compressed update names; float32 (no codec) and bad fractions are errors.
Result<merge::CodecSpec> CodecOf(const proto::ModelPayload& m) {
  merge::CodecSpec spec;
  spec.fraction = m.codec_param;
  const auto* row = std::find_if(std::begin(kWireCodecs) + 1, std::end(kWireCodecs),
                                 [&](const auto& r) { return r.second == m.codec; });
  if (row == std::end(kWireCodecs)) {
    return Status::Invalid("codec " + std::to_string(static_cast<int>(m.codec)) +
                           " is not a compressed codec");
  }
  spec.kind = row->first;
  if (spec.kind == merge::CodecKind::kTopK || spec.kind == merge::CodecKind::kRandK) {
    if (!(spec.fraction > 0 && spec.fraction <= 1)) {
      return Status::Invalid("codec fraction " + std::to_string(spec.fraction) +
                             " is not in (0, 1]");
    }
  } else {
    spec.fraction = 1.0;
  }
  return spec;
}

class Choco : public Algorithm {
 public:
  explicit Choco(const OptionValues& o)
      : codec_(*merge::ParseCodec(o.String("compress"))),
        every_(o.Int("choco-every")),
        gamma_option_(o.Double("choco-gamma")) {}

  void Start(AlgorithmContext& ctx, const proto::ModelPayload* initial) override {
    learn::Trainer& t = ctx.trainer();
    sizes_.clear();
    for (const auto& ts : t.model().layout().tensors()) sizes_.push_back(static_cast<size_t>(ts.size()));
    // Every agent that starts fresh starts its x̂ at the same point: the shared initial
    // model, or 0 with per-node seeds (the paper's x̂ = 0). A joiner starts from a state
    // transfer, which its neighbours do not hold: they get snapshots both ways.
    fresh_ = initial == nullptr;
    start_ = ctx.shared_init() && fresh_ ? t.params() : Eigen::VectorXf::Zero(t.params().size());
    // A joiner's neighbours all get a snapshot of x̂ anyway: start it at the transferred
    // model rather than at 0, so the first compressed updates carry only what it learns.
    self_hat_ = fresh_ ? start_ : t.params();
    seed_ = ctx.seed() * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    if (gamma_option_ > 0) {
      gamma_ = gamma_option_;
      spdlog::info("choco: codec {}, consensus step gamma {:.4g} (--choco-gamma)",
                   codec_.ToString(), gamma_);
    } else {
      const GammaTuning tuned = TuneChocoGamma(ctx.LiveEdges(), ctx.self(), codec_, /*seed=*/1);
      gamma_ = tuned.gamma;
      spdlog::info(
          "choco: codec {}, consensus step gamma {:.4g} (tuned: {} agents, {} dims, error "
          "{:.3g}; --choco-gamma overrides)",
          codec_.ToString(), gamma_, tuned.nodes, tuned.dims, tuned.error);
    }
  }

  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    learn::Trainer& t = ctx.trainer();
    const int64_t every = every_ > 0 ? every_ : steps;
    double loss = 0;
    int done = 0;
    for (; done < steps && !ctx.stopping(); ++done) {
      loss += t.Step();
      if (++since_gossip_ >= every) {
        since_gossip_ = 0;
        Gossip(ctx, round * static_cast<uint64_t>(steps) + static_cast<uint64_t>(done));
      }
    }
    // The model status readers and joiners get: once a round, not every tick (an encode
    // of the whole model per optimizer step would be most of a tick's cost with sign).
    ctx.PublishForStatus(tick_);
    return MeanLoss(loss, done, round);
  }

  void Serve(AlgorithmContext& ctx) override {
    Absorb(ctx, tick_);
    SendSnapshots(ctx);  // neighbours still training may ask for our copy
  }
  void OnNewIdentity(const std::vector<proto::NodeId>&, proto::NodeId) override {
    peers_.clear();
    synced_out_.clear();
    fresh_ = false;  // nobody holds our x̂ under the new id
  }
  void OnPeerReplaced(proto::NodeId id) override {
    peers_.erase(id);
    synced_out_.erase(id);
  }
  std::vector<Metric> Metrics() const override {
    return {{"consensus_gamma", gamma_},
            {"updates_rejected", static_cast<int64_t>(rejected_)},
            {"resyncs", static_cast<int64_t>(resyncs_)}};
  }

 private:
  struct Peer {
    Eigen::VectorXf hat;   // our copy of its x̂
    bool exact = false;    // equal to its x̂ (hash-checked)
    uint64_t tick = 0;     // newest tick it sent us
    bool heard = false;
    std::optional<uint64_t> requested_at;  // tick of our last snapshot request
  };

  void Gossip(AlgorithmContext& ctx, uint64_t tick) {
    tick_ = tick;
    learn::Trainer& t = ctx.trainer();
    const Eigen::VectorXf& x = t.params();
    delta_ = x - self_hat_;
    proto::ModelPayload update;
    update.purpose = proto::ModelPurpose::kChocoUpdate;
    update.round = tick;
    update.codec = WireCodec(codec_.kind);
    update.codec_param = static_cast<float>(codec_.fraction);
    update.codec_seed = seed_;
    if (codec_.kind == merge::CodecKind::kNone) {
      self_hat_ = x;
    } else {
      update.packed = merge::EncodeModel(codec_, Span(delta_), sizes_, seed_, tick);
      decoded_.resize(x.size());
      const Status st = merge::DecodeModel(codec_, update.packed, sizes_, seed_, tick,
                                           MutableSpan(decoded_), /*accumulate=*/false);
      GV_CHECK_MSG(st.ok(), "a codec could not decode what it encoded");
      self_hat_ += decoded_;
    }
    update.content_hash = proto::ContentHash(Span(self_hat_));

    std::vector<proto::NodeId> exact, others;
    const std::vector<proto::NodeId> out = ctx.OutNeighbours();
    // A snapshot owed to a neighbour that is gone is not built again every poll.
    std::erase_if(snapshot_to_, [&](proto::NodeId id) {
      return std::find(out.begin(), out.end(), id) == out.end();
    });
    for (proto::NodeId id : out) {
      const bool holds = synced_out_.count(id) > 0 || (fresh_ && !sent_once_);
      (holds && codec_.kind != merge::CodecKind::kNone ? exact : others).push_back(id);
    }
    sent_once_ = true;
    synced_out_.clear();
    if (!exact.empty()) {
      for (proto::NodeId id : ctx.Send(Channel::kCompressedGossip, exact, std::move(update))) {
        synced_out_.insert(id);
      }
    }
    for (proto::NodeId id : others) snapshot_to_.insert(id);
    SendSnapshots(ctx);

    ctx.BeginExchange(tick);
    const auto arrived = [&](proto::NodeId id) {
      auto it = peers_.find(id);
      return it != peers_.end() && it->second.heard && it->second.tick >= tick;
    };
    while (!ctx.PollExchange(/*block=*/true, arrived)) Absorb(ctx, tick);
    Absorb(ctx, tick);

    Eigen::VectorXf& xm = t.mutable_params();
    for (const auto& [id, w] : ctx.MixingRow()) {
      auto it = peers_.find(id);
      if (it == peers_.end() || !it->second.exact) continue;
      xm += static_cast<float>(gamma_ * w) * (it->second.hat - self_hat_);
    }
    ctx.MarkMerged({});
  }

  // Full-precision x̂ to every neighbour that needs one (the network counts the bytes).
  void SendSnapshots(AlgorithmContext& ctx) {
    if (snapshot_to_.empty()) return;
    proto::ModelPayload copy;
    copy.purpose = proto::ModelPurpose::kPublicCopy;
    copy.round = tick_;
    copy.values.assign(self_hat_.data(), self_hat_.data() + self_hat_.size());
    const std::vector<proto::NodeId> to(snapshot_to_.begin(), snapshot_to_.end());
    for (proto::NodeId id : ctx.Send(Channel::kCompressedGossip, to, std::move(copy))) {
      synced_out_.insert(id);
      snapshot_to_.erase(id);
    }
    // Not handed over (not connected yet): it gets one at a later tick.
  }

  Peer& PeerOf(proto::NodeId id) {
    auto [it, inserted] = peers_.try_emplace(id);
    if (inserted) {
      // A neighbour we never heard from holds our common starting point if we both
      // started fresh; the hash check of its first update tells if not.
      it->second.hat = start_;
      it->second.exact = fresh_;
    }
    return it->second;
  }

  void Request(AlgorithmContext& ctx, proto::NodeId id, Peer& p, uint64_t tick) {
    if (p.requested_at && tick < *p.requested_at + kRequestEvery) return;
    p.requested_at = tick;
    proto::ModelPayload ask;
    ask.purpose = proto::ModelPurpose::kPublicCopy;  // no values: "send me yours"
    ask.round = tick;
    const proto::NodeId to[] = {id};
    ctx.Send(Channel::kCompressedGossip, to, std::move(ask));
  }

  void Absorb(AlgorithmContext& ctx, uint64_t tick) {
    for (const ChannelMessage& m : ctx.Take(Channel::kCompressedGossip)) {
      const proto::ModelPayload& p = *m.model;
      if (p.purpose == proto::ModelPurpose::kPublicCopy && p.values.empty()) {
        snapshot_to_.insert(m.from);  // it asks for our copy: sent at once
        synced_out_.erase(m.from);
        continue;
      }
      Peer& peer = PeerOf(m.from);
      const bool was_heard = peer.heard;
      peer.tick = peer.heard ? std::max(peer.tick, p.round) : p.round;
      peer.heard = true;
      if (p.purpose == proto::ModelPurpose::kPublicCopy) {
        peer.hat = Eigen::Map<const Eigen::VectorXf>(p.values.data(),
                                                     static_cast<Eigen::Index>(p.values.size()));
        if (!peer.exact || !was_heard) ++resyncs_;  // not every copy of `--compress none`
        peer.exact = true;
        peer.requested_at.reset();
        continue;
      }
      if (!peer.exact) {
        Request(ctx, m.from, peer, tick);
        continue;
      }
      const Status st = Apply(p, &peer.hat);
      if (!st.ok()) {
        ++rejected_;
        spdlog::warn("rejected compressed update from node {} (tick {}): {}", m.from, p.round,
                     st.message());
        peer.exact = false;
        Request(ctx, m.from, peer, tick);
      }
    }
    SendSnapshots(ctx);
  }

  // x̂_j += C(q_j), then the sender's hash of x̂_j must match; on any error `hat` is not
  // exact any more (the caller re-seeds it).
  Status Apply(const proto::ModelPayload& p, Eigen::VectorXf* hat) {
    auto spec = CodecOf(p);
    if (!spec.ok()) return spec.status();
    decoded_.resize(hat->size());
    GV_RETURN_IF_ERROR(merge::DecodeModel(*spec, p.packed, sizes_, p.codec_seed, p.round,
                                          MutableSpan(decoded_), /*accumulate=*/false));
    *hat += decoded_;
    if (proto::ContentHash(Span(*hat)) != p.content_hash) {
      return Status::Invalid("public copy out of step (hash differs after the update)");
    }
    return Status::Ok();
  }

  static std::span<const float> Span(const Eigen::VectorXf& v) {
    return {v.data(), static_cast<size_t>(v.size())};
  }
  static std::span<float> MutableSpan(Eigen::VectorXf& v) {
    return {v.data(), static_cast<size_t>(v.size())};
  }

  merge::CodecSpec codec_;
  int64_t every_;
  double gamma_option_;
  double gamma_ = 1.0;
  std::vector<size_t> sizes_;
  uint64_t seed_ = 0;
  bool fresh_ = true;
  bool sent_once_ = false;
  Eigen::VectorXf start_, self_hat_, delta_, decoded_;
  std::map<proto::NodeId, Peer> peers_;
  std::set<proto::NodeId> synced_out_;   // out-neighbours that hold our x̂ exactly
  std::set<proto::NodeId> snapshot_to_;  // out-neighbours owed a snapshot
  int64_t since_gossip_ = 0;
  uint64_t tick_ = 0;
  uint64_t rejected_ = 0;
  uint64_t resyncs_ = 0;
};

}  // namespace

std::span<const OptionSpec> ChocoOptions() { return kOptions; }

std::unique_ptr<Algorithm> MakeChoco(const OptionValues& options) {
  return std::make_unique<Choco>(options);
}

}  // namespace grapevine::agent::algorithms
