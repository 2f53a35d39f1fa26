// daso — hierarchical, adaptive synchronisation (Coquelin et al. 2021; ALGORITHMS.md §6):
// two tiers from the topology's `group` attribute, a schedule from the loss
// (daso_schedule.h, after Heat's DASO).
//
//   local tier   the live neighbours in my group: every ls steps I send them my model
//                and wait (blocking, within the adaptive deadline) for theirs, then
//                average with Metropolis weights on the group's live edges;
//   global tier  the live neighbours in other groups: every gs steps (at ticks that are
//                multiples of gs, so neighbours with the same gs agree) I keep a snapshot
//                x_s and send it to them on the "global snapshot" channel, and keep
//                training. A neighbour's snapshot of tick τ is paired with my own
//                snapshot of the largest tick τ' ≤ τ and merged once it arrived and my
//                step is at least τ' + btw (τ' = τ when both keep the same pace), and
//                only when τ' is after my last merge from that neighbour (a pair taken
//                before it measures a gap that merge already closed):
//                  delta     x ← x + Σ_j w_j (y_j − x_s)  (keeps the local progress)
//                  faithful  x ← (2k·x + S) / (2k + P), S = x_s + Σ_j y_j, P = 1 + |j|,
//                            k = btw when x_s was taken (Heat's rule)
//                with w_j Metropolis on the live edges between groups.
//                Staleness bound, S = --daso-staleness + gs: a snapshot more than S
//                steps older than my step is dropped (counted), and an agent does not
//                run more than S steps past the newest snapshot of a live global
//                neighbour: it waits for a newer one, within the adaptive deadline
//                (--deadline-max-ms), so one group cannot race away from the others.
//   warm-up and cool-down rounds: a blocking average with every neighbour after every
//                step (D-PSGD on the whole live graph, the Node's Metropolis row).
//
// The plateau test gets the neighbourhood-averaged loss: the mean of my round's loss and
// the latest `train_loss` every live neighbour's models carried (one float on each model
// message, no global all-reduce).
//
// Without groups in the file every named node is in one group: the local tier is every
// neighbour and there is no global tier (D-PSGD every ls steps after the warm-up). A
// joiner is named by no file: every agent puts it in the global tier, and it puts every
// neighbour there.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "agent/algorithms/daso_schedule.h"
#include "agent/algorithms/plugins.h"
#include "agent/algorithms/shared.h"
#include "base/bytes.h"
#include "learn/trainer.h"
#include "topology/mixing.h"

namespace grapevine::agent::algorithms {

namespace {

// Own snapshots kept for pairing with the neighbours' (the newest ones).
constexpr size_t kMaxOwnSnapshots = 16;

std::string CheckMerge(const std::string& value) { return OneOf(value, {"delta", "faithful"}); }

constexpr std::array<OptionSpec, 7> kDasoOptions = {{
    {"daso-warmup", "rounds at the start with a blocking average after every step", "4", "INT",
     NonNegativeInteger},
    {"daso-cooldown", "rounds at the end with a blocking average after every step", "4", "INT",
     NonNegativeInteger},
    {"daso-gs",
     "steps between snapshots to the other groups when cycling starts (halved on a loss "
     "plateau; at 1 reset to twice this)",
     "4", "INT", PositiveInteger},
    {"daso-ls", "steps between blocking averages inside the group when cycling starts", "1",
     "INT", PositiveInteger},
    {"daso-btw", "steps a snapshot waits at least, after it was sent, before it is merged", "1",
     "INT", PositiveInteger},
    {"daso-merge",
     "global-tier merge: delta (x += mix(snapshots) - own snapshot) or faithful ((2k x + S) / "
     "(2k + P), Heat's)",
     "delta", "TEXT", CheckMerge},
    {"daso-staleness",
     "steps (beyond gs) a global neighbour's snapshot may lag: older ones are dropped, and "
     "an agent that far ahead waits for a newer one",
     "64", "INT", PositiveInteger},
}};

// The two tiers of this agent now, with their weights.
struct Tiers {
  std::vector<std::pair<proto::NodeId, double>> local, global;
  bool grouped = false;  // the file has groups
};

class Daso : public Algorithm {
 public:
  explicit Daso(const OptionValues& o)
      : settings_{static_cast<int>(o.Int("daso-warmup")), static_cast<int>(o.Int("daso-cooldown")),
                  static_cast<int>(o.Int("daso-gs")), static_cast<int>(o.Int("daso-ls")),
                  static_cast<int>(o.Int("daso-btw"))},
        faithful_(o.String("daso-merge") == "faithful"),
        staleness_(static_cast<uint64_t>(o.Int("daso-staleness"))),
        schedule_(settings_, std::nullopt) {}

  void Start(AlgorithmContext& ctx, const proto::ModelPayload* initial) override {
    Algorithm::Start(ctx, initial);
    named_ = ctx.TopologyGroups();
    schedule_ = DasoSchedule(settings_, ctx.total_rounds());
    const Tiers tiers = ComputeTiers(ctx);
    std::string where;
    if (!named_) {
      where = "joined (no topology file): every neighbour is in the global tier";
    } else if (!tiers.grouped) {
      where = "no groups in the topology: one group, every neighbour in the local tier, no "
              "global tier";
    } else {
      where = fmt::format("group {}: {} neighbour(s) in the local tier, {} in the global tier",
                          named_->count(ctx.self()) ? named_->at(ctx.self()) : "?",
                          tiers.local.size(), tiers.global.size());
    }
    spdlog::info("daso: {}; warm-up {} round(s), cool-down {}, start (gs, ls, btw) = ({}, {}, "
                 "{}), merge {}, staleness {} steps",
                 where, settings_.warmup, settings_.cooldown, settings_.gs, settings_.ls,
                 settings_.btw, faithful_ ? "faithful" : "delta", staleness_);
  }

  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    if (schedule_.BeginRound(round)) {
      spdlog::info("daso: round {}: {}", round, schedule_.Describe());
      if (schedule_.blocking()) DropGlobalState();
    }
    learn::Trainer& t = ctx.trainer();
    double loss = 0;
    int done = 0;
    uint64_t tick = 0;
    for (; done < steps && !ctx.stopping(); ++done) {
      tick = round * static_cast<uint64_t>(steps) + static_cast<uint64_t>(done);
      loss += t.Step();
      const Tiers tiers = ComputeTiers(ctx);
      TakeSnapshots(ctx, tick);
      if (schedule_.blocking()) {
        ctx.Publish(tick, Channel::kModelGossip);
        ctx.BeginExchange(tick);
        auto models = AwaitExchange(ctx, tick);
        HearLosses(models);
        Neighbours n(models);
        MixInPlace(n.weighted, &t.mutable_params());
        ctx.MarkMerged(models);
        ++blocking_exchanges_;
        continue;
      }
      if (!tiers.local.empty() && tick % static_cast<uint64_t>(schedule_.ls()) == 0) {
        LocalAverage(ctx, tick, tiers);
      }
      WaitForLaggards(ctx, tick, tiers);
      MergeDue(ctx, tick, tiers);
      if (!tiers.global.empty() && tick % static_cast<uint64_t>(schedule_.gs()) == 0) {
        SendSnapshot(ctx, tick, tiers);
      }
    }
    if (!schedule_.blocking()) ctx.PublishForStatus(tick);
    GV_ASSIGN_OR_RETURN(double mean, MeanLoss(loss, done, round));
    averaged_loss_ = NeighbourhoodLoss(ctx, mean);
    if (schedule_.EndRound(averaged_loss_)) {
      spdlog::info("daso: round {}: loss plateau (neighbourhood {:.4f}): {}", round,
                   averaged_loss_, schedule_.Describe());
    }
    return mean;
  }

  void OnNewIdentity(const std::vector<proto::NodeId>&, proto::NodeId) override {
    DropGlobalState();
    heard_loss_.clear();
  }
  void OnPeerReplaced(proto::NodeId id) override {
    pending_.erase(id);
    last_merge_.erase(id);
    newest_heard_.erase(id);
    heard_loss_.erase(id);
  }

  std::vector<Metric> Metrics() const override {
    return {{"daso_phase", static_cast<int64_t>(schedule_.phase())},
            {"daso_gs", static_cast<int64_t>(schedule_.gs())},
            {"daso_ls", static_cast<int64_t>(schedule_.ls())},
            {"daso_btw", static_cast<int64_t>(schedule_.btw())},
            {"daso_neighbourhood_loss", averaged_loss_},
            {"exchanges_blocking", static_cast<int64_t>(blocking_exchanges_)},
            {"exchanges_local_tier", static_cast<int64_t>(local_exchanges_)},
            {"snapshots_sent_global_tier", static_cast<int64_t>(snapshots_sent_)},
            {"merges_global_tier", static_cast<int64_t>(global_merges_)},
            {"snapshots_stale", static_cast<int64_t>(snapshots_stale_)},
            {"staleness_waits", static_cast<int64_t>(waits_)}};
  }

  // The schedule outlives a round: (gs, ls, btw), whether cycling began, the plateau
  // test's best loss and count.
  std::vector<uint8_t> SaveState() const override {
    const DasoSchedule::State s = schedule_.Save();
    ByteWriter w;
    for (int v : {s.gs, s.ls, s.btw, s.cycling_started ? 1 : 0, s.best ? 1 : 0, s.bad}) {
      w.U32(static_cast<uint32_t>(v));
    }
    w.F64(s.best.value_or(0.0));
    return w.Take();
  }
  Status LoadState(std::span<const uint8_t> in) override {
    ByteReader r(in);
    uint32_t v[6];
    for (uint32_t& x : v) x = r.U32();
    const double best = r.F64();
    if (!r.ok() || in.size() != 6 * 4 + 8) {
      return Status::Invalid("daso state must be 32 bytes, not " + std::to_string(in.size()));
    }
    for (int k : {0, 1, 2}) {
      if (v[k] < 1 || v[k] > (1u << 20)) return Status::Invalid("daso state: bad schedule value");
    }
    schedule_.Restore({static_cast<int>(v[0]), static_cast<int>(v[1]), static_cast<int>(v[2]),
                       v[3] != 0, v[4] != 0 ? std::optional<double>(best) : std::nullopt,
                       static_cast<int>(v[5])});
    return Status::Ok();
  }

 private:
  // My group in the file, nullopt for a joiner (or a node the file does not name).
  std::optional<std::string> GroupOf(proto::NodeId id) const {
    if (!named_) return std::nullopt;
    auto it = named_->find(id);
    if (it == named_->end()) return std::nullopt;
    return it->second;
  }

  Tiers ComputeTiers(AlgorithmContext& ctx) const {
    Tiers tiers;
    const proto::NodeId self = ctx.self();
    const std::optional<std::string> mine = GroupOf(self);
    tiers.grouped = named_ && std::any_of(named_->begin(), named_->end(),
                                          [](const auto& kv) { return !kv.second.empty(); });
    auto same = [&](proto::NodeId a, proto::NodeId b) {
      const auto ga = GroupOf(a), gb = GroupOf(b);
      return ga && gb && *ga == *gb;
    };
    // Degrees on the live graph, within a tier: d_local(n) counts n's neighbours in n's
    // group, d_global(n) those in other groups.
    std::map<proto::NodeId, size_t> d_local, d_global;
    for (const proto::Edge& e : ctx.LiveEdges()) {
      if (e.a == e.b) continue;
      auto& d = same(e.a, e.b) ? d_local : d_global;
      ++d[e.a];
      ++d[e.b];
    }
    for (proto::NodeId n : ctx.InNeighbours()) {
      if (n == self) continue;
      if (mine && same(self, n)) {
        tiers.local.emplace_back(n, topology::MetropolisWeight(d_local[self], d_local[n]));
      } else {
        tiers.global.emplace_back(n, topology::MetropolisWeight(d_global[self], d_global[n]));
      }
    }
    return tiers;
  }

  // Blocking: my model to the group, theirs back, Metropolis average on the group.
  void LocalAverage(AlgorithmContext& ctx, uint64_t tick, const Tiers& tiers) {
    learn::Trainer& t = ctx.trainer();
    std::vector<proto::NodeId> peers;
    for (const auto& [id, w] : tiers.local) peers.push_back(id);
    proto::ModelPayload m;
    m.round = tick;
    const Eigen::VectorXf& x = t.params();
    m.values.assign(x.data(), x.data() + x.size());
    ctx.Send(Channel::kModelGossip, peers, std::move(m));
    ctx.BeginExchangeWith(tick, peers);
    std::vector<ArrivedModel> models = AwaitExchange(ctx, tick);
    for (ArrivedModel& a : models) {
      for (const auto& [id, w] : tiers.local) {
        if (id == a.model->origin) a.weight = w;
      }
    }
    HearLosses(models);
    Neighbours n(models);
    MixInPlace(n.weighted, &t.mutable_params());
    ctx.MarkMerged(models);
    ++local_exchanges_;
  }

  void SendSnapshot(AlgorithmContext& ctx, uint64_t tick, const Tiers& tiers) {
    const Eigen::VectorXf& x = ctx.trainer().params();
    mine_[tick] = {x, schedule_.btw()};
    while (mine_.size() > kMaxOwnSnapshots) mine_.erase(mine_.begin());
    std::vector<proto::NodeId> peers;
    for (const auto& [id, w] : tiers.global) peers.push_back(id);
    proto::ModelPayload m;
    m.round = tick;
    m.values.assign(x.data(), x.data() + x.size());
    ctx.Send(Channel::kGlobalSnapshot, peers, std::move(m));
    ++snapshots_sent_;
  }

  // The open exchange's models. A snapshot that arrives meanwhile ends a blocking poll
  // early (the mailbox wakes us for every declared channel): take it, then poll again.
  std::vector<ArrivedModel> AwaitExchange(AlgorithmContext& ctx, uint64_t tick) {
    while (true) {
      if (auto models = ctx.PollExchange(/*block=*/true, {})) return std::move(*models);
      TakeSnapshots(ctx, tick);
    }
  }

  // Steps a snapshot may lag behind our tick: the option plus the gap between snapshots.
  uint64_t Bound() const { return staleness_ + static_cast<uint64_t>(schedule_.gs()); }

  // The global neighbours more than Bound() steps behind our tick (by their newest
  // snapshot; one first seen now counts from now).
  std::vector<proto::NodeId> Laggards(uint64_t tick, const Tiers& tiers) {
    std::vector<proto::NodeId> out;
    for (const auto& [id, w] : tiers.global) {
      const uint64_t heard = newest_heard_.try_emplace(id, tick).first->second;
      if (heard + Bound() < tick) out.push_back(id);
    }
    return out;
  }

  // The staleness bound: wait (blocking polls, until the adaptive deadline) for a newer
  // snapshot from every global neighbour that is too far behind.
  void WaitForLaggards(AlgorithmContext& ctx, uint64_t tick, const Tiers& tiers) {
    std::vector<proto::NodeId> behind = Laggards(tick, tiers);
    if (behind.empty()) return;
    ctx.BeginExchangeWith(tick, behind);
    while (!ctx.stopping()) {
      TakeSnapshots(ctx, tick);
      if (Laggards(tick, tiers).empty()) break;
      if (ctx.PollExchange(/*block=*/true, {})) break;  // the deadline passed
    }
    ++waits_;
    std::vector<proto::NodeId> still = Laggards(tick, tiers);
    for (proto::NodeId id : still) newest_heard_[id] = tick;  // waited once: move on
    if (!still.empty()) {
      spdlog::debug("daso: tick {}: no newer snapshot from {} global neighbour(s) by the "
                    "deadline",
                    tick, still.size());
    }
  }

  // Non-blocking: whatever snapshots arrived, newest per sender, stale ones dropped.
  void TakeSnapshots(AlgorithmContext& ctx, uint64_t tick) {
    for (ChannelMessage& msg : ctx.Take(Channel::kGlobalSnapshot)) {
      if (!msg.model) continue;
      heard_loss_[msg.from] = msg.model->train_loss;
      uint64_t& heard = newest_heard_[msg.from];
      heard = std::max(heard, msg.model->round);
      if (schedule_.blocking() || msg.model->round + Bound() < tick) {
        ++snapshots_stale_;
        continue;
      }
      auto& slot = pending_[msg.from];
      if (!slot || slot->round < msg.model->round) slot = msg.model;
    }
  }

  // Merges every pending snapshot whose btw steps have passed.
  void MergeDue(AlgorithmContext& ctx, uint64_t tick, const Tiers& tiers) {
    std::vector<ArrivedModel> due;
    const Eigen::VectorXf* own = nullptr;  // faithful: my snapshot in S
    uint64_t own_tick = 0;
    int k = 1;
    for (auto it = pending_.begin(); it != pending_.end();) {
      const auto& y = it->second;
      auto peer = std::find_if(tiers.global.begin(), tiers.global.end(),
                               [&](const auto& p) { return p.first == it->first; });
      if (peer == tiers.global.end() || y->round + Bound() < tick) {
        ++snapshots_stale_;  // no longer a global neighbour, or waited too long
        it = pending_.erase(it);
        continue;
      }
      auto pair = mine_.upper_bound(y->round);
      if (pair == mine_.begin()) {  // nothing of mine that old: cannot pair it
        ++snapshots_stale_;
        it = pending_.erase(it);
        continue;
      }
      --pair;
      // One correction per disagreement: a pair whose own snapshot predates our last
      // merge from this neighbour measures a gap that merge already closed; merging it
      // again overshoots (and, with several snapshots in flight, diverges).
      auto last = last_merge_.find(it->first);
      // (Our snapshot of the merge's own tick is taken after the merge: it counts.)
      if (last != last_merge_.end() && pair->first < last->second) {
        ++snapshots_stale_;
        it = pending_.erase(it);
        continue;
      }
      // btw counts from the exchange's tick, the paired snapshot of ours: a neighbour
      // that runs ahead (τ above our tick) is merged as soon as it arrives, not when we
      // catch up with its tick — by then a newer snapshot would have replaced it.
      if (tick < pair->first + static_cast<uint64_t>(schedule_.btw())) {
        ++it;
        continue;
      }
      if (faithful_) {
        // One own snapshot for S: the oldest one paired.
        if (!own || pair->first < own_tick) {
          own = &pair->second.x;
          own_tick = pair->first;
          k = pair->second.btw;
        }
        due.push_back({y, 0.0});
      } else {
        Eigen::VectorXf& x = ctx.trainer().mutable_params();
        Eigen::Map<const Eigen::VectorXf> v(y->values.data(),
                                            static_cast<Eigen::Index>(y->values.size()));
        x += static_cast<float>(peer->second) * (v - pair->second.x);
        due.push_back({y, peer->second});
      }
      last_merge_[it->first] = tick;
      it = pending_.erase(it);
    }
    if (due.empty()) return;
    if (faithful_) {
      Eigen::VectorXf s = *own;
      for (const ArrivedModel& a : due) s += a.params();
      const float two_k = 2.0f * static_cast<float>(std::max(1, k));
      const float p = static_cast<float>(1 + due.size());
      Eigen::VectorXf& x = ctx.trainer().mutable_params();
      x = (two_k * x + s) / (two_k + p);
    }
    ctx.MarkMerged(due);
    ++global_merges_;
  }

  void HearLosses(const std::vector<ArrivedModel>& models) {
    for (const ArrivedModel& a : models) heard_loss_[a.model->origin] = a.model->train_loss;
  }

  // Mean of my round's loss and the latest loss each live neighbour reported.
  double NeighbourhoodLoss(AlgorithmContext& ctx, double own) const {
    double sum = own;
    int n = 1;
    for (proto::NodeId id : ctx.InNeighbours()) {
      auto it = heard_loss_.find(id);
      if (it == heard_loss_.end() || !std::isfinite(it->second) || it->second <= 0) continue;
      sum += it->second;
      ++n;
    }
    return sum / n;
  }

  void DropGlobalState() {
    pending_.clear();
    mine_.clear();
    newest_heard_.clear();
    last_merge_.clear();
  }

  struct Snapshot {
    Eigen::VectorXf x;
    int btw = 1;
  };

  DasoSettings settings_;
  bool faithful_;
  uint64_t staleness_;
  DasoSchedule schedule_;
  std::optional<std::map<proto::NodeId, std::string>> named_;
  std::map<uint64_t, Snapshot> mine_;  // tick → my snapshot
  std::map<proto::NodeId, std::shared_ptr<const proto::ModelPayload>> pending_;
  std::map<proto::NodeId, float> heard_loss_;
  double averaged_loss_ = 0;
  uint64_t blocking_exchanges_ = 0, local_exchanges_ = 0, snapshots_sent_ = 0,
           global_merges_ = 0, snapshots_stale_ = 0, waits_ = 0;
  std::map<proto::NodeId, uint64_t> newest_heard_;  // newest snapshot tick per sender
  std::map<proto::NodeId, uint64_t> last_merge_;    // our tick of the last merge per sender
};

}  // namespace

std::span<const OptionSpec> DasoOptions() { return kDasoOptions; }

std::unique_ptr<Algorithm> MakeDaso(const OptionValues& options) {
  return std::make_unique<Daso>(options);
}

}  // namespace grapevine::agent::algorithms
