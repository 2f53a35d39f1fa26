// Algorithm: one decentralized training algorithm (`--algo`) as the training thread
// runs it, and AlgorithmContext: everything the Node offers it. The Node owns one
// Algorithm, made by its registry row's factory (registry.h), and calls Start once,
// then RunRound once per round; evaluation, metrics and the round loop stay in the
// Node. A plug-in owns all of its own state (DIMAT's probe and frame, CGA's
// cross-gradients, SGP's push-sum weight); the Node keeps none of it.
//
// Exchanges are identified by a "tick": the round for round algorithms, the global
// step index for per-step ones, an exchange counter for lasgd; models carry it in
// their `round` field and staleness is counted in ticks.
//
// Thread-safety: both classes are used on the training thread only.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "agent/algorithms/channel.h"
#include "agent/algorithms/registry.h"
#include "base/status.h"
#include "proto/messages.h"

namespace grapevine::learn {
class Trainer;
}  // namespace grapevine::learn

namespace grapevine::agent::algorithms {

// A neighbour's model that arrived for an exchange, validated, with its w_ij.
struct ArrivedModel {
  std::shared_ptr<const proto::ModelPayload> model;
  double weight = 0.0;
  Eigen::Map<const Eigen::VectorXf> params() const {
    return {model->values.data(), static_cast<Eigen::Index>(model->values.size())};
  }
};

// One extra field of the round's metrics line (dimat's frame, cga's answers, ...).
struct Metric {
  std::string name;
  std::variant<int64_t, double> value;
};

// What the Node offers a plug-in. Implemented by the Node (agent/node*.cc) and by
// the fake of tests/agent/algorithms.
class AlgorithmContext {
 public:
  // Per neighbour: an extra condition the exchange waits for (cga: its answer came).
  using NeighbourDone = std::function<bool(proto::NodeId)>;

  explicit AlgorithmContext(OptimizerPolicy policy = OptimizerPolicy::kKeep) : policy_(policy) {}
  virtual ~AlgorithmContext() = default;

  // ---- the agent ----
  virtual learn::Trainer& trainer() = 0;
  virtual bool stopping() const = 0;
  // Our node id now (it changes after a lost join race; see Algorithm::OnNewIdentity).
  virtual proto::NodeId self() const = 0;
  // A seed for this agent's own random choices (--seed and the shard index).
  virtual uint64_t seed() const = 0;
  // --init resolved: one shared initial model (true) or per-node seeds.
  virtual bool shared_init() const = 0;

  // ---- publishing ----
  // Sends the current parameters, tagged with `tick` and stamped by the algorithm
  // (Algorithm::Stamp), on `channel` (kModelGossip or kCrossGradientRequest) to every
  // live out-neighbour, and keeps them as the model joiners and status readers get.
  virtual void Publish(uint64_t tick, Channel channel) = 0;
  // Keeps the current parameters as that model without sending them (sgp: the
  // de-biased z, while the shares travel on their own channel).
  virtual void PublishForStatus(uint64_t tick) = 0;

  // ---- the exchange of kModelGossip models, within the adaptive deadline ----
  // Starts waiting for the live in-neighbours' models of `tick` (one exchange at a time).
  virtual void BeginExchange(uint64_t tick) = 0;
  // Takes what arrived; blocks at most a short slice when `block`, waking early when a
  // message of another declared channel arrives (take it, then poll again). Returns the
  // models once every live in-neighbour delivered `tick` (or newer) and
  // `also_done(id)` holds for it (when given), or when the deadline passed (--sync: up
  // to a minute); nullopt while still waiting. An algorithm without kModelGossip waits
  // only for `also_done` and always gets an empty list.
  virtual std::optional<std::vector<ArrivedModel>> PollExchange(bool block,
                                                                const NeighbourDone& also_done) = 0;
  // The same wait for `peers` instead of the in-neighbours: any members, neighbours or
  // not (efficient-adam: a leader waits for its group, a member for its leader). The
  // live ones among them are waited for, each until `also_done(id)` holds; MixingRow()
  // lists them with weight 0 while it is open.
  virtual void BeginExchangeWith(uint64_t tick, std::vector<proto::NodeId> peers) = 0;
  // The last exchange's mixing row: its live in-neighbours with their w_ij, and w_ii
  // (1 − the neighbours' weights).
  virtual std::vector<std::pair<proto::NodeId, double>> MixingRow() const = 0;
  virtual double SelfWeight() const = 0;
  // --staleness: a neighbour's message older than this many ticks is not merged.
  virtual uint64_t staleness() const = 0;
  // --rounds: the rounds this agent runs (daso: when its cool-down starts); nullopt
  // when the length is not known.
  virtual std::optional<uint64_t> total_rounds() const { return std::nullopt; }

  // ---- neighbours (directed topologies: out = we send to, in = we receive from;
  // undirected: both are the live neighbours) ----
  virtual std::vector<proto::NodeId> OutNeighbours() const = 0;
  virtual std::vector<proto::NodeId> InNeighbours() const = 0;
  // The live graph as this agent's membership sees it (undirected edges), e.g. to tune
  // a step size on the real mixing matrix (choco).
  virtual std::vector<proto::Edge> LiveEdges() const = 0;
  // Every live member (alive or suspect) of the membership view, ourselves included,
  // with its incarnation (a restarted agent comes back with a higher one).
  virtual std::vector<proto::MemberRecord> LiveMembers() const = 0;
  // The topology file's node attribute `group` of every node the file names ("" for a
  // node without one); nullopt for a joiner, which has no file.
  virtual std::optional<std::map<proto::NodeId, std::string>> TopologyGroups() const = 0;
  // Keeps links open to these members besides the neighbours (the network dials them
  // and redials after a failure), so an open-link channel (channel.h NeedsOpenLink) may
  // send to them too. Replaces the previous set; cheap when it did not change.
  virtual void LinkTo(std::vector<proto::NodeId> peers) = 0;

  // ---- the other channels ----
  // Sends `body` on `channel` to each of `to`. A ModelPayload is completed by the
  // context (origin, version, samples, fingerprint, loss, purpose, content hash; the
  // caller sets values, round and channel fields such as push_weight); a CrossGradient
  // gets its content hash. Returns the ids it was handed to: the members among `to`,
  // and for a channel that keeps every message (kPushShare: a lost share loses mass)
  // only live neighbours with an open connection at send time. Not sent to the others.
  virtual std::vector<proto::NodeId> Send(Channel channel, std::span<const proto::NodeId> to,
                                          proto::Body body) = 0;
  // Takes every validated message of `channel` that arrived since the last call
  // (invalid ones were dropped, counted and logged). REQUIRES: channel != kModelGossip.
  virtual std::vector<ChannelMessage> Take(Channel channel) = 0;

  // Records that these models were merged (counters, per-neighbour versions), then
  // applies the registry row's optimizer policy: kReset resets the optimizer state.
  // `models` may be empty for an algorithm that merges what is not a model (sgp).
  void MarkMerged(const std::vector<ArrivedModel>& models);

  // BeginExchange + PollUntilDone.
  std::vector<ArrivedModel> Exchange(uint64_t tick);
  // Blocking polls of the open exchange until it is done (or stopping).
  std::vector<ArrivedModel> PollUntilDone();

 protected:
  virtual void RecordMerged(const std::vector<ArrivedModel>& models) = 0;
  // For an implementation that learns the running algorithm after construction.
  void set_optimizer_policy(OptimizerPolicy policy) { policy_ = policy; }

 private:
  OptimizerPolicy policy_;
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  // Once, before the first round. `initial` is the state-transfer model a joiner
  // started from (already in the trainer), or null.
  virtual void Start(AlgorithmContext& ctx, const proto::ModelPayload* initial);
  // Runs round `round` (E = steps optimizer steps); returns the mean training loss.
  virtual Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) = 0;
  // The channels this instance uses: its registry row's, or fewer when its options
  // decide (dpsgd and cga with --compress gossip public copies on kCompressedGossip
  // instead of models on kModelGossip). Asked once, right after the factory.
  virtual ChannelSet Channels(ChannelSet row) const { return row; }
  // Fields this algorithm adds to every model the context publishes (dimat: frame).
  virtual void Stamp(proto::ModelPayload* model) const;
  // While the agent lingers after its last round: answer what the neighbours still
  // ask of us (cga). Takes every declared channel but kModelGossip.
  virtual void Serve(AlgorithmContext& ctx);
  // Our id changed: lost ids `lost`, now `now`. Per-neighbour state is stale.
  virtual void OnNewIdentity(const std::vector<proto::NodeId>& lost, proto::NodeId now);
  // `id` now names another agent (join race): forget what came from it.
  virtual void OnPeerReplaced(proto::NodeId id);
  // Extra fields of the round's metrics line.
  virtual std::vector<Metric> Metrics() const;
  // Checkpoints (agent/core/checkpoint.h): the plug-in's own state as an opaque blob,
  // written at a round's end; LoadState gets it back after Start() on resume. Carry
  // state: dimat/wm (frame), sgp (numerator, push weight); the others keep none that
  // outlives a round. Invalid for a blob it cannot read.
  virtual std::vector<uint8_t> SaveState() const { return {}; }
  virtual Status LoadState(std::span<const uint8_t>) { return Status::Ok(); }
  // Bytes are counted by the network; this counts merges that failed and were skipped.
  uint64_t merge_failures() const { return merge_failures_; }

 protected:
  uint64_t merge_failures_ = 0;
};

}  // namespace grapevine::agent::algorithms
