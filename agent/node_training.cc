// The training thread of a Node (see node.h): runs the Algorithm round by round
// (agent/algorithms/algorithm.h), implements its AlgorithmContext (publish, exchanges
// within the adaptive deadline, the other channels), evaluates and writes metrics. Runs on its own thread; it reaches
// the network only through Network::Post and the Mailbox.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "agent/metrics_record.h"
#include "agent/node.h"
#include "base/check.h"
#include "proto/codec.h"
#include "proto/hash.h"

namespace grapevine::agent {

using algorithms::ArrivedModel;

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
    spdlog::info("state transfer: starting from node {}'s model of round {}", initial->origin,
                 initial->round);
  }
  if (resume_) {
    start_round = resume_->round + 1;  // the trainer already holds the checkpoint's state
    resumed_from_ = resume_->round;
    last_completed_ = resume_->round;
  }
  // The start-up figure of docs/memory.md: set-up (data, shard, trainer) plus the wait
  // for the first view, up to the first optimizer step.
  spdlog::info("first training step {:.3f}s after start-up began", Seconds(clock_->Now() - started_));
  if (!initial && !resume_ && options_.pretrain_steps > 0) {
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
  algorithm_->Start(*this, initial.get());
  if (resume_) {
    Status st = algorithm_->LoadState(resume_->algorithm);
    if (!st.ok()) {
      Fail(st.WithContext("checkpoint in " + options_.checkpoint_dir));
      return;
    }
  }
  PublishModel(start_round == 0 ? 0 : start_round - 1, /*send=*/false);  // joiners can fetch it
  // A resumed agent finishes the run it was part of: the same last round as before.
  // A joiner's run ends --rounds after the round it joined at, which only its checkpoint
  // knows; a topology agent's ends at --rounds (so a larger --rounds extends a run).
  const bool joiner = !options_.join_addr.empty();
  const uint64_t end_round =
      resume_ ? (joiner && resume_->end_round > 0 ? resume_->end_round
                                                  : static_cast<uint64_t>(options_.rounds))
              : start_round + static_cast<uint64_t>(options_.rounds);
  end_round_ = end_round;
  if (resume_ && start_round >= end_round) {
    spdlog::info("the checkpoint is of the last round ({}): nothing left to train",
                 resume_->round);
  }
  for (uint64_t round = start_round; round < end_round && !stop_; ++round) {
    RunRound(round, round + 1 == end_round);
    if (stop_) break;
    last_completed_ = round;
    if (checkpoints_ && ((round + 1) % static_cast<uint64_t>(options_.checkpoint_every) == 0 ||
                         round + 1 == end_round)) {
      WriteCheckpoint(round);
    }
  }
  // SIGINT/SIGTERM: keep what was trained (the rounds since the last checkpoint).
  if (checkpoints_ && signalled_ && last_completed_) WriteCheckpoint(*last_completed_);
  // Stay reachable a little longer: slower neighbours still merge our last model.
  auto linger_until = clock_->Now() +
                      std::chrono::milliseconds(options_.linger_ms);
  while (!stop_ && clock_->Now() < linger_until) {
    mailbox_.WaitUntil(*clock_, std::min(linger_until, clock_->Now() + kCollectSlice),
                       [](const auto&) { return false; });
    mailbox_.TakeAll();
    algorithm_->Serve(*this);  // e.g. answer neighbours still finishing their steps
    for (int c = 0; c < algorithms::kChannelCount; ++c) {
      mailbox_.TakeChannel(static_cast<algorithms::Channel>(c));  // what Serve left
    }
  }
}

void Node::WriteCheckpoint(uint64_t round) {
  if (trainer_->step_pending()) return;  // stopped between a gradient and its step (cga)
  core::Checkpoint c;
  c.node = self_id_.load();
  c.round = round;
  c.step = trainer_->steps();
  c.algo = options_.algo;
  c.fingerprint = fingerprint_;
  c.next_round = round + 1;
  c.shard_index = shard_index_;
  c.shard_count = shard_count_;
  c.end_round = std::max(end_round_, round + 1);
  c.trainer = trainer_->SaveState();
  c.algorithm = algorithm_->SaveState();
  {
    std::lock_guard<std::mutex> lock(mu_);
    c.members = view_.members;
    c.incarnation = view_.incarnation;
  }
  Status st = checkpoints_->Write(c);
  if (st.ok()) {
    spdlog::info("checkpoint of round {} written to {}", round, checkpoints_->dir());
  } else {
    // Training goes on; the previous checkpoint is still there.
    spdlog::warn("checkpoint of round {} not written: {}", round, st.message());
  }
}

void Node::RunRound(uint64_t round, bool last) {
  learn::RoundPlan plan = sampling_->Plan(round);
  if (!plan.per_step.empty()) trainer_->PlanSteps(std::move(plan.per_step));
  Result<double> loss = algorithm_->RunRound(*this, round, plan.steps);
  if (!loss.ok()) {
    Fail(loss.status());
    return;
  }
  if (stop_) return;
  last_loss_ = *loss;

  std::optional<double> accuracy;
  if ((round + 1) % static_cast<uint64_t>(options_.eval_every) == 0 || last) {
    // data_ holds only the first --eval-samples test examples (all when 0).
    accuracy = trainer_->Evaluate(data_.test()).accuracy;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    view_.round = round;
    if (accuracy) view_.last_accuracy = *accuracy;
  }
  WriteMetrics(round, last_loss_, accuracy);
}

void Node::CompleteModel(proto::ModelPayload* payload, proto::ModelPurpose purpose) const {
  payload->origin = self_id_.load();
  payload->purpose = purpose;
  payload->version = static_cast<uint64_t>(trainer_->steps());
  payload->samples_seen = static_cast<uint64_t>(trainer_->samples_seen());
  payload->arch_fingerprint = fingerprint_;
  payload->train_loss = static_cast<float>(last_loss_);
  algorithm_->Stamp(payload);
  // A compressed payload's hash is the sender's to set (choco: of its public copy after
  // the update); it is not a hash of `values`, which it does not carry.
  if (payload->codec == proto::TensorCodec::kFloat32) {
    payload->content_hash = proto::ContentHash(payload->values);
  }
}

void Node::PublishModel(uint64_t round, bool send, proto::ModelPurpose purpose) {
  proto::ModelPayload payload;
  const Eigen::VectorXf& x = trainer_->params();
  payload.round = round;
  payload.values.assign(x.data(), x.data() + x.size());
  CompleteModel(&payload, purpose);
  const proto::NodeId origin = payload.origin;
  proto::Envelope env;
  env.sender = origin;
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
    for (auto id : LiveOut()) {
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
  // Wait for every live in-neighbour's model of this tick, up to the adaptive deadline
  // (--sync: up to a minute). Whatever arrived by then is merged if it is newer than
  // what was merged from that neighbour before and within the staleness bound.
  OpenExchange(tick, std::nullopt);
}

void Node::BeginExchangeWith(uint64_t tick, std::vector<proto::NodeId> peers) {
  OpenExchange(tick, std::move(peers));
}

void Node::OpenExchange(uint64_t tick, std::optional<std::vector<proto::NodeId>> peers) {
  exchange_ = PendingExchange{};
  exchange_.tick = tick;
  exchange_.start = clock_->Now();
  exchange_.peers = std::move(peers);
  {
    std::lock_guard<std::mutex> lock(mu_);
    exchange_.mixing = ExchangePeersLocked();
  }
  std::vector<proto::NodeId> expected;
  for (const auto& [id, w] : exchange_.mixing) expected.push_back(id);
  deadline_.StartRound(tick, expected, exchange_.start);
  exchange_.deadline = options_.sync ? exchange_.start + std::chrono::seconds(60)
                                     : deadline_.DeadlineAt();
}

std::vector<std::pair<proto::NodeId, double>> Node::ExchangePeersLocked() const {
  if (!exchange_.peers) return view_.mixing;
  std::vector<std::pair<proto::NodeId, double>> out;
  for (proto::NodeId id : *exchange_.peers) {
    if (id == self_id_.load()) continue;
    for (const auto& r : view_.members) {
      if (r.id == id &&
          (r.state == proto::MemberState::kAlive || r.state == proto::MemberState::kSuspect)) {
        out.emplace_back(id, 0.0);
        break;
      }
    }
  }
  return out;
}

bool Node::ModelCurrent(proto::NodeId id, const Mailbox::ModelPtr* boxed) const {
  // Current: we hold its model of this tick or newer — just arrived, or merged before
  // because that neighbour was ahead of us. An algorithm without gossip models waits
  // for none.
  if (!spec_.channels.has(algorithms::Channel::kModelGossip)) return true;
  const uint64_t tick = exchange_.tick;
  auto have = exchange_.got.find(id);
  if (have != exchange_.got.end() && have->second->round >= tick) return true;
  auto merged = merged_.find(id);
  if (merged != merged_.end() && merged->second->round >= tick) return true;
  return boxed != nullptr && (*boxed)->round >= tick;
}

std::optional<std::vector<ArrivedModel>> Node::PollExchange(bool block,
                                                            const NeighbourDone& also_done) {
  PendingExchange& ex = exchange_;
  auto done = [&](proto::NodeId id, const Mailbox::ModelPtr* boxed) {
    return ModelCurrent(id, boxed) && (!also_done || also_done(id));
  };
  bool rejoining = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rejoining = view_.rejoining;
  }
  auto now = clock_->Now();
  if (block) {
    // Between identities there is nobody to wait for, but no deadline either: the
    // exchange waits until we are a member again (ForgetOldIdentity restarts its clock).
    // A message on another channel ends the wait early: the algorithm takes it.
    const auto until =
        rejoining ? now + kCollectSlice : std::min(ex.deadline, now + kCollectSlice);
    mailbox_.WaitUntil(*clock_, until, [&](const std::map<proto::NodeId, Mailbox::ModelPtr>& box) {
      if (rejoining) return false;  // an empty mixing is not "all in"
      for (const auto& [id, w] : ex.mixing) {
        auto it = box.find(id);
        if (!done(id, it == box.end() ? nullptr : &it->second)) return false;
      }
      return true;
    });
    now = clock_->Now();
  }
  uint64_t generation = 0;
  TakeArrivals(now, &generation);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ex.mixing = ExchangePeersLocked();  // neighbours may have died or joined meanwhile
    rejoining = view_.rejoining;
  }
  if (rejoining && !stop_) return std::nullopt;  // not training alone meanwhile
  bool all = true;
  for (const auto& [id, w] : ex.mixing) all = all && done(id, nullptr);
  if (!all && now < ex.deadline && !stop_) return std::nullopt;
  last_wait_seconds_ = Seconds(now - ex.start);
  if (!all && spdlog::should_log(spdlog::level::debug)) {
    std::string missing;
    for (const auto& [id, w] : ex.mixing) {
      if (!done(id, nullptr)) missing += " " + std::to_string(id);
    }
    spdlog::debug("exchange {} closed at the deadline after {:.3f}s, missing{}", ex.tick,
                  last_wait_seconds_, missing);
  }
  std::vector<ArrivedModel> out = CloseExchange();
  if (mailbox_.generation() != generation) {
    // We lost our id while collecting: these models were sent to the old identity.
    // The next poll forgets its state and waits for the new neighbours.
    return std::nullopt;
  }
  // Forget neighbours that left, so a returning id starts fresh.
  std::erase_if(merged_, [&](const auto& kv) { return !InMixing(ex.mixing, kv.first); });
  return out;
}

void Node::TakeArrivals(core::TimePoint now, uint64_t* generation) {
  for (proto::NodeId id : mailbox_.TakeForgotten()) {
    // Another agent holds this id now: its versions and rounds start elsewhere.
    merged_.erase(id);
    exchange_.got.erase(id);
    algorithm_->OnPeerReplaced(id);
  }
  auto arrived = mailbox_.TakeAll(generation);
  if (*generation != mailbox_generation_) ForgetOldIdentity(*generation);
  for (auto& [id, m] : arrived) {
    deadline_.OnArrival(id, m->round, now);
    auto merged = merged_.find(id);
    if (merged != merged_.end() && m->version <= merged->second->version) continue;
    exchange_.got[id] = m;
  }
}

void Node::RecordNeighbourDistance(const std::vector<ArrivedModel>& models) {
  const Eigen::VectorXf& self = trainer_->params();
  std::optional<double> largest;
  for (const auto& m : models) {
    if (m.model->values.size() != static_cast<size_t>(self.size())) continue;
    largest = std::max(largest.value_or(0.0), static_cast<double>((m.params() - self).norm()));
  }
  if (largest) last_neighbour_distance_ = largest;
}

std::vector<ArrivedModel> Node::CloseExchange() {
  const uint64_t tick = exchange_.tick;
  std::vector<ArrivedModel> out;
  for (const auto& [id, w] : exchange_.mixing) {
    auto it = exchange_.got.find(id);
    if (it == exchange_.got.end()) {
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
  exchange_.got.clear();
  RecordNeighbourDistance(out);
  return out;
}

void Node::ForgetOldIdentity(uint64_t generation) {
  mailbox_generation_ = generation;
  // The open exchange starts over with the new neighbours and a full deadline.
  const auto now = clock_->Now();
  exchange_.deadline = now + (exchange_.deadline - exchange_.start);
  exchange_.start = now;
  exchange_.got.clear();
  merged_.clear();
  std::vector<proto::NodeId> lost;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lost = lost_ids_;
  }
  const proto::NodeId now_id = self_id_.load();
  const bool joined = std::find(lost.begin(), lost.end(), now_id) == lost.end();
  if (joined) algorithm_->OnNewIdentity(lost, now_id);
  spdlog::info("training: forgot the neighbours of the lost id{}",
               joined ? fmt::format("; now node {}", now_id) : std::string(" (joining again)"));
}

void Node::RecordMerged(const std::vector<ArrivedModel>& models) {
  for (const auto& m : models) {
    merged_[m.model->origin] = m.model;
    ++models_merged_;
  }
}

double Node::SelfWeight() const {
  double mass = 0;
  for (const auto& [id, w] : exchange_.mixing) mass += w;
  return std::max(0.0, 1.0 - mass);
}

std::vector<proto::NodeId> Node::OutNeighbours() const {
  std::lock_guard<std::mutex> lock(mu_);
  return view_.out;
}

std::vector<proto::Edge> Node::LiveEdges() const {
  std::lock_guard<std::mutex> lock(mu_);
  return view_.edges;
}

std::vector<proto::MemberRecord> Node::LiveMembers() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<proto::MemberRecord> out;
  for (const auto& r : view_.members) {
    if (r.state == proto::MemberState::kAlive || r.state == proto::MemberState::kSuspect) {
      out.push_back(r);
    }
  }
  return out;
}

std::vector<proto::NodeId> Node::InNeighbours() const {
  std::lock_guard<std::mutex> lock(mu_);
  return view_.in;
}

Status Node::ValidateChannelMessage(const algorithms::ChannelMessage& m) const {
  if (m.gradient) {
    const proto::CrossGradient& g = *m.gradient;
    if (g.origin != self_id_.load()) {
      return Status::Invalid("cross-gradient is for node " + std::to_string(g.origin) +
                             ", not for us");
    }
    if (g.codec != proto::TensorCodec::kFloat32) {
      // Compressed (cga --compress): the blocks are checked where they are decoded.
      if (!g.values.empty() || g.packed.empty()) {
        return Status::Invalid("compressed cross-gradient without packed blocks");
      }
      if (!std::isfinite(g.codec_param)) return Status::Invalid("codec parameter is NaN or Inf");
      if (proto::ContentHashBytes(g.packed) != g.content_hash) {
        return Status::Invalid("content hash mismatch");
      }
      return Status::Ok();
    }
    return CheckTensor("cross-gradient", g.codec, g.values, g.content_hash,
                       trainer_->params().size());
  }
  const proto::ModelPayload& p = *m.model;
  if (p.purpose == proto::ModelPurpose::kChocoUpdate ||
      p.purpose == proto::ModelPurpose::kWorkerUpdate ||
      p.purpose == proto::ModelPurpose::kLeaderUpdate) {
    // The codec blocks are checked where they are decoded (the plug-in, which knows the
    // codec); here only what every update must have.
    if (p.arch_fingerprint != fingerprint_) return Status::Invalid("architecture fingerprint differs");
    if (p.codec == proto::TensorCodec::kFloat32 || !p.values.empty() || p.packed.empty()) {
      return Status::Invalid("compressed update without a codec and packed blocks");
    }
    if (!std::isfinite(p.codec_param)) return Status::Invalid("codec parameter is NaN or Inf");
    return Status::Ok();
  }
  if ((p.purpose == proto::ModelPurpose::kPublicCopy ||
       p.purpose == proto::ModelPurpose::kGroupModel) &&
      p.values.empty()) {
    return Status::Ok();  // a request for our public copy, or for the group model
  }
  GV_RETURN_IF_ERROR(ValidateModel(p));
  const double w = p.push_weight;
  if (!(std::isfinite(w) && w > 0)) {
    return Status::Invalid("push-sum weight " + std::to_string(w) + " is not finite and > 0");
  }
  return Status::Ok();
}

std::vector<algorithms::ChannelMessage> Node::Take(algorithms::Channel channel) {
  GV_CHECK(channel != algorithms::Channel::kModelGossip);
  std::vector<algorithms::ChannelMessage> out;
  const auto now = clock_->Now();
  for (auto& m : mailbox_.TakeChannel(channel)) {
    Status st = ValidateChannelMessage(m);
    if (!st.ok()) {
      ++models_rejected_;
      spdlog::warn("rejected {} from node {}: {}", algorithms::ChannelName(channel), m.from,
                   st.message());
      continue;
    }
    if (m.model && channel != algorithms::Channel::kCrossGradientRequest) {
      deadline_.OnArrival(m.from, m.model->round, now);  // the channel is the exchange
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<proto::NodeId> Node::Send(algorithms::Channel channel,
                                      std::span<const proto::NodeId> to, proto::Body body) {
  if (auto* model = std::get_if<proto::ModelPayload>(&body)) {
    // The caller's purpose when it belongs to this channel (compressed gossip carries
    // updates and public copies), else the channel's own.
    CompleteModel(model, algorithms::ChannelOfModel(model->purpose) == channel
                             ? model->purpose
                             : algorithms::PurposeOf(channel));
  } else if (auto* g = std::get_if<proto::CrossGradient>(&body)) {
    g->content_hash = g->codec == proto::TensorCodec::kFloat32 ? proto::ContentHash(g->values)
                                                               : proto::ContentHashBytes(g->packed);
  }
  const proto::NodeId origin = self_id_.load();
  proto::Envelope env;
  env.sender = origin;
  env.body = std::move(body);
  auto encoded = std::make_shared<const proto::EncodedMessage>(proto::Encode(std::move(env)));
  // Every message counts on a keep-every channel (push-sum mass): hand it only to a
  // live neighbour with an open link, and tell the caller exactly who got it. The
  // network thread decides; if it does not answer in time the send is called off
  // there, so "not handed over" stays true.
  const bool open_link = algorithms::NeedsOpenLink(channel);
  const bool supersedes = algorithms::SupersedesQueued(channel);
  struct Handover {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false, abandoned = false;
    std::vector<proto::NodeId> sent;
  };
  auto h = std::make_shared<Handover>();
  network_->Post([this, h, encoded, origin, open_link, supersedes, ids = std::vector(to.begin(), to.end())] {
    std::lock_guard<std::mutex> lock(h->mu);
    if (h->abandoned || !Joined() || members_->membership()->self() != origin) {
      h->done = true;
      h->cv.notify_all();
      return;
    }
    const std::vector<proto::NodeId> live = LiveOut();
    const std::set<proto::NodeId> links = ExtraLinks();
    std::map<proto::NodeId, std::string> addr = members_->Addresses();
    for (proto::NodeId id : ids) {
      if (addr.count(id) == 0) continue;
      if (open_link && ((std::find(live.begin(), live.end(), id) == live.end() &&
                         links.count(id) == 0) ||
                    !network_->Connected(id))) {
        continue;
      }
      network_->Send(id, addr[id], encoded, supersedes);
      h->sent.push_back(id);
    }
    h->done = true;
    h->cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(h->mu);
  if (!clock_->WaitUntil(lock, h->cv, clock_->Now() + std::chrono::seconds(2),
                        [&] { return h->done; })) {
    h->abandoned = true;
    return {};
  }
  return h->sent;
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
  using proto::TrafficClass;
  auto traffic = [&](TrafficClass c) { return bytes_out_by_traffic_[static_cast<size_t>(c)].load(); };
  r.bytes_out_model = traffic(TrafficClass::kModel);
  r.bytes_out_compressed = traffic(TrafficClass::kCompressed);
  r.bytes_out_gradient = traffic(TrafficClass::kGradient);
  r.bytes_out_control = traffic(TrafficClass::kControl);
  if (has_tiers_) {
    r.bytes_out_local_tier = bytes_out_local_tier_.load();
    r.bytes_out_global_tier = bytes_out_global_tier_.load();
  }
  r.neighbour_distance = last_neighbour_distance_;
  last_neighbour_distance_.reset();
  r.models_received = mailbox_.received();
  r.models_merged = models_merged_.load();
  r.models_rejected = models_rejected_.load();
  r.models_stale = models_stale_.load();
  for (const auto& m : algorithm_->Metrics()) {
    const double value = std::visit([](auto v) { return static_cast<double>(v); }, m.value);
    // Every plug-in metric is a field of the record (agent/metrics_record.h).
    GV_CHECK_MSG(SetMetricsField(r, m.name, value),
                 "a plug-in metric is not a field of MetricsRecord");
  }
  r.models_superseded = mailbox_.superseded() + superseded_net_.load();
  r.neighbours_alive = neighbours_alive_.load();
  r.wait_seconds = last_wait_seconds_;
  if (resumed_from_) r.resumed_from = static_cast<int64_t>(*resumed_from_);
  if (slowdown_ != 1.0) r.slowdown = slowdown_;
  resumed_from_.reset();
  metrics_.Write(ToJsonLine(r));
  if (accuracy) {
    spdlog::info("round {} loss {:.4f} test accuracy {:.4f} neighbours {} waited {:.3f}s", round,
                 loss, *accuracy, neighbours_alive_.load(), last_wait_seconds_);
  }
}

}  // namespace grapevine::agent
