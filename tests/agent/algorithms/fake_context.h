// FakeContext: an AlgorithmContext without a Node, for the plug-ins' unit tests. The
// neighbours' models are fixed vectors the test sets; exchanges complete on the first
// blocking poll; what the plug-in sends is recorded (and, for a swarm of fakes, handed
// to the receiving fake's inbox by `deliver`). Single-threaded, no clock, no sockets.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "agent/algorithms/algorithm.h"
#include "learn/data.h"
#include "learn/trainer.h"

namespace grapevine::agent::algorithms {

// The integer metric `name` of a plug-in (a test failure, and -1, when it has none).
int64_t IntMetric(const Algorithm& a, const char* name);

// A small MLP trainer on a seeded synthetic shard; `init_seed` picks the initial model.
std::unique_ptr<learn::Trainer> MakeTestTrainer(uint64_t init_seed, double lr = 0.1);

class FakeContext : public AlgorithmContext {
 public:
  FakeContext(const AlgoSpec& spec, std::unique_ptr<learn::Trainer> trainer, proto::NodeId self)
      : AlgorithmContext(spec.optimizer_policy), trainer_(std::move(trainer)), self_(self) {}

  // ---- set by the test ----
  std::vector<std::pair<proto::NodeId, double>> mixing;  // neighbours with w_ij
  std::map<proto::NodeId, Eigen::VectorXf> neighbour_models;  // what an exchange returns
  std::vector<proto::NodeId> out, in;
  std::vector<proto::Edge> edges;
  std::vector<proto::NodeId> members;            // LiveMembers()
  std::map<proto::NodeId, uint64_t> incarnations;  // LiveMembers() (default 0)
  std::optional<std::map<proto::NodeId, std::string>> groups;  // TopologyGroups()
  std::set<proto::NodeId> unreachable;  // Send does not hand anything to these
  int nonblocking_polls_pending = 0;    // non-blocking polls answering "not yet"
  bool shared = true;
  std::optional<uint64_t> rounds;  // total_rounds()
  // Receives what Send handed over (a swarm of fakes routes it to the receiver).
  std::function<void(proto::NodeId to, const ChannelMessage&, Channel)> deliver;
  std::map<Channel, std::vector<ChannelMessage>> inbox;

  // ---- recorded ----
  std::vector<std::pair<uint64_t, Channel>> published;
  std::vector<proto::NodeId> links;  // the last LinkTo
  int merges = 0;
  int sends = 0;

  learn::Trainer& trainer() override { return *trainer_; }
  bool stopping() const override { return false; }
  proto::NodeId self() const override { return self_; }
  uint64_t seed() const override { return 7; }
  bool shared_init() const override { return shared; }
  void Publish(uint64_t tick, Channel channel) override { published.emplace_back(tick, channel); }
  void PublishForStatus(uint64_t) override {}
  void BeginExchange(uint64_t tick) override { tick_ = tick; }
  void BeginExchangeWith(uint64_t tick, std::vector<proto::NodeId>) override { tick_ = tick; }
  std::optional<std::vector<ArrivedModel>> PollExchange(bool block,
                                                        const NeighbourDone&) override;
  std::vector<std::pair<proto::NodeId, double>> MixingRow() const override { return mixing; }
  double SelfWeight() const override;
  uint64_t staleness() const override { return 4; }
  std::optional<uint64_t> total_rounds() const override { return rounds; }
  std::vector<proto::NodeId> OutNeighbours() const override { return out; }
  std::vector<proto::NodeId> InNeighbours() const override { return in; }
  std::vector<proto::Edge> LiveEdges() const override { return edges; }
  std::vector<proto::MemberRecord> LiveMembers() const override;
  std::optional<std::map<proto::NodeId, std::string>> TopologyGroups() const override {
    return groups;
  }
  void LinkTo(std::vector<proto::NodeId> peers) override { links = std::move(peers); }
  std::vector<proto::NodeId> Send(Channel channel, std::span<const proto::NodeId> to,
                                  proto::Body body) override;
  std::vector<ChannelMessage> Take(Channel channel) override {
    return std::exchange(inbox[channel], {});
  }

 protected:
  void RecordMerged(const std::vector<ArrivedModel>&) override { ++merges; }

 private:
  std::unique_ptr<learn::Trainer> trainer_;
  proto::NodeId self_;
  uint64_t tick_ = 0;
};

}  // namespace grapevine::agent::algorithms
