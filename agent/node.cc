#include "agent/node.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <Eigen/Core>
#include <cmath>
#include <algorithm>
#include <random>
#include <thread>
#include <nlohmann/json.hpp>

#include "agent/net/network.h"
#include "learn/data.h"
#include "learn/model.h"
#include "learn/optimizer.h"
#include "learn/schedule.h"
#include "learn/partition.h"
#include "learn/trainer.h"
#include "proto/codec.h"
#include "proto/hash.h"
#include "topology/load.h"

namespace grapevine::agent {

namespace {
constexpr auto kTickPeriod = std::chrono::milliseconds(50);
constexpr auto kJoinTimeout = std::chrono::seconds(30);

Result<std::pair<int, int>> ParseShard(const std::string& text) {
  auto slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument(text);
    int i = std::stoi(text.substr(0, slash));
    int n = std::stoi(text.substr(slash + 1));
    if (n <= 0 || i < 0 || i >= n) throw std::out_of_range(text);
    return std::make_pair(i, n);
  } catch (const std::exception&) {
    return Status::Invalid("bad --shard '" + text + "': expected I/N with 0 <= I < N");
  }
}
}  // namespace

Node::Node(NodeOptions options, NodeEnv env) : options_(std::move(options)) {
  network_ = env.transport;
  if (env.clock != nullptr) clock_ = env.clock;
}

Node::~Node() {
  stop_ = true;
  mailbox_.Wake();
  if (network_) network_->Stop();
}

Result<std::unique_ptr<Node>> Node::Create(NodeOptions options, NodeEnv env) {
  std::unique_ptr<Node> node(new Node(std::move(options), env));
  GV_RETURN_IF_ERROR(node->Setup());
  return node;
}

Status Node::Setup() {
  started_ = clock_->Now();
  GV_RETURN_IF_ERROR(CheckOptions());
  GV_RETURN_IF_ERROR(OpenCheckpoints());
  GV_ASSIGN_OR_RETURN(spec_, algorithms::FindAlgorithm(options_.algo));
  GV_ASSIGN_OR_RETURN(options_.init, algorithms::ResolveInit(spec_, options_.init));
  GV_ASSIGN_OR_RETURN(const algorithms::OptionValues algo_options,
                      algorithms::ResolveOptions(spec_, options_.algo_options));
  algorithm_ = spec_.factory(algo_options);
  spec_.channels = algorithm_->Channels(spec_.channels);  // its options may narrow the row's
  GV_RETURN_IF_ERROR(learn::CheckSampling(options_.sampling));  // made with the trainer
  set_optimizer_policy(spec_.optimizer_policy);
  GV_RETURN_IF_ERROR(BuildTrainerOptions().status());
  GV_RETURN_IF_ERROR(learn::ParsePartition(options_.partition).status());

  if (!options_.secret_file.empty()) {
    GV_ASSIGN_OR_RETURN(secret_, proto::LoadSecretFile(options_.secret_file));
  } else {
    spdlog::warn("no --secret-file: this swarm is open; anyone who reaches the port can join, "
                 "read models and push models");
  }
  GV_RETURN_IF_ERROR(metrics_.Open(options_.metrics_path, /*append=*/resume_.has_value()));
  GV_ASSIGN_OR_RETURN(data_,
                      learn::DataSource::Open(options_.data, options_.seed, options_.eval_samples));
  SetupTransport();
  GV_RETURN_IF_ERROR(options_.topology_path.empty() ? PrepareJoin() : StartFromTopology());

  core::RoundDeadlineConfig deadline;
  deadline.max = std::chrono::milliseconds(options_.deadline_max_ms);
  deadline.initial = std::min<core::Duration>(deadline.initial, deadline.max);
  deadline.staleness = static_cast<uint64_t>(options_.staleness);
  deadline_ = core::RoundDeadline(deadline);
  return Status::Ok();
}

Status Node::CheckOptions() const {
  const bool by_topology = !options_.topology_path.empty();
  const bool by_join = !options_.join_addr.empty();
  if (by_topology == by_join) {
    return Status::Invalid("give either --topology FILE with --node ID, or --join HOST:PORT");
  }
  if (by_join && options_.listen_addr.empty()) {
    return Status::Invalid("--join needs --listen HOST:PORT (where this agent listens)");
  }
  if (options_.rounds <= 0) return Status::Invalid("--rounds must be positive");
  if (options_.local_steps <= 0) return Status::Invalid("--local-steps must be positive");
  if (options_.pretrain_steps < 0) return Status::Invalid("--pretrain-steps must be >= 0");
  if (options_.eval_every <= 0) return Status::Invalid("--eval-every must be positive");
  if (!options_.shard.empty()) GV_RETURN_IF_ERROR(ParseShard(options_.shard).status());
  if (options_.checkpoint_every < 0) return Status::Invalid("--checkpoint-every must be >= 0");
  if (options_.slowdown != 0 && !(options_.slowdown >= 1 && options_.slowdown <= 100)) {
    return Status::Invalid("--slowdown must be a number in [1, 100], not " +
                           std::to_string(options_.slowdown));
  }
  if (learn::IsGlobalSampling(options_.sampling) && by_join) {
    return Status::Invalid("--sampling " + options_.sampling +
                           " needs --topology/--node: the global schedule is drawn over the "
                           "file's shards, and a joiner has no file");
  }
  if (options_.global_batch < 0) return Status::Invalid("--global-batch must be >= 0");
  return Status::Ok();
}

Status Node::OpenCheckpoints() {
  if (options_.checkpoint_dir.empty()) return Status::Ok();
  if (options_.checkpoint_every == 0) options_.checkpoint_every = 5;
  checkpoints_ = std::make_unique<core::CheckpointStore>(options_.checkpoint_dir);
  GV_RETURN_IF_ERROR(checkpoints_->Open());
  GV_ASSIGN_OR_RETURN(core::CheckpointStore::Loaded loaded, checkpoints_->LoadNewest());
  for (const auto& why : loaded.skipped) spdlog::warn("skipping checkpoint {}", why);
  if (!loaded.checkpoint) {
    spdlog::info("no valid checkpoint in {}: fresh start", options_.checkpoint_dir);
    return Status::Ok();
  }
  resume_ = std::move(loaded.checkpoint);
  spdlog::info("resuming from {} (round {}, step {}, incarnation {})", loaded.path, resume_->round,
               resume_->step, resume_->incarnation);
  if (resume_->algo != options_.algo) {
    return Status::Invalid(loaded.path + " was written by --algo " + resume_->algo +
                           ", this agent runs " + options_.algo +
                           " (use another --checkpoint-dir for a new run)");
  }
  return Status::Ok();
}

void Node::SetupTransport() {
  core::Transport::Handlers handlers;
  handlers.on_envelope = [this](const core::LinkPtr& link, proto::Envelope&& env) {
    OnEnvelope(link, std::move(env));
  };
  handlers.on_signal = [this](int sig) {
    spdlog::info("signal {}: leaving the swarm", sig);
    signalled_ = true;
    stop_ = true;
    mailbox_.Wake();
    ready_cv_.notify_all();
  };
  if (network_ == nullptr) {
    net::NetworkOptions net_options;
    net_options.max_frame_bytes = options_.max_frame_bytes;
    net_options.secret = secret_ ? &*secret_ : nullptr;
    owned_transport_ = std::make_unique<net::Network>(net_options);
    network_ = owned_transport_.get();
  }
  network_->SetHandlers(std::move(handlers));

  MembershipDriver::Options member_options;
  member_options.config = options_.membership_preset == "fast" ? core::MembershipConfig::Fast()
                                                               : core::MembershipConfig::Lan();
  member_options.config.join_attach_k = options_.join_k;
  member_options.config.min_degree = options_.min_degree;
  member_options.seed = options_.seed;
  member_options.join_addr = options_.join_addr;
  members_ = std::make_unique<MembershipDriver>(*network_, *clock_,
                                                static_cast<MembershipDriver::Listener&>(*this),
                                                member_options);
}

// --topology FILE --node NAME: this agent is node NAME of the file from the start.
Status Node::StartFromTopology() {
  GV_ASSIGN_OR_RETURN(topology::Topology topo, topology::LoadTopology(options_.topology_path));
  if (topo.directed() && !spec_.directed) {
    std::string directed;
    for (const auto& a : algorithms::AllAlgorithms()) {
      if (a.directed) directed += (directed.empty() ? "" : ", ") + std::string(a.name);
    }
    return Status::Invalid(options_.topology_path + ": --algo " + options_.algo +
                           " needs an undirected graph (use `graph`, not `digraph`; "
                           "algorithms for directed graphs: " + directed + ")");
  }
  auto index = topo.FindNode(options_.node);
  if (!index) {
    return Status::Invalid(options_.topology_path + ": no node '" + options_.node + "'");
  }
  slowdown_ = options_.slowdown > 0 ? options_.slowdown : topo.node(*index).slowdown;
  std::vector<proto::MemberRecord> members;
  for (int i = 0; i < topo.num_nodes(); ++i) {
    if (topo.addr(i).empty()) {
      return Status::Invalid(options_.topology_path + ": node '" + topo.node(i).name +
                             "' has no addr attribute (host:port)");
    }
    members.push_back({static_cast<proto::NodeId>(i), topo.addr(i), proto::MemberState::kAlive,
                       0});
  }
  if (resume_) {
    if (resume_->node != static_cast<proto::NodeId>(*index)) {
      return Status::Invalid("the checkpoints in " + options_.checkpoint_dir + " are node " +
                             std::to_string(resume_->node) + "'s, this agent is node " +
                             std::to_string(*index));
    }
    // Rejoin under our id with a higher incarnation: it overrides the "dead" record the
    // others keep of the process that was killed, and we carry over their incarnations.
    for (auto& m : members) {
      for (const auto& saved : resume_->members) {
        if (saved.id == m.id && saved.addr == m.addr) m.incarnation = saved.incarnation;
      }
      if (m.id == resume_->node) m.incarnation = resume_->incarnation + 1;
    }
  }
  // Membership and failure detection run on the undirected version of the graph.
  std::set<std::pair<proto::NodeId, proto::NodeId>> undirected;
  directed_ = topo.directed();
  groups_.emplace();
  for (int i = 0; i < topo.num_nodes(); ++i) {
    (*groups_)[static_cast<proto::NodeId>(i)] = topo.node(i).group;
  }
  for (const auto& e : topo.edges()) {
    const auto u = static_cast<proto::NodeId>(e.u), v = static_cast<proto::NodeId>(e.v);
    undirected.insert({std::min(u, v), std::max(u, v)});
    if (e.u == *index) out_edges_.insert(v);
    if (e.v == *index) in_edges_.insert(u);
  }
  std::vector<proto::Edge> edges;
  for (const auto& [a, b] : undirected) edges.push_back({a, b});
  self_id_ = static_cast<proto::NodeId>(*index);
  self_addr_ = topo.addr(*index);
  self_name_ = options_.node;
  node_count_ = topo.num_nodes();
  GV_RETURN_IF_ERROR(network_->Listen(self_addr_));
  GV_RETURN_IF_ERROR(
      members_->Bootstrap(self_id_, self_addr_, std::move(members), std::move(edges)));
  int shard_index = *index, shard_count = node_count_;
  if (!options_.shard.empty()) {
    GV_ASSIGN_OR_RETURN(auto shard, ParseShard(options_.shard));
    std::tie(shard_index, shard_count) = shard;
  }
  GV_RETURN_IF_ERROR(SetupTrainer(shard_index, shard_count));
  if (resume_) GV_RETURN_IF_ERROR(LoadResumedTrainer());
  members_->set_fingerprint(fingerprint_);
  joined_ = true;
  return Status::Ok();
}

// --join HOST:PORT: listen, and learn the id from the join reply (the membership is
// created then); the trainer is set up when the state transfer arrives.
Status Node::PrepareJoin() {
  slowdown_ = options_.slowdown > 0 ? options_.slowdown : 1.0;
  GV_RETURN_IF_ERROR(network_->Listen(options_.listen_addr));
  self_addr_ = network_->listen_addr();
  auto model = learn::ParseModel(options_.model, data_.shape(), data_.num_classes());
  if (!model.ok()) return model.status();
  fingerprint_ = (*model)->Fingerprint();
  members_->set_fingerprint(fingerprint_);
  return Status::Ok();
}

Result<learn::TrainerOptions> Node::BuildTrainerOptions() const {
  return learn::TrainerOptionsFrom(options_.recipe);
}

Status Node::SetupTrainer(int shard_index, int shard_count) {
  if (shard_index < 0 || shard_index >= shard_count) {
    return Status::Invalid("partition: node index " + std::to_string(shard_index) +
                           " is outside [0, " + std::to_string(shard_count) + ")");
  }
  // Every shard: ours, and their sizes for a global sample schedule (ugs, lds).
  GV_ASSIGN_OR_RETURN(learn::PartitionSpec partition, learn::ParsePartition(options_.partition));
  GV_ASSIGN_OR_RETURN(std::vector<std::vector<int64_t>> all,
                      learn::PartitionAll(data_.train_labels(), data_.num_classes(), partition,
                                          shard_count, options_.seed));
  learn::SamplingContext c(options_.local_steps);
  if (learn::IsGlobalSampling(options_.sampling)) {
    for (const auto& s : all) c.shard_sizes.push_back(static_cast<int64_t>(s.size()));
    c.self = shard_index;
    c.seed = options_.seed;
    c.global_batch = options_.global_batch;
    c.batch = static_cast<int>(options_.recipe.batch);
  }
  GV_ASSIGN_OR_RETURN(sampling_, learn::ParseSampling(options_.sampling, c));
  std::vector<int64_t> shard = std::move(all[static_cast<size_t>(shard_index)]);
  GV_ASSIGN_OR_RETURN(learn::TrainerOptions t, BuildTrainerOptions());
  GV_ASSIGN_OR_RETURN(std::unique_ptr<learn::Model> model,
                      learn::ParseModel(options_.model, data_.shape(), data_.num_classes()));
  // Cosine schedules need a horizon: the epochs of this shard the run will take.
  const double total_samples = static_cast<double>(
      sampling_->ExamplesInRounds(static_cast<uint64_t>(options_.rounds), options_.recipe.batch));
  t.total_epochs = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(total_samples / std::max<size_t>(1, shard.size()))));
  t.seed = options_.seed * 7919 + static_cast<uint64_t>(shard_index);
  // shared init: every agent starts from one model (D-PSGD style); per-node: its own seed
  // (DIMAT starts its agents that way).
  const uint64_t init_seed = options_.init == "per-node"
                                 ? options_.seed * 1000003 + static_cast<uint64_t>(shard_index)
                                 : options_.seed;
  Eigen::VectorXf init = model->InitParams(init_seed);
  // A joiner's network thread reads fingerprint_ already; PrepareJoin set it from the same
  // spec and shape, so there is nothing to write (and no race) then.
  if (fingerprint_ != model->Fingerprint()) fingerprint_ = model->Fingerprint();
  const int64_t num_params = model->num_params();
  // Only this shard's examples are decoded from the files (learn/data_source.h).
  GV_ASSIGN_OR_RETURN(learn::Dataset examples, data_.LoadTrain(shard));
  GV_ASSIGN_OR_RETURN(trainer_, learn::Trainer::Create(std::move(model), std::move(examples),
                                                       t, std::move(init)));
  shard_index_ = shard_index;
  shard_count_ = shard_count;
  if (slowdown_ > 1) {
    // A straggler: every gradient computation takes slowdown_ times as long. Through
    // the clock, so a simulated swarm's straggler is slow in virtual time.
    trainer_->set_compute_hook([this](std::chrono::nanoseconds compute) {
      clock_->SleepFor(std::chrono::duration_cast<core::Duration>(compute * (slowdown_ - 1)));
    });
    spdlog::info("slowdown {}: each step's compute takes {}x as long", slowdown_, slowdown_);
  }
  spdlog::info("node {} ({}): {} training examples (partition {}, shard {}/{}), model {} "
               "({} parameters), algo {} (init {})",
               self_id_.load(), self_addr_, shard.size(), options_.partition, shard_index,
               shard_count, trainer_->model().spec(), num_params, options_.algo, options_.init);
  const learn::Dataset& test = data_.test();
  spdlog::info("memory: shard {:.1f} MB ({}), evaluation set {:.1f} MB ({} examples), "
               "parameters {:.1f} MB",
               trainer_->shard().MemoryBytes() / 1e6,
               trainer_->shard().compact ? "bytes" : "floats", test.MemoryBytes() / 1e6,
               test.size(), num_params * 4 / 1e6);
  return Status::Ok();
}

int Node::Run() {
  network_->Start();
  network_->Every(kTickPeriod, [this] { OnTick(); });
  if (!options_.join_addr.empty()) {
    network_->Post([this] { members_->StartJoin(); });
    std::unique_lock<std::mutex> lock(mu_);
    bool ok = clock_->WaitUntil(lock, ready_cv_, clock_->Now() + kJoinTimeout, [&] {
      // A resumed joiner has its model from the checkpoint: no state transfer.
      return stop_.load() || !failure_.ok() || (joined_ && (initial_ != nullptr || resume_));
    });
    if (!failure_.ok() || !ok || stop_) {
      Status why = !failure_.ok() ? failure_
                                  : Status::Unavailable("could not join through " +
                                                        options_.join_addr + " within 30 s");
      lock.unlock();
      // A stop asked for (a signal) is quiet; a failure always says what it was.
      if (!failure_.ok() || !stop_) spdlog::error("{}", why.ToString());
      network_->Stop();
      return stop_ && failure_.ok() ? 0 : 1;
    }
    // Admitted: the shard is known now. Reading it takes a few tenths of a second
    // (learn/data_source.h), here rather than on the network thread.
    GV_CHECK(pending_shard_.has_value());
    const auto [shard_index, shard_count] = *pending_shard_;
    lock.unlock();
    Status st = SetupTrainer(shard_index, shard_count);
    if (st.ok() && resume_) {
      st = LoadResumedTrainer();
      if (st.ok()) {
        spdlog::info("joined as node {} (the checkpoint was node {}'s): resuming its round {}, "
                     "shard {}/{}", self_id_.load(), resume_->node, resume_->round, shard_index,
                     shard_count);
      }
    }
    if (!st.ok()) {
      spdlog::error("{}", st.ToString());
      network_->Stop();
      return ExitCodeFor(st);
    }
  }
  std::thread trainer([this] {
    // Virtual time (tests, simulations) only moves while this thread waits.
    clock_->RegisterThread();
    TrainingThread();
    clock_->UnregisterThread();
  });
  trainer.join();

  // Leave gracefully: announce, give the frames a moment to go out, close.
  {
    bool left = false;
    network_->Post([this, &left] {
      members_->Leave();
      std::lock_guard<std::mutex> lock(mu_);
      left = true;
      ready_cv_.notify_all();
    });
    std::unique_lock<std::mutex> lock(mu_);
    clock_->WaitUntil(lock, ready_cv_, clock_->Now() + std::chrono::seconds(2),
                      [&] { return left; });
  }
  clock_->SleepFor(std::chrono::milliseconds(200));
  network_->Stop();
  metrics_.Close();
  std::lock_guard<std::mutex> lock(mu_);
  if (!failure_.ok()) {
    spdlog::error("{}", failure_.ToString());
    return 1;
  }
  return 0;
}

void Node::Fail(const Status& why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failure_.ok()) failure_ = why;
  }
  stop_ = true;
  mailbox_.Wake();
  ready_cv_.notify_all();
}

// ---------------------------------------------------------------- network thread

void Node::OnTick() {
  bytes_in_ = network_->bytes_in();
  bytes_out_ = network_->bytes_out();
  const auto by_traffic = network_->bytes_out_by_traffic();
  for (size_t k = 0; k < by_traffic.size(); ++k) bytes_out_by_traffic_[k] = by_traffic[k];
  superseded_net_ = network_->models_superseded();
  CountTierBytes();
  members_->OnTick();
  if (!Joined()) return;
  PublishView();
  if (!options_.join_addr.empty()) RequestStateTransfer();
}

void Node::CountTierBytes() {
  if (!groups_) return;
  const auto mine = groups_->find(self_id_.load());
  const bool any_group = std::any_of(groups_->begin(), groups_->end(),
                                     [](const auto& kv) { return !kv.second.empty(); });
  if (mine == groups_->end() || !any_group) return;  // no groups, or we are a joiner
  uint64_t local = 0, global = 0;
  for (const auto& [id, bytes] : network_->bytes_out_by_peer()) {
    auto g = groups_->find(id);
    (g != groups_->end() && g->second == mine->second ? local : global) += bytes;
  }
  bytes_out_local_tier_ = local;
  bytes_out_global_tier_ = global;
  has_tiers_ = true;
}

void Node::RequestStateTransfer() {
  if (resume_) return;  // a resumed joiner trains on from its checkpoint
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (initial_) return;
  }
  auto now = clock_->Now();
  if (now - last_model_request_ < std::chrono::seconds(1)) return;
  last_model_request_ = now;
  const core::Membership& m = *members_->membership();
  proto::Envelope req;
  req.sender = self_id_.load();
  req.incarnation = m.incarnation();
  req.body = proto::ModelRequest{proto::ModelPurpose::kStateTransfer};
  auto encoded = std::make_shared<const proto::EncodedMessage>(proto::Encode(req));
  for (auto id : m.LiveNeighbours()) members_->SendTo(id, encoded, false);
}

void Node::KeepLinks() {
  const core::Membership& m = *members_->membership();
  const auto addr = members_->Addresses();
  std::map<proto::NodeId, std::string> keep;
  for (auto id : m.LiveNeighbours()) keep[id] = addr.at(id);
  for (auto id : ExtraLinks()) {
    auto it = addr.find(id);
    if (it != addr.end() && id != self_id_.load()) keep[id] = it->second;
  }
  network_->KeepConnected(keep);
}

std::set<proto::NodeId> Node::ExtraLinks() const {
  std::lock_guard<std::mutex> lock(links_mu_);
  return extra_links_;
}

void Node::LinkTo(std::vector<proto::NodeId> peers) {
  {
    std::lock_guard<std::mutex> lock(links_mu_);
    std::set<proto::NodeId> want(peers.begin(), peers.end());
    if (want == extra_links_) return;
    extra_links_ = std::move(want);
  }
  network_->Post([this] {
    if (Joined()) KeepLinks();
  });
}

void Node::PublishView() {
  const core::Membership& m = *members_->membership();
  auto neighbours = m.LiveNeighbours();
  KeepLinks();
  neighbours_alive_ = static_cast<int>(neighbours.size());
  auto row = m.MixingRow();
  std::lock_guard<std::mutex> lock(mu_);
  if (!view_.published) {
    view_.published = true;
    ready_cv_.notify_all();
  }
  view_.mixing.clear();
  view_.self_weight = 1.0;
  view_.members = m.Members();
  view_.incarnation = m.incarnation();
  view_.out = LiveOut();
  view_.edges = m.LiveEdges();
  view_.in.clear();
  for (auto id : neighbours) {
    if (!directed_ || in_edges_.count(id) > 0) view_.in.push_back(id);
  }
  for (const auto& [id, w] : row) {
    if (id == self_id_.load()) {
      view_.self_weight = w;
    } else if (!directed_ || in_edges_.count(id) > 0) {
      // A digraph: the exchange waits for in-neighbours only (w is not used: the
      // algorithms for digraphs need no symmetric weights).
      view_.mixing.emplace_back(id, w);
    }
  }
}

std::vector<proto::NodeId> Node::LiveOut() const {
  std::vector<proto::NodeId> out;
  for (auto id : members_->membership()->LiveNeighbours()) {
    if (!directed_ || out_edges_.count(id) > 0) out.push_back(id);
  }
  return out;
}

void Node::OnMembershipEvents(const std::vector<core::Event>& events) {
  for (const auto& e : events) {
    switch (e.kind) {
      case core::EventKind::kEdgeAdded:
        spdlog::info("edge {} -- {} added", e.edge.a, e.edge.b);
        break;
      case core::EventKind::kMemberReplaced:
        // The id moved to the winner of a join race: what we hold from the loser
        // (last merged model, version, round) must not gate the winner's models.
        spdlog::info("member {}: now held by another agent (join race)", e.node);
        mailbox_.ForgetPeer(e.node);
        break;
      case core::EventKind::kNeighbourUp:
        spdlog::info("member {}: {}", e.node, core::EventKindName(e.kind));
        SendLastModelTo(e.node);
        break;
      case core::EventKind::kIdConflict:
        break;  // the driver drops the identity next (OnIdentityLost)
      default:
        spdlog::info("member {}: {}", e.node, core::EventKindName(e.kind));
    }
  }
  if (!events.empty() && Joined()) {
    PublishView();
    mailbox_.Wake();  // the set of neighbours to wait for may have changed
  }
}

proto::StatusReply Node::BuildStatus() const {
  proto::StatusReply reply;
  reply.self = self_id_.load();
  reply.algo = options_.algo;
  if (!Joined()) return reply;
  const core::Membership& membership = *members_->membership();
  for (const auto& m : membership.Members()) {
    proto::NodeStatus s;
    s.id = m.id;
    s.addr = m.addr;
    s.state = m.state;
    s.incarnation = m.incarnation;
    if (m.id == self_id_.load()) {
      std::lock_guard<std::mutex> lock(mu_);
      s.round = view_.round;
      s.last_accuracy = view_.last_accuracy;
      s.bytes_in = bytes_in_;
      s.bytes_out = bytes_out_;
    }
    reply.nodes.push_back(std::move(s));
  }
  reply.edges = membership.LiveEdges();
  return reply;
}

void Node::OnEnvelope(const core::LinkPtr& conn, proto::Envelope&& env) {
  if (members_->OnEnvelope(conn, env)) return;  // join request or reply
  const proto::NodeId from = conn ? conn->peer_id() : proto::kNoNode;
  std::visit(
      [&](auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, proto::StatusRequest>) {
          proto::Envelope reply;
          reply.sender = self_id_.load();
          reply.body = BuildStatus();
          network_->Reply(conn, reply);
        } else if constexpr (std::is_same_v<T, proto::ModelRequest>) {
          std::shared_ptr<const proto::EncodedMessage> latest;
          {
            std::lock_guard<std::mutex> lock(mu_);
            latest = view_.latest;
          }
          // Nothing yet, or between identities: the joiner retries.
          if (!latest || from == proto::kNoNode || !Joined()) return;
          network_->Send(from, "", latest);
        } else if constexpr (std::is_same_v<T, proto::ModelPayload>) {
          OnModel(from, std::move(body));
        } else if constexpr (std::is_same_v<T, proto::CrossGradient>) {
          if (from == proto::kNoNode || !Joined()) return;  // only identified peers answer
          if (!spec_.channels.has(algorithms::Channel::kCrossGradientReply)) return;
          mailbox_.PutOnChannel(
              algorithms::Channel::kCrossGradientReply,
              {from, nullptr, std::make_shared<const proto::CrossGradient>(std::move(body))});
        } else if constexpr (std::is_same_v<T, proto::Unimplemented>) {
          spdlog::warn("node {} does not implement message kind {}", from, body.kind);
        }
      },
      env.body);
}

void Node::OnModel(proto::NodeId from, proto::ModelPayload&& body) {
  // Only identified peers push models; between identities nobody is a neighbour.
  if (from == proto::kNoNode || !Joined()) return;
  if (body.origin != from) {
    // Mailbox and merges key models by origin: a model must come from the agent it
    // names (a join-race loser's last model names the winner's id).
    ++models_rejected_;
    spdlog::warn("rejected model from node {}: it names node {} as its origin", from,
                 body.origin);
    return;
  }
  if (body.arch_fingerprint != fingerprint_) {
    ++models_bad_fingerprint_;
    ++models_rejected_;
    spdlog::warn("rejected model from node {}: architecture fingerprint {:x} != ours {:x}", from,
                 body.arch_fingerprint, fingerprint_);
    return;
  }
  auto model = std::make_shared<const proto::ModelPayload>(std::move(body));
  if (!options_.join_addr.empty() && !resume_) {
    // A joiner's first model from a neighbour is its state transfer.
    std::lock_guard<std::mutex> lock(mu_);
    if (!initial_) {
      initial_ = model;
      ready_cv_.notify_all();
      return;
    }
  }
  // Route by channel; the running algorithm's row says which it takes. A
  // cross-gradient request is also its sender's model for the exchange.
  const algorithms::Channel channel = algorithms::ChannelOfModel(model->purpose);
  const bool gossip = spec_.channels.has(algorithms::Channel::kModelGossip) &&
                      (channel == algorithms::Channel::kModelGossip ||
                       channel == algorithms::Channel::kCrossGradientRequest);
  if (channel != algorithms::Channel::kModelGossip && spec_.channels.has(channel)) {
    mailbox_.PutOnChannel(channel, {from, model, nullptr});
  }
  if (gossip) mailbox_.Put(std::move(model));
}

void Node::SendToMember(proto::NodeId id, std::shared_ptr<const proto::EncodedMessage> msg,
                        bool gossip_model) {
  members_->SendTo(id, std::move(msg), gossip_model);
}

void Node::SendLastModelTo(proto::NodeId id) {
  // A neighbour that comes up after we published would otherwise wait for that
  // model until our next publish — with --sync, until the minute-long deadline.
  if (!last_sent_ || !last_sent_to_.insert(id).second) return;  // none, or it has it
  SendToMember(id, last_sent_, true);
}

void Node::OnIdentityLost(proto::NodeId lost) {
  last_sent_.reset();  // stamped with the lost id
  last_sent_to_.clear();
  neighbours_alive_ = 0;
  mailbox_.Reset();  // models, requests and gradients sent to the lost identity
  std::lock_guard<std::mutex> lock(mu_);
  lost_ids_.push_back(lost);
  view_.mixing.clear();  // the trainer merges with nobody until we are back
  view_.self_weight = 1.0;
  view_.rejoining = true;
  joined_ = false;
}

void Node::OnFatal(const Status& why) { Fail(why); }

Status Node::OnAdmitted(const proto::JoinReply& reply, bool rejoin) {
  self_id_ = reply.assigned_id;
  node_count_ = static_cast<int>(reply.members.size());
  if (rejoin) {
    // Same process, data shard, trainer and model: only the identity is new. The
    // trainer notices the mailbox generation and drops the old neighbours' state.
    mailbox_.Reset();
    return Status::Ok();
  }
  int shard_index = static_cast<int>(reply.assigned_id);
  int shard_count = shard_index + 1;
  if (resume_) {
    // The swarm may hand out another id than the checkpoint's (the old one is dead by
    // now): the agent keeps the data shard it trained on, and its model.
    if (resume_->shard_index >= 0) {
      std::tie(shard_index, shard_count) = std::pair(resume_->shard_index, resume_->shard_count);
    } else {
      std::tie(shard_index, shard_count) =
          std::pair(static_cast<int>(resume_->node), static_cast<int>(resume_->node) + 1);
    }
  }
  if (!options_.shard.empty()) std::tie(shard_index, shard_count) = *ParseShard(options_.shard);
  if (shard_index < 0 || shard_index >= shard_count) {
    return Status::Invalid("partition: node index " + std::to_string(shard_index) +
                           " is outside [0, " + std::to_string(shard_count) + ")");
  }
  std::lock_guard<std::mutex> lock(mu_);
  pending_shard_ = {shard_index, shard_count};  // read by Run(): SetupTrainer reads files
  return Status::Ok();
}

Status Node::LoadResumedTrainer() {
  if (resume_->fingerprint != fingerprint_) {
    return Status::Invalid("the checkpoint in " + options_.checkpoint_dir +
                           " is of another model architecture (fingerprint differs from --model " +
                           options_.model + ")");
  }
  return trainer_->LoadState(resume_->trainer)
      .WithContext("checkpoint in " + options_.checkpoint_dir);
}

void Node::OnJoined(const proto::JoinReply& reply, bool rejoin) {
  if (rejoin) {
    proto::NodeId lost = proto::kNoNode;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!lost_ids_.empty()) lost = lost_ids_.back();
    }
    spdlog::info("joined again as node {} (lost id {}) with neighbours [{}]", self_id_.load(),
                 lost, fmt::join(reply.neighbours, ", "));
  } else {
    spdlog::info("joined as node {} with neighbours [{}]", self_id_.load(),
                 fmt::join(reply.neighbours, ", "));
  }
  PublishView();
  {
    std::lock_guard<std::mutex> lock(mu_);
    joined_ = true;
    view_.rejoining = false;
  }
  // State transfer: ask every new neighbour (again each second until a model came);
  // the first valid model wins. After a re-join only when none came before.
  RequestStateTransfer();
  ready_cv_.notify_all();
  mailbox_.Wake();
}

}  // namespace grapevine::agent
