// The training thread of a Node (see node.h): runs the Algorithm round by round
// (agent/algorithm.h), implements its AlgorithmContext (publish, exchanges within the
// adaptive deadline), evaluates and writes metrics. Runs on its own thread; it reaches
// the network only through Network::Post and the Mailbox.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "agent/metrics_record.h"
#include "agent/node.h"
#include "proto/codec.h"
#include "proto/hash.h"

namespace grapevine::agent {

namespace {
// A model whose norm exceeds ours by this factor is treated as an attack or a divergence.
constexpr double kAbsurdNormFactor = 1e3;
constexpr auto kCollectSlice = std::chrono::milliseconds(100);

double Seconds(core::Duration d) {
  return std::chrono::duration<double>(d).count();
}

// What every float tensor from a peer must pass before use: float32 codec, the
// model's size, its content hash, finite values. `what` names it in the message.
Status CheckTensor(const char* what, proto::TensorCodec codec, const proto::FloatArray& values,
                   uint64_t content_hash, int64_t expected_size) {
  if (codec != proto::TensorCodec::kFloat32) {
    return Status::Invalid("unsupported tensor codec " + std::to_string(static_cast<int>(codec)));
  }
  if (static_cast<int64_t>(values.size()) != expected_size) {
    return Status::Invalid(std::string(what) + " has " + std::to_string(values.size()) +
                           " values, expected " + std::to_string(expected_size));
  }
  if (proto::ContentHash(values) != content_hash) return Status::Invalid("content hash mismatch");
  Eigen::Map<const Eigen::VectorXf> v(values.data(), static_cast<Eigen::Index>(values.size()));
  if (!v.allFinite()) return Status::Invalid(std::string(what) + " contains NaN or Inf");
  return Status::Ok();
}

bool InMixing(const std::vector<std::pair<proto::NodeId, double>>& mixing, proto::NodeId id) {
  for (const auto& [n, w] : mixing) {
    if (n == id) return true;
  }
  return false;
}
}  // namespace

const Eigen::VectorXf& Node::params() const { return trainer_->params(); }

void Node::TrainingThread() {
  uint64_t start_round = 0;
  std::shared_ptr<const proto::ModelPayload> initial;
  {
    // The first exchange must know the neighbours: wait for the network thread's
    // first view (one tick), or a round would be merged with nobody.
    std::unique_lock<std::mutex> lock(mu_);
    clock_->WaitUntil(lock, ready_cv_, clock_->Now() + std::chrono::seconds(5),
                      [&] { return view_.published || stop_.load(); });
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
    frame_ = initial->frame;
    spdlog::info("state transfer: starting from node {}'s model of round {}", initial->origin,
                 initial->round);
  }
  if (!initial) frame_ = options_.init == "shared" ? 0 : self_id_.load();
  if (!initial && options_.pretrain_steps > 0) {
    // Pre-training alone (DIMAT's official code trains each agent before the first
    // merge). A joiner that took a neighbour's model skips it.
    double loss = 0;
    int done = 0;
    for (; done < options_.pretrain_steps && !stop_; ++done) loss += trainer_->Step();
    if (done > 0 && !std::isfinite(loss)) {
      Fail(Status::Internal("training diverged during pre-training; lower --lr or --clip-grad-norm"));
      return;
    }
    spdlog::info("pre-trained alone for {} steps, mean loss {:.4f}", done,
                 done > 0 ? loss / done : 0.0);
  }
  PublishModel(start_round == 0 ? 0 : start_round - 1, /*send=*/false);  // joiners can fetch it
  const uint64_t end_round = start_round + static_cast<uint64_t>(options_.rounds);
  for (uint64_t round = start_round; round < end_round && !stop_; ++round) {
    RunRound(round, round + 1 == end_round);
  }
  // Stay reachable a little longer: slower neighbours still merge our last model.
  auto linger_until = clock_->Now() +
                      std::chrono::milliseconds(options_.linger_ms);
  while (!stop_ && clock_->Now() < linger_until) {
    mailbox_.WaitUntil(*clock_, std::min(linger_until, clock_->Now() + kCollectSlice),
                       [](const auto&, const auto&) { return false; });
    mailbox_.TakeAll();
    mailbox_.TakeCrossGradients();
    AnswerCrossGradients();  // cga neighbours still finishing their steps
  }
}

void Node::RunRound(uint64_t round, bool last) {
  Result<double> loss = algorithm_->RunRound(*this, round, options_.local_steps);
  if (!loss.ok()) {
    Fail(loss.status());
    return;
  }
  if (stop_) return;
  last_loss_ = *loss;

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

void Node::PublishModel(uint64_t round, bool send, proto::ModelPurpose purpose) {
  proto::ModelPayload payload;
  const Eigen::VectorXf& x = trainer_->params();
  const proto::NodeId origin = self_id_.load();
  payload.origin = origin;
  payload.purpose = purpose;
  payload.version = static_cast<uint64_t>(trainer_->steps());
  payload.round = round;
  payload.samples_seen = static_cast<uint64_t>(trainer_->samples_seen());
  payload.arch_fingerprint = fingerprint_;
  payload.train_loss = static_cast<float>(last_loss_);
  payload.frame = frame_;
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
  network_->Post([this, encoded, origin] {
    // Between identities nobody is a neighbour; a model stamped with a lost id
    // (published just before we joined again) would pass for the winner's.
    if (!Joined() || members_->membership()->self() != origin) return;
    last_sent_ = encoded;
    last_sent_to_.clear();
    for (auto id : members_->membership()->LiveNeighbours()) {
      SendToMember(id, encoded, true);
      last_sent_to_.insert(id);
    }
  });
}

Status Node::ValidateModel(const proto::ModelPayload& m) const {
  if (m.arch_fingerprint != fingerprint_) {
    return Status::Invalid("architecture fingerprint differs");
  }
  GV_RETURN_IF_ERROR(CheckTensor("model", m.codec, m.values, m.content_hash,
                                 trainer_->params().size()));
  Eigen::Map<const Eigen::VectorXf> v(m.values.data(), static_cast<Eigen::Index>(m.values.size()));
  const double own = trainer_->params().norm();
  const double theirs = v.norm();
  if (theirs > kAbsurdNormFactor * std::max(1.0, own)) {
    return Status::Invalid("model norm " + std::to_string(theirs) + " is absurd (ours " +
                           std::to_string(own) + ")");
  }
  return Status::Ok();
}

void Node::BeginExchange(uint64_t tick) {
  // Wait for every live neighbour's model of this tick, up to the adaptive deadline
  // (--sync: up to a minute). Whatever arrived by then is merged if it is newer than
  // what was merged from that neighbour before and within the staleness bound.
  exchange_ = PendingExchange{};
  exchange_.tick = tick;
  exchange_.start = clock_->Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    exchange_.mixing = view_.mixing;
  }
  std::vector<proto::NodeId> expected;
  for (const auto& [id, w] : exchange_.mixing) expected.push_back(id);
  deadline_.StartRound(tick, expected, exchange_.start);
  exchange_.deadline = options_.sync ? exchange_.start + std::chrono::seconds(60)
                                     : deadline_.DeadlineAt();
  exchange_.gradient_version = std::exchange(published_for_gradients_, std::nullopt);
}

std::optional<std::vector<ArrivedModel>> Node::PollExchange(bool block) {
  PendingExchange& ex = exchange_;
  const uint64_t tick = ex.tick;
  // A neighbour is current when we hold its model of this tick or newer: just arrived,
  // or merged before because that neighbour was ahead of us.
  auto current = [&](proto::NodeId id, const Mailbox::ModelPtr* boxed) {
    auto have = ex.got.find(id);
    if (have != ex.got.end() && have->second->round >= tick) return true;
    auto merged = merged_.find(id);
    if (merged != merged_.end() && merged->second->round >= tick) return true;
    return boxed != nullptr && (*boxed)->round >= tick;
  };
  // cga: the neighbour's answer for our published version (or a newer one).
  auto answered = [&](proto::NodeId id, const Mailbox::GradientPtr* boxed) {
    if (!ex.gradient_version) return true;
    auto have = cross_gradients_.find(id);
    if (have != cross_gradients_.end() && have->second->version >= *ex.gradient_version) {
      return true;
    }
    return boxed != nullptr && (*boxed)->origin == self_id_.load() &&
           (*boxed)->version >= *ex.gradient_version;
  };
  AnswerCrossGradients();  // neighbours may be waiting for us while we wait for them
  bool rejoining = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rejoining = view_.rejoining;
  }
  auto now = clock_->Now();
  if (block) {
    // Between identities there is nobody to wait for, but no deadline either: the
    // exchange waits until we are a member again (ForgetOldIdentity restarts its clock).
    const auto until =
        rejoining ? now + kCollectSlice : std::min(ex.deadline, now + kCollectSlice);
    mailbox_.WaitUntil(*clock_, until,
                       [&](const std::map<proto::NodeId, Mailbox::ModelPtr>& box,
                           const std::map<proto::NodeId, Mailbox::GradientPtr>& grads) {
                         if (rejoining) return false;  // an empty mixing is not "all in"
                         for (const auto& [id, w] : ex.mixing) {
                           auto it = box.find(id);
                           if (!current(id, it == box.end() ? nullptr : &it->second)) return false;
                           auto g = grads.find(id);
                           if (!answered(id, g == grads.end() ? nullptr : &g->second)) return false;
                         }
                         return true;
                       });
    now = clock_->Now();
  }
  for (proto::NodeId id : mailbox_.TakeForgotten()) {
    // Another agent holds this id now: its versions and rounds start elsewhere.
    merged_.erase(id);
    ex.got.erase(id);
    cross_gradients_.erase(id);
  }
  CollectCrossGradients();
  uint64_t generation = 0;
  auto arrived = mailbox_.TakeAll(&generation);
  if (generation != mailbox_generation_) ForgetOldIdentity(generation);
  for (auto& [id, m] : arrived) {
    deadline_.OnArrival(id, m->round, now);
    auto merged = merged_.find(id);
    if (merged != merged_.end() && m->version <= merged->second->version) continue;
    ex.got[id] = m;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ex.mixing = view_.mixing;  // neighbours may have died or joined meanwhile
    rejoining = view_.rejoining;
  }
  if (rejoining && !stop_) return std::nullopt;  // not training alone meanwhile
  bool all = true;
  for (const auto& [id, w] : ex.mixing) {
    all = all && current(id, nullptr) && answered(id, nullptr);
  }
  if (!all && now < ex.deadline && !stop_) return std::nullopt;
  last_wait_seconds_ = Seconds(now - ex.start);
  if (!all && spdlog::should_log(spdlog::level::debug)) {
    std::string missing;
    for (const auto& [id, w] : ex.mixing) {
      if (!current(id, nullptr)) missing += " model:" + std::to_string(id);
      if (!answered(id, nullptr)) missing += " gradient:" + std::to_string(id);
    }
    spdlog::debug("exchange {} closed at the deadline after {:.3f}s, missing{}", tick,
                  last_wait_seconds_, missing);
  }

  std::vector<ArrivedModel> out;
  for (const auto& [id, w] : ex.mixing) {
    auto it = ex.got.find(id);
    if (it == ex.got.end()) {
      // A neighbour that is ahead delivered this tick's model (or a newer one) in an
      // earlier exchange: merge that model again rather than nothing — otherwise the
      // slower agent of a pair merges with nobody every other round, and in its last.
      auto merged = merged_.find(id);
      if (merged != merged_.end() && merged->second->round >= tick) {
        out.push_back({merged->second, w});
      }
      continue;
    }
    const auto& m = it->second;
    if (m->round + static_cast<uint64_t>(options_.staleness) < tick) {
      ++models_stale_;
      continue;
    }
    Status st = ValidateModel(*m);
    if (!st.ok()) {
      ++models_rejected_;
      spdlog::warn("rejected model from node {} (tick {}): {}", id, m->round, st.message());
      continue;
    }
    out.push_back({m, w});
  }
  ex.got.clear();
  if (mailbox_.generation() != generation) {
    // We lost our id while collecting: these models were sent to the old identity.
    // The next poll forgets its state and waits for the new neighbours.
    return std::nullopt;
  }
  // Forget neighbours that left, so a returning id starts fresh.
  std::erase_if(merged_, [&](const auto& kv) { return !InMixing(ex.mixing, kv.first); });
  return out;
}

void Node::ForgetOldIdentity(uint64_t generation) {
  mailbox_generation_ = generation;
  // The open exchange starts over with the new neighbours and a full deadline.
  const auto now = clock_->Now();
  exchange_.deadline = now + (exchange_.deadline - exchange_.start);
  exchange_.start = now;
  exchange_.got.clear();
  exchange_.gradient_version.reset();  // asked of the old neighbours
  published_for_gradients_.reset();
  merged_.clear();
  cross_gradients_.clear();
  std::vector<proto::NodeId> lost;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lost = lost_ids_;
  }
  const proto::NodeId now_id = self_id_.load();
  const bool joined = std::find(lost.begin(), lost.end(), now_id) == lost.end();
  for (proto::NodeId id : lost) {
    if (joined) frame_ = core::FrameAfterRejoin(frame_, id, now_id);
  }
  spdlog::info("training: forgot the neighbours of the lost id{}", joined
                   ? fmt::format("; now node {}, frame {}", now_id, frame_)
                   : std::string(" (joining again)"));
}

void Node::MarkMerged(const std::vector<ArrivedModel>& models) {
  for (const auto& m : models) {
    merged_[m.model->origin] = m.model;
    ++models_merged_;
  }
}

void Node::PublishForCrossGradients(uint64_t tick) {
  published_for_gradients_ = static_cast<uint64_t>(trainer_->steps());
  PublishModel(tick, /*send=*/true, proto::ModelPurpose::kCrossGradient);
}

double Node::SelfWeight() const {
  double mass = 0;
  for (const auto& [id, w] : exchange_.mixing) mass += w;
  return std::max(0.0, 1.0 - mass);
}

Status Node::ValidateCrossGradient(const proto::CrossGradient& g) const {
  if (g.origin != self_id_.load()) {
    return Status::Invalid("cross-gradient is for node " + std::to_string(g.origin) +
                           ", not for us");
  }
  return CheckTensor("cross-gradient", g.codec, g.values, g.content_hash,
                     trainer_->params().size());
}

void Node::CollectCrossGradients() {
  for (auto& [from, g] : mailbox_.TakeCrossGradients()) {
    Status st = ValidateCrossGradient(*g);
    if (!st.ok()) {
      ++models_rejected_;
      spdlog::warn("rejected cross-gradient from node {}: {}", from, st.message());
      continue;
    }
    auto& slot = cross_gradients_[from];
    if (!slot || slot->version <= g->version) slot = g;
  }
}

std::vector<ArrivedGradient> Node::TakeCrossGradients() {
  std::vector<ArrivedGradient> out;
  if (!exchange_.gradient_version) return out;
  const uint64_t want = *exchange_.gradient_version;
  for (const auto& [id, w] : exchange_.mixing) {
    auto it = cross_gradients_.find(id);
    if (it == cross_gradients_.end()) continue;
    if (it->second->version + static_cast<uint64_t>(options_.staleness) < want) {
      ++models_stale_;
      continue;
    }
    out.push_back({id, it->second, w});
  }
  // Forget neighbours that left, so a returning id starts fresh.
  std::erase_if(cross_gradients_,
                [&](const auto& kv) { return !InMixing(exchange_.mixing, kv.first); });
  return out;
}

void Node::AnswerCrossGradients() {
  for (auto& [origin, model] : mailbox_.TakeGradientRequests()) {
    Status st = ValidateModel(*model);
    if (!st.ok()) {
      ++models_rejected_;
      spdlog::warn("refused cross-gradient request from node {}: {}", origin, st.message());
      continue;
    }
    request_params_ = Eigen::Map<const Eigen::VectorXf>(
        model->values.data(), static_cast<Eigen::Index>(model->values.size()));
    trainer_->GradientOnSample(request_params_, &request_grad_);
    proto::CrossGradient g;
    g.origin = origin;
    g.version = model->version;
    g.values.assign(request_grad_.data(), request_grad_.data() + request_grad_.size());
    g.content_hash = proto::ContentHash(g.values);
    proto::Envelope env;
    env.sender = self_id_.load();
    env.body = std::move(g);
    auto encoded = std::make_shared<const proto::EncodedMessage>(proto::Encode(std::move(env)));
    ++gradients_answered_;
    network_->Post([this, to = origin, encoded] { SendToMember(to, encoded, false); });
  }
}

void Node::WriteMetrics(uint64_t round, double loss, std::optional<double> accuracy) {
  MetricsRecord r;
  r.t = Seconds(clock_->Now() - started_);
  r.node = self_id_.load();
  r.round = static_cast<int64_t>(round);
  r.step = trainer_->steps();
  r.loss = loss;
  r.test_accuracy = accuracy;
  r.bytes_in = bytes_in_.load();
  r.bytes_out = bytes_out_.load();
  r.models_received = mailbox_.received();
  r.models_merged = models_merged_.load();
  r.models_rejected = models_rejected_.load();
  r.models_stale = models_stale_.load();
  if (spec_.name == "dimat" || spec_.name == "wm") r.frame = frame_;
  if (spec_.family == algorithms::Family::kCrossGradient) {
    r.gradients_answered = gradients_answered_.load();
  }
  r.models_superseded = mailbox_.superseded() + superseded_net_.load();
  r.neighbours_alive = neighbours_alive_.load();
  r.wait_seconds = last_wait_seconds_;
  metrics_.Write(ToJsonLine(r));
  if (accuracy) {
    spdlog::info("round {} loss {:.4f} test accuracy {:.4f} neighbours {} waited {:.3f}s", round,
                 loss, *accuracy, neighbours_alive_.load(), last_wait_seconds_);
  }
}

}  // namespace grapevine::agent
