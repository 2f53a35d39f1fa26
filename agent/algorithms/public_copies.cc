#include "agent/algorithms/public_copies.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "base/check.h"
#include "learn/trainer.h"
#include "proto/hash.h"

namespace grapevine::agent::algorithms {

namespace {

// Ticks between two snapshot requests to the same neighbour.
constexpr uint64_t kRequestEvery = 20;

// One row per codec; the first is "no codec".
constexpr std::pair<merge::CodecKind, proto::TensorCodec> kWireCodecs[] = {
    {merge::CodecKind::kNone, proto::TensorCodec::kFloat32},
    {merge::CodecKind::kQ8, proto::TensorCodec::kInt8},
    {merge::CodecKind::kQ4, proto::TensorCodec::kQ4},
    {merge::CodecKind::kSign, proto::TensorCodec::kSignNorm},
    {merge::CodecKind::kTopK, proto::TensorCodec::kTopK},
    {merge::CodecKind::kRandK, proto::TensorCodec::kRandK},
};

}  // namespace

proto::TensorCodec WireCodec(merge::CodecKind kind) {
  for (const auto& [k, wire] : kWireCodecs) {
    if (k == kind) return wire;
  }
  return proto::TensorCodec::kFloat32;
}

Result<merge::CodecSpec> CodecFromWire(proto::TensorCodec codec, float param) {
  merge::CodecSpec spec;
  spec.fraction = param;
  const auto* row = std::find_if(std::begin(kWireCodecs) + 1, std::end(kWireCodecs),
                                 [&](const auto& r) { return r.second == codec; });
  if (row == std::end(kWireCodecs)) {
    return Status::Invalid("codec " + std::to_string(static_cast<int>(codec)) +
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

proto::ModelPayload CompressedPayload(proto::ModelPurpose purpose, uint64_t tick,
                                      const merge::CodecSpec& codec, uint64_t seed,
                                      std::vector<uint8_t> packed) {
  proto::ModelPayload p;
  p.purpose = purpose;
  p.round = tick;
  p.codec = WireCodec(codec.kind);
  p.codec_param = static_cast<float>(codec.fraction);
  p.codec_seed = seed;
  p.packed = std::move(packed);
  return p;
}

std::vector<uint8_t> EncodeAndReadBack(const merge::CodecSpec& codec, std::span<const float> v,
                                       std::span<const size_t> tensor_sizes, uint64_t seed,
                                       uint64_t tick, Eigen::VectorXf* decoded) {
  std::vector<uint8_t> packed = merge::EncodeModel(codec, v, tensor_sizes, seed, tick);
  decoded->resize(static_cast<Eigen::Index>(v.size()));
  const Status st = merge::DecodeModel(codec, packed, tensor_sizes, seed, tick,
                                       MutableSpanOf(*decoded), /*accumulate=*/false);
  GV_CHECK_MSG(st.ok(), "a codec could not decode what it encoded");
  return packed;
}

Status DecodePayload(const proto::ModelPayload& p, std::span<const size_t> tensor_sizes,
                     Eigen::VectorXf* out) {
  GV_ASSIGN_OR_RETURN(merge::CodecSpec spec, CodecFromWire(p.codec, p.codec_param));
  size_t total = 0;
  for (size_t n : tensor_sizes) total += n;
  out->resize(static_cast<Eigen::Index>(total));
  return merge::DecodeModel(spec, p.packed, tensor_sizes, p.codec_seed, p.round,
                            MutableSpanOf(*out), /*accumulate=*/false);
}

std::string CheckCodecOption(const std::string& value) {
  auto spec = merge::ParseCodec(value);
  return spec.ok() ? std::string() : spec.status().message();
}

std::string CheckStepOneCodec(const std::string& value) {
  const std::string why = CheckCodecOption(value);
  if (!why.empty()) return why;
  const merge::CodecKind kind = merge::ParseCodec(value)->kind;
  if (kind == merge::CodecKind::kTopK || kind == merge::CodecKind::kRandK) {
    return value + " is not a dpsgd or cga codec (none|q8|q4|sign); topk and randk need the "
                   "tuned consensus step of --algo choco";
  }
  return "";
}

void PublicCopies::Start(AlgorithmContext& ctx, const proto::ModelPayload* initial) {
  learn::Trainer& t = ctx.trainer();
  sizes_.clear();
  for (const auto& ts : t.model().layout().tensors()) sizes_.push_back(static_cast<size_t>(ts.size()));
  fresh_ = initial == nullptr;
  start_ = ctx.shared_init() && fresh_ ? t.params() : Eigen::VectorXf::Zero(t.params().size());
  // A joiner's neighbours all get a snapshot of x̂ anyway: start it at the transferred
  // model rather than at 0, so the first compressed updates carry only what it learns.
  self_hat_ = fresh_ ? start_ : t.params();
  seed_ = ctx.seed() * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
}

void PublicCopies::Gossip(AlgorithmContext& ctx, uint64_t tick,
                          const AlgorithmContext::NeighbourDone& also_done,
                          const std::function<void()>& on_poll) {
  DoGossip(ctx, tick, nullptr, also_done, on_poll);
}

void PublicCopies::GossipWith(AlgorithmContext& ctx, uint64_t tick,
                              const std::vector<proto::NodeId>& peers,
                              const std::function<void()>& on_poll) {
  DoGossip(ctx, tick, &peers, {}, on_poll);
}

void PublicCopies::DoGossip(AlgorithmContext& ctx, uint64_t tick,
                            const std::vector<proto::NodeId>* peers,
                            const AlgorithmContext::NeighbourDone& also_done,
                            const std::function<void()>& on_poll) {
  tick_ = tick;
  const Eigen::VectorXf& x = ctx.trainer().params();
  delta_ = x - self_hat_;
  proto::ModelPayload update =
      CompressedPayload(proto::ModelPurpose::kChocoUpdate, tick, codec_, seed_, {});
  if (codec_.kind == merge::CodecKind::kNone) {
    self_hat_ = x;
  } else {
    update.packed = EncodeAndReadBack(codec_, SpanOf(delta_), sizes_, seed_, tick, &decoded_);
    self_hat_ += decoded_;
  }
  update.content_hash = proto::ContentHash(SpanOf(self_hat_));

  std::vector<proto::NodeId> exact, others;
  const std::vector<proto::NodeId> out = peers != nullptr ? *peers : ctx.OutNeighbours();
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

  if (peers != nullptr) {
    ctx.BeginExchangeWith(tick, *peers);
  } else {
    ctx.BeginExchange(tick);
  }
  const auto arrived = [&](proto::NodeId id) {
    auto it = peers_.find(id);
    return it != peers_.end() && it->second.heard && it->second.tick >= tick &&
           (!also_done || also_done(id));
  };
  const auto take = [&] {
    Absorb(ctx);
    if (on_poll) on_poll();
  };
  while (!ctx.PollExchange(/*block=*/true, arrived)) take();
  take();
}

void PublicCopies::Consensus(const std::vector<std::pair<proto::NodeId, double>>& row,
                             double gamma, Eigen::VectorXf* x) const {
  for (const auto& [id, w] : row) {
    auto it = peers_.find(id);
    if (it == peers_.end() || !it->second.exact) continue;
    *x += static_cast<float>(gamma * w) * (it->second.hat - self_hat_);
  }
}

std::optional<PublicCopies::Copy> PublicCopies::CopyOf(proto::NodeId id) const {
  auto it = peers_.find(id);
  if (it == peers_.end() || !it->second.exact || !it->second.heard) return std::nullopt;
  return Copy{&it->second.hat, it->second.tick};
}

void PublicCopies::ForgetAll() {
  peers_.clear();
  synced_out_.clear();
  fresh_ = false;  // nobody holds our x̂ under the new id
}

void PublicCopies::ForgetPeer(proto::NodeId id) {
  peers_.erase(id);
  synced_out_.erase(id);
}

// Full-precision x̂ to every neighbour that needs one (the network counts the bytes).
void PublicCopies::SendSnapshots(AlgorithmContext& ctx) {
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

PublicCopies::Peer& PublicCopies::PeerOf(proto::NodeId id) {
  auto [it, inserted] = peers_.try_emplace(id);
  if (inserted) {
    // A neighbour we never heard from holds our common starting point if we both
    // started fresh; the hash check of its first update tells if not.
    it->second.hat = start_;
    it->second.exact = fresh_;
  }
  return it->second;
}

void PublicCopies::Request(AlgorithmContext& ctx, proto::NodeId id, Peer& p) {
  if (p.requested_at && tick_ < *p.requested_at + kRequestEvery) return;
  p.requested_at = tick_;
  proto::ModelPayload ask;
  ask.purpose = proto::ModelPurpose::kPublicCopy;  // no values: "send me yours"
  ask.round = tick_;
  const proto::NodeId to[] = {id};
  ctx.Send(Channel::kCompressedGossip, to, std::move(ask));
}

void PublicCopies::Absorb(AlgorithmContext& ctx) {
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
      Request(ctx, m.from, peer);
      continue;
    }
    const Status st = Apply(p, &peer.hat);
    if (!st.ok()) {
      ++rejected_;
      spdlog::warn("rejected compressed update from node {} (tick {}): {}", m.from, p.round,
                   st.message());
      peer.exact = false;
      Request(ctx, m.from, peer);
    }
  }
  SendSnapshots(ctx);
}

// x̂_j += C(q_j), then the sender's hash of x̂_j must match; on any error `hat` is not
// exact any more (the caller re-seeds it).
Status PublicCopies::Apply(const proto::ModelPayload& p, Eigen::VectorXf* hat) {
  GV_RETURN_IF_ERROR(DecodePayload(p, sizes_, &decoded_));
  if (decoded_.size() != hat->size()) return Status::Invalid("the update has another size");
  *hat += decoded_;
  if (proto::ContentHash(SpanOf(*hat)) != p.content_hash) {
    return Status::Invalid("public copy out of step (hash differs after the update)");
  }
  return Status::Ok();
}

}  // namespace grapevine::agent::algorithms
