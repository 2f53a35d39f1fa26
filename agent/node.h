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

#include <atomic>
#include <condition_variable>
#include <map>
#include <cstdint>
#include <memory>
#include <set>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/algorithm.h"
#include "agent/core/algorithms/algo_spec.h"
#include "agent/core/membership.h"
#include "agent/core/round_deadline.h"
#include "agent/mailbox.h"
#include "agent/membership_driver.h"
#include "agent/metrics_writer.h"
#include "agent/node_options.h"
#include "agent/core/clock.h"
#include "agent/core/transport.h"
#include "base/status.h"
#include "learn/dataset.h"
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

class Node : private AlgorithmContext, private MembershipDriver::Listener {
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
    std::vector<std::pair<proto::NodeId, double>> mixing;  // neighbours' weights
    double self_weight = 1.0;
    uint64_t round = 0;
    double last_accuracy = -1;
    std::shared_ptr<const proto::EncodedMessage> latest;  // last published model
    bool published = false;  // the network thread filled `mixing` at least once
    bool rejoining = false;  // lost our id, not joined again yet: exchanges wait
  };

  Status Setup();
  Status SetupTrainer(int shard_index, int shard_count);
  Result<learn::TrainerOptions> BuildTrainerOptions() const;
  // ---- network thread ----
  void OnEnvelope(const core::LinkPtr& link, proto::Envelope&& env);
  void OnModel(proto::NodeId from, proto::ModelPayload&& model);
  void OnTick();
  void PublishView();
  void RequestStateTransfer();
  // Joined and not conflicted: the membership may be used for sending and views.
  bool Joined() const { return members_ && members_->Joined(); }
  // Network thread: sends msg to member id (nothing when not joined or not a member).
  void SendToMember(proto::NodeId id, std::shared_ptr<const proto::EncodedMessage> msg,
                    bool gossip_model);
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
  void PublishModel(uint64_t tick, bool send,
                    proto::ModelPurpose purpose = proto::ModelPurpose::kGossip);
  // AlgorithmContext (training thread):
  learn::Trainer& trainer() override { return *trainer_; }
  bool stopping() const override { return stop_.load(); }
  void Publish(uint64_t tick) override { PublishModel(tick, /*send=*/true); }
  void BeginExchange(uint64_t tick) override;
  std::optional<std::vector<ArrivedModel>> PollExchange(bool block) override;
  void MarkMerged(const std::vector<ArrivedModel>& models) override;
  void PublishForCrossGradients(uint64_t tick) override;
  std::vector<ArrivedGradient> TakeCrossGradients() override;
  double SelfWeight() const override;
  void AnswerCrossGradients() override;
  void CollectCrossGradients();
  Status ValidateCrossGradient(const proto::CrossGradient& g) const;
  const Eigen::MatrixXf& probe() override { return probe_; }
  proto::NodeId frame() const override { return frame_; }
  void SetFrame(proto::NodeId frame) override { frame_ = frame; }
  void WriteMetrics(uint64_t round, double loss, std::optional<double> accuracy);
  // The mailbox started a new generation (we lost our id): drop per-neighbour state
  // of the old identity, rename a frame that named the lost id.
  void ForgetOldIdentity(uint64_t generation);
  void Fail(const Status& why);

  NodeOptions options_;
  std::optional<proto::Secret> secret_;
  std::unique_ptr<core::Transport> owned_transport_;  // when NodeEnv gave none
  core::Transport* network_ = nullptr;  // the injected transport (or owned_transport_)
  std::unique_ptr<MembershipDriver> members_;  // network thread once running
  core::TimePoint last_model_request_{};  // network thread only
  // Network thread only: the last model (or CGA request) sent to the neighbours.
  std::shared_ptr<const proto::EncodedMessage> last_sent_;
  std::set<proto::NodeId> last_sent_to_;  // network thread: who got last_sent_
  core::SteadyClock steady_clock_;
  core::Clock* clock_ = &steady_clock_;  // the injected clock; every wait goes through it
  std::atomic<proto::NodeId> self_id_{proto::kNoNode};
  std::string self_addr_;
  std::string self_name_;
  int node_count_ = 0;

  learn::DataSplit data_;
  std::unique_ptr<learn::Trainer> trainer_;  // training thread once started
  algorithms::AlgoSpec spec_{};
  std::unique_ptr<Algorithm> algorithm_;     // training thread once started
  Eigen::MatrixXf probe_;                    // dimat: sample of the own shard
  uint64_t fingerprint_ = 0;
  Mailbox mailbox_;
  core::RoundDeadline deadline_;  // training thread only
  MetricsWriter metrics_;

  mutable std::mutex mu_;
  SharedView view_;
  std::condition_variable ready_cv_;
  bool joined_ = false;                                  // guarded by mu_
  std::shared_ptr<const proto::ModelPayload> initial_;   // state transfer, guarded by mu_
  Status failure_;                                       // guarded by mu_
  std::vector<proto::NodeId> lost_ids_;  // ids lost in join races, guarded by mu_

  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> bytes_in_{0};
  std::atomic<uint64_t> bytes_out_{0};
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
    std::optional<uint64_t> gradient_version;  // cga: wait for cross-gradients of this
  };
  PendingExchange exchange_;
  // dimat / wm alignment frame of our parameters: our own id (per-node init), 0 (shared
  // init), or a state-transfer model's; lowered by merges (algorithm.cc).
  proto::NodeId frame_ = proto::kNoNode;
  std::optional<uint64_t> published_for_gradients_;  // cga: version asked about
  // cga: freshest valid cross-gradient of our model per neighbour.
  std::map<proto::NodeId, Mailbox::GradientPtr> cross_gradients_;
  Eigen::VectorXf request_params_, request_grad_;  // cga: scratch for answers
  std::atomic<uint64_t> gradients_answered_{0};
  double last_loss_ = 0;
  double last_wait_seconds_ = 0;
  core::TimePoint started_;
};

}  // namespace grapevine::agent
