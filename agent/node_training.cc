// The training thread of a Node (see node.h): local steps, publish, collect within a
// deadline, merge, evaluate, write metrics. Runs on its own thread; it reaches the
// network only through Network::Post and the Mailbox.
#include <spdlog/spdlog.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "agent/node.h"
#include "proto/hash.h"

namespace grapevine::agent {

namespace {
// A model whose norm exceeds ours by this factor is treated as an attack or a divergence.
constexpr double kAbsurdNormFactor = 1e3;
constexpr auto kCollectSlice = std::chrono::milliseconds(100);

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}
}  // namespace

void Node::TrainingThread() {
  uint64_t start_round = 0;
  std::shared_ptr<const proto::ModelPayload> initial;
  {
    std::lock_guard<std::mutex> lock(mu_);
    initial = initial_;
  }
  if (initial) {
    Status st = ValidateModel(*initial);
    if (!st.ok()) {
      Fail(st.WithContext("state transfer"));
      return;
    }
    trainer_->SetParams(Eigen::Map<const Eigen::VectorXf>(
        initial->values.data(), static_cast<Eigen::Index>(initial->values.size())));
    start_round = initial->round + 1;
    spdlog::info("state transfer: starting from node {}'s model of round {}", initial->origin,
                 initial->round);
  }
  Publish(start_round == 0 ? 0 : start_round - 1, /*send=*/false);  // joiners can fetch it
  const uint64_t end_round = start_round + static_cast<uint64_t>(options_.rounds);
  for (uint64_t round = start_round; round < end_round && !stop_; ++round) {
    RunRound(round, round + 1 == end_round);
  }
  // Stay reachable a little longer: slower neighbours still merge our last model.
  auto linger_until = std::chrono::steady_clock::now() +
                      std::chrono::milliseconds(options_.linger_ms);
  while (!stop_ && std::chrono::steady_clock::now() < linger_until) {
    mailbox_.WaitUntil(std::min(linger_until, std::chrono::steady_clock::now() + kCollectSlice),
                       [](const auto&) { return false; });
    mailbox_.TakeAll();
  }
}

void Node::RunRound(uint64_t round, bool last) {
  double loss_sum = 0;
  int steps = 0;
  for (int s = 0; s < options_.local_steps && !stop_; ++s) {
    loss_sum += trainer_->Step();
    ++steps;
  }
  if (stop_) return;
  last_loss_ = steps > 0 ? loss_sum / steps : 0.0;
  if (!std::isfinite(last_loss_)) {
    Fail(Status::Internal("training diverged (loss is not finite) in round " +
                          std::to_string(round) + "; lower --lr"));
    return;
  }
  Publish(round, /*send=*/true);
  MergeRound(round);

  std::optional<double> accuracy;
  if ((round + 1) % static_cast<uint64_t>(options_.eval_every) == 0 || last) {
    const learn::Dataset* test = &data_.test;
    learn::Dataset subset;
    if (options_.eval_samples > 0 && options_.eval_samples < data_.test.size()) {
      std::vector<int64_t> idx(static_cast<size_t>(options_.eval_samples));
      for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
      subset = data_.test.Subset(idx);
      test = &subset;
    }
    accuracy = trainer_->Evaluate(*test).accuracy;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    view_.round = round;
    if (accuracy) view_.last_accuracy = *accuracy;
  }
  WriteMetrics(round, last_loss_, accuracy);
}

void Node::Publish(uint64_t round, bool send) {
  proto::ModelPayload payload;
  const Eigen::VectorXf& x = trainer_->params();
  payload.origin = self_id_.load();
  payload.purpose = proto::ModelPurpose::kGossip;
  payload.version = static_cast<uint64_t>(trainer_->steps());
  payload.round = round;
  payload.samples_seen = static_cast<uint64_t>(trainer_->samples_seen());
  payload.arch_fingerprint = fingerprint_;
  payload.train_loss = static_cast<float>(last_loss_);
  payload.values.assign(x.data(), x.data() + x.size());
  payload.content_hash = proto::ContentHash(payload.values);
  proto::Envelope env;
  env.sender = self_id_.load();
  env.body = std::move(payload);
  // Encoded once, here on the training thread and without copying the values again
  // (the message owns the envelope); the network thread only writes bytes. The same
  // message answers joiners' state-transfer requests.
  auto encoded = std::make_shared<const proto::EncodedMessage>(proto::Encode(std::move(env)));
  {
    std::lock_guard<std::mutex> lock(mu_);
    view_.latest = encoded;
  }
  if (!send) return;
  network_->Post([this, encoded] {
    if (!membership_) return;
    std::map<proto::NodeId, std::string> addr;
    for (const auto& m : membership_->Members()) addr[m.id] = m.addr;
    for (auto id : membership_->LiveNeighbours()) network_->Send(id, addr[id], encoded, true);
  });
}

Status Node::ValidateModel(const proto::ModelPayload& m) const {
  if (m.arch_fingerprint != fingerprint_) {
    return Status::Invalid("architecture fingerprint differs");
  }
  if (m.codec != proto::TensorCodec::kFloat32) {
    return Status::Invalid("unsupported tensor codec " +
                           std::to_string(static_cast<int>(m.codec)));
  }
  if (static_cast<int64_t>(m.values.size()) != trainer_->params().size()) {
    return Status::Invalid("model has " + std::to_string(m.values.size()) +
                           " values, expected " + std::to_string(trainer_->params().size()));
  }
  if (proto::ContentHash(m.values) != m.content_hash) {
    return Status::Invalid("content hash mismatch");
  }
  Eigen::Map<const Eigen::VectorXf> v(m.values.data(), static_cast<Eigen::Index>(m.values.size()));
  if (!v.allFinite()) return Status::Invalid("model contains NaN or Inf");
  const double own = trainer_->params().norm();
  const double theirs = v.norm();
  if (theirs > kAbsurdNormFactor * std::max(1.0, own)) {
    return Status::Invalid("model norm " + std::to_string(theirs) + " is absurd (ours " +
                           std::to_string(own) + ")");
  }
  return Status::Ok();
}

std::vector<std::pair<std::shared_ptr<const proto::ModelPayload>, double>>
Node::CollectNeighbours(uint64_t round) {
  // Wait for every live neighbour's model of this round, up to the adaptive deadline
  // (--sync: up to a minute). Whatever arrived by then is merged if it is newer than
  // what was merged from that neighbour before and within the staleness bound.
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::pair<proto::NodeId, double>> mixing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    mixing = view_.mixing;
  }
  std::vector<proto::NodeId> expected;
  for (const auto& [id, w] : mixing) expected.push_back(id);
  deadline_.StartRound(round, expected, start);
  const auto deadline = options_.sync ? start + std::chrono::seconds(60) : deadline_.DeadlineAt();
  std::map<proto::NodeId, std::shared_ptr<const proto::ModelPayload>> got;
  auto current = [&](proto::NodeId id, const Mailbox::ModelPtr* boxed) {
    auto have = got.find(id);
    if (have != got.end() && have->second->round >= round) return true;
    return boxed != nullptr && (*boxed)->round >= round;
  };
  while (!stop_) {
    auto now = std::chrono::steady_clock::now();
    mailbox_.WaitUntil(std::min(deadline, now + kCollectSlice),
                       [&](const std::map<proto::NodeId, Mailbox::ModelPtr>& box) {
                         for (const auto& [id, w] : mixing) {
                           auto it = box.find(id);
                           if (!current(id, it == box.end() ? nullptr : &it->second)) return false;
                         }
                         return true;
                       });
    now = std::chrono::steady_clock::now();
    for (auto& [id, m] : mailbox_.TakeAll()) {
      deadline_.OnArrival(id, m->round, now);
      auto merged = merged_version_.find(id);
      if (merged != merged_version_.end() && m->version <= merged->second) continue;
      got[id] = m;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      mixing = view_.mixing;  // neighbours may have died or joined meanwhile
    }
    bool all = true;
    for (const auto& [id, w] : mixing) all = all && current(id, nullptr);
    if (all || now >= deadline) break;
  }
  last_wait_seconds_ = Seconds(std::chrono::steady_clock::now() - start);

  std::vector<std::pair<std::shared_ptr<const proto::ModelPayload>, double>> out;
  for (const auto& [id, w] : mixing) {
    auto it = got.find(id);
    if (it == got.end()) continue;
    const auto& m = it->second;
    if (m->round + static_cast<uint64_t>(options_.staleness) < round) {
      ++models_stale_;
      continue;
    }
    Status st = ValidateModel(*m);
    if (!st.ok()) {
      ++models_rejected_;
      spdlog::warn("rejected model from node {} (round {}): {}", id, m->round, st.message());
      continue;
    }
    out.emplace_back(m, w);
  }
  return out;
}

void Node::MergeRound(uint64_t round) {
  auto models = CollectNeighbours(round);
  if (stop_ || models.empty()) return;
  // Weighted average with the live Metropolis row; the weight of a neighbour whose
  // model did not arrive (or was rejected) stays with self.
  double neighbour_mass = 0;
  for (const auto& [m, w] : models) neighbour_mass += w;
  Eigen::VectorXf& x = trainer_->mutable_params();
  x *= static_cast<float>(1.0 - neighbour_mass);
  for (const auto& [m, w] : models) {
    x += static_cast<float>(w) * Eigen::Map<const Eigen::VectorXf>(
                                     m->values.data(), static_cast<Eigen::Index>(m->values.size()));
    merged_version_[m->origin] = m->version;
    ++models_merged_;
  }
}

void Node::WriteMetrics(uint64_t round, double loss, std::optional<double> accuracy) {
  nlohmann::json j;
  j["t"] = Seconds(std::chrono::steady_clock::now() - started_);
  j["node"] = self_id_.load();
  j["round"] = round;
  j["step"] = trainer_->steps();
  j["loss"] = loss;
  if (accuracy) j["test_accuracy"] = *accuracy;
  j["bytes_in"] = bytes_in_.load();
  j["bytes_out"] = bytes_out_.load();
  j["models_received"] = mailbox_.received();
  j["models_merged"] = models_merged_.load();
  j["models_rejected"] = models_rejected_.load();
  j["models_stale"] = models_stale_.load();
  j["models_superseded"] = mailbox_.superseded() + superseded_net_.load();
  j["neighbours_alive"] = neighbours_alive_.load();
  j["wait_seconds"] = last_wait_seconds_;
  metrics_.Write(j.dump());
  if (accuracy) {
    spdlog::info("round {} loss {:.4f} test accuracy {:.4f} neighbours {} waited {:.3f}s", round,
                 loss, *accuracy, neighbours_alive_.load(), last_wait_seconds_);
  }
}

}  // namespace grapevine::agent
