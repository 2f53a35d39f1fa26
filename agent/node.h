// Node: one grapevine agent — the composition root (DESIGN §2).
//
// Owns two threads and wires everything together:
//  - the network thread (agent/net Network): connections, membership
//    (agent/core Membership), joins, status requests, model reception. It never trains.
//  - the training thread: local steps (learn::Trainer), publishing its model to its
//    live neighbours, waiting for theirs within an adaptive deadline, merging, test
//    evaluation and the metrics file. It never blocks on I/O: it talks to the network
//    thread only through Network::Post and the Mailbox.
// The main thread calls Run(), which returns the process exit status.
//
// node.cc holds set-up and the network-thread side; node_training.cc the training
// thread.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <map>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <optional>
#include <string>
#include <vector>

#include "agent/algorithms/algorithm.h"
#include "agent/algorithms/registry.h"
#include "agent/core/checkpoint.h"
#include "agent/core/membership.h"
#include "agent/core/round_deadline.h"
#include "agent/mailbox.h"
#include "agent/membership_driver.h"
#include "agent/metrics_writer.h"
#include "agent/node_options.h"
#include "agent/core/clock.h"
#include "agent/core/transport.h"
#include "base/status.h"
#include "learn/data_source.h"
#include "learn/dataset.h"
#include "learn/sampling.h"
#include "learn/trainer.h"
#include "proto/auth.h"


namespace grapevine::agent {

// What a Node runs on (DESIGN §9): the transport to other agents and the clock every
// wait uses. Both null (the default): a TCP net::Network built from the options and the
// steady clock — `grapevine agent`. Tests and simulations pass an in-memory transport
// and a ManualClock (agent/sim/); both must outlive the Node.
struct NodeEnv {
  core::Transport* transport = nullptr;
  core::Clock* clock = nullptr;
};

class Node : private algorithms::AlgorithmContext, private MembershipDriver::Listener {
 public:
  // Validates options, loads the secret, the topology and the data. Bad input comes
  // back as Status (the CLI exits 2).
  static Result<std::unique_ptr<Node>> Create(NodeOptions options, NodeEnv env = {});
  ~Node();

  // Blocks until the rounds are done or SIGINT/SIGTERM; leaves the swarm gracefully.
  // Returns 0 on success, 1 on a runtime failure.
  int Run();

  proto::NodeId id() const { return self_id_.load(); }
  // The model's parameters (de-biased where the algorithm keeps a numerator).
  // REQUIRES: Run() returned (the training thread is gone).
  const Eigen::VectorXf& params() const;

 private:
  Node(NodeOptions options, NodeEnv env);

  // What the training thread needs from the network thread's view; guarded by mu_.
  struct SharedView {
    std::vector<std::pair<proto::NodeId, double>> mixing;  // in-neighbours' weights
    std::vector<proto::NodeId> out, in;  // live out- / in-neighbours (undirected: equal)
    std::vector<proto::Edge> edges;      // the live graph (membership view)
    double self_weight = 1.0;
    uint64_t round = 0;
    double last_accuracy = -1;
    std::shared_ptr<const proto::EncodedMessage> latest;  // last published model
    bool published = false;  // the network thread filled `mixing` at least once
    bool rejoining = false;  // lost our id, not joined again yet: exchanges wait
    std::vector<proto::MemberRecord> members;  // the membership view (for checkpoints)
    uint64_t incarnation = 0;                  // ours
  };

  Status Setup();
  // --checkpoint-dir: opens the store and reads the newest valid checkpoint into resume_.
  Status OpenCheckpoints();
  // Training thread: writes the state after round `round` (the trainer between steps).
  void WriteCheckpoint(uint64_t round);
  Status CheckOptions() const;
  void SetupTransport();        // handlers, the owned TCP network when none was given, membership
  Status StartFromTopology();   // --topology/--node: id, members, edges, listen, trainer
  Status PrepareJoin();         // --join: listen; id and trainer come with the join reply
  Status SetupTrainer(int shard_index, int shard_count);
  Status LoadResumedTrainer();  // resume_ into the trainer SetupTrainer made
  Result<learn::TrainerOptions> BuildTrainerOptions() const;
  // ---- network thread ----
  void OnEnvelope(const core::LinkPtr& link, proto::Envelope&& env);
  void OnModel(proto::NodeId from, proto::ModelPayload&& model);
  void OnTick();
  void PublishView();
  // Network thread: keep links to the live neighbours and to LinkTo's members.
  void KeepLinks();
  std::set<proto::NodeId> ExtraLinks() const;
  void RequestStateTransfer();
  // Joined and not conflicted: the membership may be used for sending and views.
  bool Joined() const { return members_ && members_->Joined(); }
  // Network thread: sends msg to member id (nothing when not joined or not a member).
  void SendToMember(proto::NodeId id, std::shared_ptr<const proto::EncodedMessage> msg,
                    bool gossip_model);
  // Network thread: the live neighbours we send to (a digraph's out-neighbours).
  std::vector<proto::NodeId> LiveOut() const;
  // Network thread: the last model we sent, to a neighbour that just came up without it.
  void SendLastModelTo(proto::NodeId id);
  // MembershipDriver::Listener (network thread):
  void OnMembershipEvents(const std::vector<core::Event>& events) override;
  Status OnAdmitted(const proto::JoinReply& reply, bool rejoin) override;
  void OnJoined(const proto::JoinReply& reply, bool rejoin) override;
  void OnIdentityLost(proto::NodeId lost) override;
  void OnFatal(const Status& why) override;
  proto::StatusReply BuildStatus() const;
  // ---- training thread ----
  void TrainingThread();
  void RunRound(uint64_t round, bool last);
  Status ValidateModel(const proto::ModelPayload& m) const;
  Status ValidateChannelMessage(const algorithms::ChannelMessage& m) const;
  // Fills what every model we send carries (origin, version, fingerprint, hash, ...).
  void CompleteModel(proto::ModelPayload* payload, proto::ModelPurpose purpose) const;
  void PublishModel(uint64_t tick, bool send,
                    proto::ModelPurpose purpose = proto::ModelPurpose::kGossip);
  // PollExchange's parts: a neighbour is current when we hold its model of the open
  // tick or newer (`boxed`: one still in the mailbox); take what arrived; close.
  bool ModelCurrent(proto::NodeId id, const Mailbox::ModelPtr* boxed) const;
  void TakeArrivals(core::TimePoint now, uint64_t* generation);
  std::vector<algorithms::ArrivedModel> CloseExchange();
  // AlgorithmContext (training thread), see agent/algorithms/algorithm.h:
  learn::Trainer& trainer() override { return *trainer_; }
  bool stopping() const override { return stop_.load(); }
  proto::NodeId self() const override { return self_id_.load(); }
  uint64_t seed() const override { return options_.seed * 31 + static_cast<uint64_t>(shard_index_); }
  bool shared_init() const override { return options_.init == "shared"; }
  void Publish(uint64_t tick, algorithms::Channel channel) override {
    PublishModel(tick, /*send=*/true, algorithms::PurposeOf(channel));
  }
  void PublishForStatus(uint64_t tick) override { PublishModel(tick, /*send=*/false); }
  void BeginExchange(uint64_t tick) override;
  void BeginExchangeWith(uint64_t tick, std::vector<proto::NodeId> peers) override;
  std::optional<std::vector<algorithms::ArrivedModel>> PollExchange(
      bool block, const NeighbourDone& also_done) override;
  std::vector<std::pair<proto::NodeId, double>> MixingRow() const override {
    return exchange_.mixing;
  }
  double SelfWeight() const override;
  uint64_t staleness() const override { return static_cast<uint64_t>(options_.staleness); }
  std::optional<uint64_t> total_rounds() const override {
    return static_cast<uint64_t>(options_.rounds);
  }
  std::vector<proto::NodeId> OutNeighbours() const override;
  std::vector<proto::NodeId> InNeighbours() const override;
  std::vector<proto::Edge> LiveEdges() const override;
  std::vector<proto::MemberRecord> LiveMembers() const override;
  std::optional<std::map<proto::NodeId, std::string>> TopologyGroups() const override {
    return groups_;
  }
  void LinkTo(std::vector<proto::NodeId> peers) override;
  std::vector<proto::NodeId> Send(algorithms::Channel channel, std::span<const proto::NodeId> to,
                                  proto::Body body) override;
  std::vector<algorithms::ChannelMessage> Take(algorithms::Channel channel) override;
  void RecordMerged(const std::vector<algorithms::ArrivedModel>& models) override;
  void WriteMetrics(uint64_t round, double loss, std::optional<double> accuracy);
  // The mailbox started a new generation (we lost our id): drop per-neighbour state
  // of the old identity, tell the algorithm (its per-neighbour state is stale).
  void ForgetOldIdentity(uint64_t generation);
  void Fail(const Status& why);
  // Network thread: splits the transport's bytes per peer by topology group.
  void CountTierBytes();
  // Training thread: neighbour_distance of the round's metrics from a closed exchange.
  void RecordNeighbourDistance(const std::vector<algorithms::ArrivedModel>& models);

  NodeOptions options_;
  std::optional<proto::Secret> secret_;
  std::unique_ptr<core::Transport> owned_transport_;  // when NodeEnv gave none
  core::Transport* network_ = nullptr;  // the injected transport (or owned_transport_)
  std::unique_ptr<MembershipDriver> members_;  // network thread once running
  core::TimePoint last_model_request_{};  // network thread only
  // Network thread only: the last model (gossip or request) sent to the neighbours.
  std::shared_ptr<const proto::EncodedMessage> last_sent_;
  std::set<proto::NodeId> last_sent_to_;  // network thread: who got last_sent_
  core::SteadyClock steady_clock_;
  core::Clock* clock_ = &steady_clock_;  // the injected clock; every wait goes through it
  std::atomic<proto::NodeId> self_id_{proto::kNoNode};
  std::string self_addr_;
  std::string self_name_;
  int node_count_ = 0;
  int shard_index_ = 0;
  double slowdown_ = 1.0;  // set before the trainer; straggler emulation (>= 1)
  int shard_count_ = 1;
  uint64_t end_round_ = 0;  // training thread: the run ends before this round
  // A `digraph` topology (only for an algorithm whose row allows it): membership keeps
  // the undirected version for liveness; these are our out- and in-neighbours in the
  // file. Set in Setup, read-only afterwards.
  bool directed_ = false;
  // The topology file's node attribute `group` by node id ("" where it gives none;
  // nullopt for a joiner): efficient-adam's groups.
  std::optional<std::map<proto::NodeId, std::string>> groups_;
  // LinkTo's members (any thread; links_mu_).
  mutable std::mutex links_mu_;
  std::set<proto::NodeId> extra_links_;
  std::set<proto::NodeId> out_edges_, in_edges_;

  // Training labels, shape and the evaluation set (the first --eval-samples test
  // examples) from Setup; the shard's pixels are read by SetupTrainer and live in trainer_.
  learn::DataSource data_;
  std::unique_ptr<learn::Trainer> trainer_;  // training thread once started
  algorithms::AlgoSpec spec_{};  // the running algorithm's row; read-only after Setup
  std::unique_ptr<algorithms::Algorithm> algorithm_;  // training thread once started
  std::unique_ptr<learn::SampleSchedule> sampling_;   // training thread once started
  uint64_t fingerprint_ = 0;
  Mailbox mailbox_;
  core::RoundDeadline deadline_;  // training thread only
  MetricsWriter metrics_;

  mutable std::mutex mu_;
  SharedView view_;
  std::condition_variable ready_cv_;
  bool joined_ = false;                                  // guarded by mu_
  std::shared_ptr<const proto::ModelPayload> initial_;   // state transfer, guarded by mu_
  // A joiner's shard (index, count) from its admission, guarded by mu_: Run() loads it on
  // the main thread once the state transfer came, so the network thread never reads files.
  std::optional<std::pair<int, int>> pending_shard_;
  Status failure_;                                       // guarded by mu_
  std::vector<proto::NodeId> lost_ids_;  // ids lost in join races, guarded by mu_

  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> bytes_in_{0};
  std::atomic<uint64_t> bytes_out_{0};
  std::array<std::atomic<uint64_t>, proto::kTrafficClassCount> bytes_out_by_traffic_{};
  // bytes_out to members of our topology group / of other groups (files with groups).
  std::atomic<uint64_t> bytes_out_local_tier_{0}, bytes_out_global_tier_{0};
  std::atomic<bool> has_tiers_{false};
  std::atomic<uint64_t> superseded_net_{0};
  std::atomic<int> neighbours_alive_{0};
  std::atomic<uint64_t> models_rejected_{0};
  std::atomic<uint64_t> models_merged_{0};
  std::atomic<uint64_t> models_bad_fingerprint_{0};
  std::atomic<uint64_t> models_stale_{0};
  // Training thread only:
  uint64_t mailbox_generation_ = 0;  // the identity generation the state below is for
  std::map<proto::NodeId, Mailbox::ModelPtr> merged_;  // last merged model per neighbour
  struct PendingExchange {
    uint64_t tick = 0;
    core::TimePoint start, deadline;
    std::vector<std::pair<proto::NodeId, double>> mixing;
    std::map<proto::NodeId, std::shared_ptr<const proto::ModelPayload>> got;
    // BeginExchangeWith: the peers waited for instead of the in-neighbours.
    std::optional<std::vector<proto::NodeId>> peers;
  };
  // The exchange's peers as the membership sees them now: the live in-neighbours with
  // their weights, or the live ones among BeginExchangeWith's peers (weight 0).
  // REQUIRES: mu_ held.
  std::vector<std::pair<proto::NodeId, double>> ExchangePeersLocked() const;
  void OpenExchange(uint64_t tick, std::optional<std::vector<proto::NodeId>> peers);
  PendingExchange exchange_;
  double last_loss_ = 0;
  double last_wait_seconds_ = 0;
  std::optional<double> last_neighbour_distance_;  // training thread; per round
  core::TimePoint started_;
  // Checkpoints: the store (null without --checkpoint-dir), the checkpoint this run
  // resumes from (set in Setup, read by the training thread), and the training thread's
  // last completed round.
  std::unique_ptr<core::CheckpointStore> checkpoints_;
  std::optional<core::Checkpoint> resume_;
  std::optional<uint64_t> resumed_from_;  // training thread: the next metrics line shows it
  std::optional<uint64_t> last_completed_;
  std::atomic<bool> signalled_{false};
};

}  // namespace grapevine::agent
