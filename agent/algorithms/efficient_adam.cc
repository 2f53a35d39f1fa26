// efficient-adam — the two-way Efficient-Adam (Chen, Shen, Liu, Luo, IEEE TSP 2023;
// ALGORITHMS.md §5): inside each group of the topology (group_view.h) the leader
// plays the paper's server. Every optimizer step:
//   1. every member (the leader too) takes a local step from the group model x (Adam
//      with its own moments, or the agent's optimizer), u = x' − x, and x goes back;
//   2. it compresses v = u + e_w (worker error feedback): q = Q(v), e_w = v − C(q), and
//      sends q to the leader;
//   3. the leader averages the C(q) that arrived within the adaptive deadline; when
//      other groups exist it gossips x + avg with their leaders by CHOCO (public copies
//      on the leader graph, public_copies.h) and adds the consensus correction
//      γ Σ w (x̂_j − x̂_i); then s = avg (+ correction) + e_s (server error feedback),
//      Δ = C(Q(s)), e_s = s − Δ, and Q(s) goes to every member;
//   4. every member applies x += Δ: the whole group holds one model, bit for bit.
// Only compressed steps travel, both ways; Adam's moments never leave the agent.
//
// Exactness: a leader update carries the hash of the group model after it; a member
// whose model differs (it missed one, or joined) asks for the group model and the
// leader sends it in full precision, as it does to every member it has not addressed
// yet (a new leader: to all). A member keeps applying the leader's steps in order even
// when one comes after its wait ended, so a slow leader costs time, not agreement.
//
// Leaders: the lowest live id of the group that the topology file names, so a leader
// that dies is replaced by the next one as soon as the membership marks it dead; the
// new leader starts with no server error and re-seeds its group. A joiner has no file:
// it follows whichever leader sends it the group model, and trains alone until one
// does. A group without a leader (only joiners left) trains alone.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>

#include "agent/algorithms/choco_gamma.h"
#include "agent/algorithms/group_view.h"
#include "agent/algorithms/plugins.h"
#include "agent/algorithms/public_copies.h"
#include "agent/algorithms/shared.h"
#include "learn/trainer.h"
#include "proto/hash.h"

namespace grapevine::agent::algorithms {

namespace {

// Ticks between two requests for the group model.
constexpr uint64_t kGroupRequestEvery = 20;
// A leader keeps members' steps for at most this many ticks ahead of its own.
constexpr uint64_t kAheadTicks = 64;

std::string CheckCompress(const std::string& value) {
  const std::string why = CheckCodecOption(value);
  if (!why.empty()) return why;
  if (merge::ParseCodec(value)->kind == merge::CodecKind::kNone) {
    return "efficient-adam compresses both ways: one of q8|q4|sign|topk:F|randk:F (the "
           "uncompressed baseline is --algo dpsgd --optimizer adam)";
  }
  return "";
}

constexpr std::array<OptionSpec, 2> kEfficientAdamOptions = {{
    {"compress", "codec of the members' steps, the leader's step and the leaders' gossip",
     "q4", "CODEC", CheckCompress},
    kChocoGammaOption,
}};

class EfficientAdam : public Algorithm {
 public:
  explicit EfficientAdam(const OptionValues& o)
      : codec_(*merge::ParseCodec(o.String("compress"))),
        copies_(codec_),
        gamma_option_(o.Double("choco-gamma")) {}

  void Start(AlgorithmContext& ctx, const proto::ModelPayload* initial) override {
    copies_.Start(ctx, initial);
    sizes_ = copies_.tensor_sizes();
    worker_seed_ = copies_.seed() ^ 0x5bd1e995u;
    server_seed_ = copies_.seed() ^ 0x27d4eb2fu;
    named_ = ctx.TopologyGroups();
    e_w_ = Eigen::VectorXf::Zero(ctx.trainer().params().size());
    e_s_ = Eigen::VectorXf::Zero(e_w_.size());
    // Every fresh agent of a shared start holds the group model already.
    fresh_ = ctx.shared_init() && initial == nullptr && named_.has_value();
    in_sync_ = fresh_;
    Refresh(ctx);
    const learn::TrainerOptions& t = ctx.trainer().options();
    std::string role;
    if (!named_) {
      role = "joined: following the leader that sends us the group model";
    } else {
      role = fmt::format("{} group(s); ", view_.group_count());
      role += leader_ == ctx.self()
                  ? fmt::format("leading {} other member(s)", view_.Followers(ctx.self()).size())
              : leader_ ? fmt::format("node {} leads", *leader_)
                        : std::string("no leader: training alone");
    }
    spdlog::info("efficient-adam: codec {} both ways, optimizer {} lr {:g}; {}",
                 codec_.ToString(), learn::OptimizerKindName(t.optimizer.kind),
                 t.learning_rate, role);
  }

  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    learn::Trainer& t = ctx.trainer();
    double loss = 0;
    int done = 0;
    for (; done < steps && !ctx.stopping(); ++done) {
      tick_ = round * static_cast<uint64_t>(steps) + static_cast<uint64_t>(done);
      Refresh(ctx);
      if (!leader_) {  // nobody to agree with: a plain local step
        loss += t.Step();
        TakeAll(ctx);
        continue;
      }
      // A member counts in its leader's ticks (the leader's last step + 1): a joiner's
      // or a restarted agent's own round counter is not the group's.
      if (*leader_ == ctx.self()) {
        step_tick_ = tick_;
      } else {
        step_tick_ = heard_ ? *heard_ + 1 : tick_;
        if (sent_tick_) step_tick_ = std::max(step_tick_, *sent_tick_ + 1);  // never twice
        sent_tick_ = step_tick_;
      }
      x_ = t.params();
      loss += t.Step();
      v_ = t.params() - x_ + e_w_;
      t.mutable_params() = x_;  // x moves only by the group's steps
      std::vector<uint8_t> q =
          EncodeAndReadBack(codec_, SpanOf(v_), sizes_, worker_seed_, step_tick_, &c_);
      e_w_ = v_ - c_;
      if (*leader_ == ctx.self()) {
        Lead(ctx);
      } else {
        Follow(ctx, std::move(q));
      }
      ctx.MarkMerged({});
    }
    ctx.PublishForStatus(tick_);
    return MeanLoss(loss, done, round);
  }

  // After our last round: members may still ask for the group model.
  void Serve(AlgorithmContext& ctx) override {
    TakeAll(ctx);
    if (leader_ != ctx.self()) return;
    std::vector<proto::NodeId> owed;
    for (proto::NodeId id : followers_) {
      auto it = synced_.find(id);
      if (it != synced_.end() && !it->second) owed.push_back(id);
    }
    SendModel(ctx, owed);
  }

  void OnNewIdentity(const std::vector<proto::NodeId>&, proto::NodeId) override {
    copies_.ForgetAll();
    synced_.clear();
    acc_.clear();
    in_sync_ = false;
    adopted_.reset();
  }
  void OnPeerReplaced(proto::NodeId id) override {
    copies_.ForgetPeer(id);
    synced_.erase(id);
    if (adopted_ == id) adopted_.reset();
  }

  std::vector<Metric> Metrics() const override {
    return {{"group_leader", leader_ ? static_cast<int64_t>(*leader_) : int64_t{-1}},
            {"group_members", static_cast<int64_t>(followers_.size() + 1)},
            {"consensus_gamma", gamma_},
            {"updates_late", static_cast<int64_t>(late_)},
            {"updates_rejected", static_cast<int64_t>(rejected_ + copies_.rejected())},
            {"resyncs", static_cast<int64_t>(resyncs_ + copies_.resyncs())}};
  }

 private:
  struct Accum {
    Eigen::VectorXf sum;
    std::set<proto::NodeId> from;
  };

  // The group view, our leader and the links we keep, from the membership view now.
  void Refresh(AlgorithmContext& ctx) {
    const proto::NodeId self = ctx.self();
    const std::vector<proto::MemberRecord> live = ctx.LiveMembers();
    std::optional<proto::NodeId> leader;
    if (named_) {
      view_ = GroupView::Compute(*named_, live, ctx.LiveEdges());
      leader = view_.LeaderOf(self);
    } else if (adopted_ && std::any_of(live.begin(), live.end(), [&](const auto& r) {
                 return r.id == *adopted_;
               })) {
      leader = adopted_;
    }
    if (leader != leader_) {
      if (leader_ && leader == self) {  // a new leader: no server error, snapshots to all
        spdlog::info("efficient-adam: leading the group now (node {} did)", *leader_);
        e_s_.setZero();
        fresh_ = false;
      } else if (leader_ && leader) {
        spdlog::info("efficient-adam: node {} leads the group now (node {} did)", *leader,
                     *leader_);
      } else if (leader_) {
        spdlog::info("efficient-adam: no leader left (node {} led): training alone", *leader_);
      }
      synced_.clear();
      acc_.clear();
      collected_.reset();
      heard_.reset();  // the new leader's clock is not the old one's
      sent_tick_.reset();
      leader_ = leader;
    }
    followers_ = leader_ == self ? view_.Followers(self) : std::vector<proto::NodeId>{};
    row_ = leader_ == self ? view_.LeaderRow(self) : decltype(row_){};
    std::vector<proto::NodeId> links = followers_;
    for (const auto& [id, w] : row_) links.push_back(id);
    if (leader_ && *leader_ != self) links.push_back(*leader_);
    ctx.LinkTo(links);
    if (!row_.empty() && view_.leader_edges() != tuned_for_) TuneGamma(ctx);
  }

  void TuneGamma(AlgorithmContext& ctx) {
    tuned_for_ = view_.leader_edges();
    if (gamma_option_ > 0) {
      gamma_ = gamma_option_;
      return;
    }
    const GammaTuning tuned = TuneChocoGamma(tuned_for_, ctx.self(), codec_, /*seed=*/1);
    gamma_ = tuned.gamma;
    spdlog::info("efficient-adam: leaders' consensus step gamma {:.4g} (tuned: {} leaders, "
                 "error {:.3g}; --choco-gamma overrides)",
                 gamma_, tuned.nodes, tuned.error);
  }

  // The leader's half of a step: collect, average, gossip with the other leaders,
  // compress with server error feedback, send, apply.
  void Lead(AlgorithmContext& ctx) {
    learn::Trainer& t = ctx.trainer();
    Accum& acc = acc_[tick_];
    if (acc.sum.size() == 0) acc.sum = Eigen::VectorXf::Zero(c_.size());
    acc.sum += c_;
    acc.from.insert(ctx.self());
    ctx.BeginExchangeWith(tick_, followers_);
    const auto arrived = [&](proto::NodeId id) { return acc.from.count(id) > 0; };
    while (!ctx.PollExchange(/*block=*/true, arrived)) TakeAll(ctx);
    TakeAll(ctx);
    s_ = acc.sum / static_cast<float>(acc.from.size());
    collected_ = tick_;  // a member's step of this tick that comes now is late
    acc_.erase(acc_.begin(), acc_.upper_bound(tick_));
    if (!row_.empty()) {
      std::vector<proto::NodeId> peers;
      for (const auto& [id, w] : row_) peers.push_back(id);
      t.mutable_params() = x_ + s_;  // what we would hold without the other groups
      copies_.GossipWith(ctx, tick_, peers, [&] { TakeGroup(ctx); });
      c_.setZero();
      copies_.Consensus(row_, gamma_, &c_);
      s_ += c_;
    }
    s_ += e_s_;
    std::vector<uint8_t> q = EncodeAndReadBack(codec_, SpanOf(s_), sizes_, server_seed_, tick_, &c_);
    e_s_ = s_ - c_;
    t.mutable_params() = x_;
    t.mutable_params() += c_;  // the same operation every member does
    SendStep(ctx, std::move(q));
  }

  void SendStep(AlgorithmContext& ctx, std::vector<uint8_t> q) {
    const Eigen::VectorXf& x = ctx.trainer().params();
    std::vector<proto::NodeId> step_to, model_to;
    for (proto::NodeId id : followers_) {
      auto it = synced_.find(id);
      // A member we never addressed holds the shared start if we led from it.
      const bool holds = it != synced_.end() ? it->second : fresh_ && named_->count(id) > 0;
      (holds ? step_to : model_to).push_back(id);
    }
    if (!step_to.empty()) {
      proto::ModelPayload step = CompressedPayload(proto::ModelPurpose::kLeaderUpdate, tick_,
                                                   codec_, server_seed_, std::move(q));
      step.content_hash = proto::ContentHash(SpanOf(x));
      for (proto::NodeId id : step_to) synced_[id] = false;
      for (proto::NodeId id : ctx.Send(Channel::kGroupUpdate, step_to, std::move(step))) {
        synced_[id] = true;
      }
    }
    SendModel(ctx, model_to);
  }

  // The group model in full precision to `to` (they are in step afterwards).
  void SendModel(AlgorithmContext& ctx, const std::vector<proto::NodeId>& to) {
    if (to.empty()) return;
    const Eigen::VectorXf& x = ctx.trainer().params();
    proto::ModelPayload model;
    model.purpose = proto::ModelPurpose::kGroupModel;
    model.round = tick_;
    model.values.assign(x.data(), x.data() + x.size());
    for (proto::NodeId id : to) synced_[id] = false;
    for (proto::NodeId id : ctx.Send(Channel::kGroupUpdate, to, std::move(model))) {
      synced_[id] = true;
    }
  }

  // A member's half: send our compressed step, wait for the leader's.
  void Follow(AlgorithmContext& ctx, std::vector<uint8_t> q) {
    const proto::NodeId leader = *leader_;
    const proto::NodeId to[] = {leader};
    ctx.Send(Channel::kGroupUpdate, to,
             CompressedPayload(proto::ModelPurpose::kWorkerUpdate, step_tick_, codec_,
                               worker_seed_, std::move(q)));
    if (!in_sync_) Request(ctx, leader);
    ctx.BeginExchangeWith(step_tick_, {leader});
    const auto arrived = [&](proto::NodeId) { return heard_ && *heard_ >= step_tick_; };
    while (!ctx.PollExchange(/*block=*/true, arrived)) TakeAll(ctx);
    TakeAll(ctx);
  }

  void Request(AlgorithmContext& ctx, proto::NodeId leader) {
    if (requested_at_ && tick_ < *requested_at_ + kGroupRequestEvery) return;
    requested_at_ = tick_;
    proto::ModelPayload ask;
    ask.purpose = proto::ModelPurpose::kGroupModel;  // no values: "send me the group model"
    ask.round = tick_;
    const proto::NodeId to[] = {leader};
    ctx.Send(Channel::kGroupUpdate, to, std::move(ask));
  }

  void TakeAll(AlgorithmContext& ctx) {
    copies_.Absorb(ctx);
    TakeGroup(ctx);
  }

  void TakeGroup(AlgorithmContext& ctx) {
    for (const ChannelMessage& m : ctx.Take(Channel::kGroupUpdate)) {
      const proto::ModelPayload& p = *m.model;
      switch (p.purpose) {
        case proto::ModelPurpose::kWorkerUpdate:
          OnWorkerUpdate(ctx, m.from, p);
          break;
        case proto::ModelPurpose::kLeaderUpdate:
          OnLeaderUpdate(ctx, m.from, p);
          break;
        case proto::ModelPurpose::kGroupModel:
          if (p.values.empty()) {
            // A member asks for the group model: it gets it with our next step.
            if (leader_ == ctx.self()) synced_[m.from] = false;
          } else {
            OnGroupModel(ctx, m.from, p);
          }
          break;
        default:
          break;
      }
    }
  }

  void OnWorkerUpdate(AlgorithmContext& ctx, proto::NodeId from, const proto::ModelPayload& p) {
    if (leader_ != ctx.self()) return;  // it thinks we lead; the membership will agree
    // Late (that tick is averaged already), or too far ahead to keep for later.
    if ((collected_ && p.round <= *collected_) || p.round > tick_ + kAheadTicks) {
      ++late_;
      return;
    }
    const Status st = DecodePayload(p, sizes_, &scratch_);
    if (!st.ok()) {
      ++rejected_;
      spdlog::warn("rejected member step from node {} (tick {}): {}", from, p.round, st.message());
      return;
    }
    Accum& acc = acc_[p.round];
    if (!acc.from.insert(from).second) return;  // one step per member and tick
    if (acc.sum.size() == 0) acc.sum = Eigen::VectorXf::Zero(scratch_.size());
    acc.sum += scratch_;
  }

  void OnLeaderUpdate(AlgorithmContext& ctx, proto::NodeId from, const proto::ModelPayload& p) {
    if (leader_ != from) return;
    Heard(p.round);
    if (!in_sync_) return;  // asked for the group model; it comes before what follows
    Status st = DecodePayload(p, sizes_, &scratch_);
    Eigen::VectorXf& x = ctx.trainer().mutable_params();
    if (st.ok()) {
      x += scratch_;
      if (proto::ContentHash(SpanOf(x)) != p.content_hash) {
        st = Status::Invalid("group model out of step (hash differs after the leader's step)");
      }
    }
    if (!st.ok()) {
      ++rejected_;
      spdlog::warn("rejected leader step from node {} (tick {}): {}", from, p.round,
                   st.message());
      in_sync_ = false;
      requested_at_.reset();
    }
  }

  void Heard(uint64_t round) { heard_ = heard_ ? std::max(*heard_, round) : round; }

  void OnGroupModel(AlgorithmContext& ctx, proto::NodeId from, const proto::ModelPayload& p) {
    if (named_ && leader_ != from) return;  // not our leader's
    if (!named_ && adopted_ != from) {
      spdlog::info("efficient-adam: following node {} (it sent us its group model)", from);
      adopted_ = from;
      leader_ = from;
    }
    ctx.trainer().mutable_params() = Eigen::Map<const Eigen::VectorXf>(
        p.values.data(), static_cast<Eigen::Index>(p.values.size()));
    Heard(p.round);
    in_sync_ = true;
    requested_at_.reset();
    ++resyncs_;
  }

  merge::CodecSpec codec_;
  PublicCopies copies_;
  double gamma_option_;
  double gamma_ = 1.0;
  std::vector<size_t> sizes_;
  uint64_t worker_seed_ = 0, server_seed_ = 0;
  std::optional<std::map<proto::NodeId, std::string>> named_;
  GroupView view_;
  std::optional<proto::NodeId> leader_, adopted_;
  std::vector<proto::NodeId> followers_;
  std::vector<std::pair<proto::NodeId, double>> row_;
  std::vector<proto::Edge> tuned_for_;
  bool fresh_ = false, in_sync_ = false;
  std::optional<uint64_t> heard_;  // a member: the newest tick its leader sent
  std::optional<uint64_t> requested_at_;
  std::map<proto::NodeId, bool> synced_;  // leader: members that hold the group model
  std::map<uint64_t, Accum> acc_;         // leader: members' steps by tick
  Eigen::VectorXf x_, v_, c_, s_, e_w_, e_s_, scratch_;
  uint64_t tick_ = 0;       // our own: round · steps + step
  uint64_t step_tick_ = 0;  // the tick of this step's messages (a member: its leader's)
  std::optional<uint64_t> sent_tick_;  // a member: the last tick it sent a step of
  std::optional<uint64_t> collected_;  // leader: the last tick whose steps were averaged
  uint64_t late_ = 0, rejected_ = 0, resyncs_ = 0;
};

}  // namespace

std::span<const OptionSpec> EfficientAdamOptions() { return kEfficientAdamOptions; }

std::unique_ptr<Algorithm> MakeEfficientAdam(const OptionValues& options) {
  return std::make_unique<EfficientAdam>(options);
}

}  // namespace grapevine::agent::algorithms
