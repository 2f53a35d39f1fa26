// Mailbox: what the network thread hands to the training thread — received models,
// and for CGA the requests to compute a cross-gradient and the cross-gradients that
// came back.
//
// Bounded by construction: it holds at most one model, one request and one
// cross-gradient per peer (a newer one replaces an older one that was not taken yet;
// a replaced model is counted as superseded). The trainer waits on it with a deadline
// and never blocks the network thread: the Put*() calls only take a short lock.
//
// After the node lost its id in a join race (agent/core/membership_rejoin.h), Reset()
// drops everything addressed to the old identity and starts a new generation; the
// trainer sees the generation change in TakeAll() and forgets its own per-neighbour
// state. Everything taken together with a generation was put after that Reset().
// ForgetPeer() does the same for one neighbour whose id another agent took over.
//
// Thread-safety: all members are safe to call from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>

#include "agent/core/clock.h"
#include "proto/messages.h"

namespace grapevine::agent {

class Mailbox {
 public:
  using ModelPtr = std::shared_ptr<const proto::ModelPayload>;
  using GradientPtr = std::shared_ptr<const proto::CrossGradient>;

  // Network thread: deposit a model (newest per origin wins).
  void Put(ModelPtr model) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++received_;
      auto& slot = models_[model->origin];
      if (slot) ++superseded_;
      slot = std::move(model);
    }
    cv_.notify_all();
  }

  // Network thread (CGA): `model`'s origin asks for the gradient of that model on our
  // data. The newest request per origin wins.
  void PutGradientRequest(ModelPtr model) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_[model->origin] = std::move(model);
    }
    cv_.notify_all();
  }

  // Network thread (CGA): neighbour `from` answered with a cross-gradient of our model.
  void PutCrossGradient(proto::NodeId from, GradientPtr gradient) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      gradients_[from] = std::move(gradient);
    }
    cv_.notify_all();
  }

  // Trainer: wait on `clock` until `ready(models, gradients)` holds, a gradient
  // request is pending, a Wake() or `deadline` passes.
  template <typename Pred>
  void WaitUntil(core::Clock& clock, core::TimePoint deadline, Pred ready) {
    std::unique_lock<std::mutex> lock(mu_);
    clock.WaitUntil(lock, cv_, deadline,
                    [&] { return woken_ || !requests_.empty() || ready(models_, gradients_); });
    woken_ = false;
  }

  // Trainer: take everything (the mailbox is empty afterwards). `generation`, when
  // given, receives the generation the models belong to.
  std::map<proto::NodeId, ModelPtr> TakeAll(uint64_t* generation = nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    if (generation != nullptr) *generation = generation_;
    return std::exchange(models_, {});
  }

  // Network thread: the node's identity changed (lost id, joined again). Drops every
  // model, request and cross-gradient not taken yet, starts a new generation and wakes
  // the trainer. Counters are kept.
  void Reset() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      models_.clear();
      requests_.clear();
      gradients_.clear();
      ++generation_;
      woken_ = true;
    }
    cv_.notify_all();
  }

  // Network thread: `id` now names another agent (a join race was resolved in favour
  // of another address). Drops what that id sent and queues the id for the trainer,
  // which forgets its per-neighbour state (TakeForgotten) before taking new models.
  void ForgetPeer(proto::NodeId id) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      models_.erase(id);
      requests_.erase(id);
      gradients_.erase(id);
      forgotten_.insert(id);
      woken_ = true;
    }
    cv_.notify_all();
  }

  // Trainer: the ids ForgetPeer() named since the last call.
  std::set<proto::NodeId> TakeForgotten() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(forgotten_, {});
  }

  uint64_t generation() const {
    std::lock_guard<std::mutex> lock(mu_);
    return generation_;
  }

  std::map<proto::NodeId, ModelPtr> TakeGradientRequests() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(requests_, {});
  }

  std::map<proto::NodeId, GradientPtr> TakeCrossGradients() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(gradients_, {});
  }

  // Interrupts a waiting trainer (stop requested, membership changed).
  void Wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      woken_ = true;
    }
    cv_.notify_all();
  }

  uint64_t received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  uint64_t superseded() const {
    std::lock_guard<std::mutex> lock(mu_);
    return superseded_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<proto::NodeId, ModelPtr> models_;
  std::map<proto::NodeId, ModelPtr> requests_;
  std::map<proto::NodeId, GradientPtr> gradients_;
  std::set<proto::NodeId> forgotten_;
  bool woken_ = false;
  uint64_t generation_ = 0;
  uint64_t received_ = 0;
  uint64_t superseded_ = 0;
};

}  // namespace grapevine::agent
