#include "fake_context.h"

#include <gtest/gtest.h>

namespace grapevine::agent::algorithms {

int64_t IntMetric(const Algorithm& a, const char* name) {
  for (const auto& m : a.Metrics()) {
    if (m.name == name) return std::get<int64_t>(m.value);
  }
  ADD_FAILURE() << "no metric " << name;
  return -1;
}

std::unique_ptr<learn::Trainer> MakeTestTrainer(uint64_t init_seed, double lr) {
  auto data = learn::LoadData("synthetic:200:6:3", 5);
  EXPECT_TRUE(data.ok());
  auto model = learn::ParseModel("mlp:6-5-3", data->train.shape, data->train.num_classes);
  EXPECT_TRUE(model.ok());
  learn::TrainerOptions options;
  options.batch_size = 16;
  options.learning_rate = lr;
  options.optimizer.momentum = 0.9f;  // state a reset can be seen to drop
  options.seed = 11;
  Eigen::VectorXf init = (*model)->InitParams(init_seed);
  auto trainer = learn::Trainer::Create(std::move(*model), data->train, options, std::move(init));
  EXPECT_TRUE(trainer.ok()) << trainer.status().ToString();
  return std::move(*trainer);
}

std::optional<std::vector<ArrivedModel>> FakeContext::PollExchange(bool block,
                                                                   const NeighbourDone&) {
  if (!block && nonblocking_polls_pending > 0) {
    --nonblocking_polls_pending;
    return std::nullopt;
  }
  std::vector<ArrivedModel> models;
  for (const auto& [id, w] : mixing) {
    auto it = neighbour_models.find(id);
    if (it == neighbour_models.end()) continue;
    auto m = std::make_shared<proto::ModelPayload>();
    m->origin = id;
    m->round = tick_;
    m->values.assign(it->second.data(), it->second.data() + it->second.size());
    models.push_back({m, w});
  }
  return models;
}

std::vector<proto::MemberRecord> FakeContext::LiveMembers() const {
  std::vector<proto::MemberRecord> out;
  for (proto::NodeId id : members) {
    auto it = incarnations.find(id);
    out.push_back({id, "", proto::MemberState::kAlive, it == incarnations.end() ? 0 : it->second});
  }
  return out;
}

double FakeContext::SelfWeight() const {
  double mass = 0;
  for (const auto& [id, w] : mixing) mass += w;
  return 1.0 - mass;
}

std::vector<proto::NodeId> FakeContext::Send(Channel channel, std::span<const proto::NodeId> to,
                                             proto::Body body) {
  ++sends;
  std::vector<proto::NodeId> handed;
  ChannelMessage msg;
  msg.from = self_;
  if (auto* m = std::get_if<proto::ModelPayload>(&body)) {
    m->origin = self_;
    msg.model = std::make_shared<proto::ModelPayload>(*m);
  } else if (auto* g = std::get_if<proto::CrossGradient>(&body)) {
    msg.gradient = std::make_shared<proto::CrossGradient>(*g);
  }
  for (proto::NodeId id : to) {
    if (unreachable.count(id) > 0) continue;
    handed.push_back(id);
    if (deliver) deliver(id, msg, channel);
  }
  return handed;
}

}  // namespace grapevine::agent::algorithms
